/**
 * A `/v1` operation as data: method, path and a handler over the domain. Each
 * resource folder exports its table; the HTTP layer (routes/v1) registers them
 * all, so no resource module imports Fastify and nothing imports back up.
 */
import type { Emulator, RequestInfo } from './emulator.js';
import type { Params } from './params.js';

export interface HandlerContext {
  em: Emulator;
  params: Params;
  /** The `:id` path parameter ('' when the path has none). */
  id: string;
  /** Every path parameter by name (`:id`, `:sub`, ...). */
  path: Record<string, string>;
  req: RequestInfo;
}

export type Handler = (ctx: HandlerContext) => object;

export type Method = 'GET' | 'POST' | 'DELETE';

export interface Operation {
  method: Method;
  url: string;
  handler: Handler;
}

export function op(method: Method, url: string, handler: Handler): Operation {
  return { method, url, handler };
}
