import type { FastifyRequest } from 'fastify';

/** A route's rate limit, as @fastify/rate-limit takes it in a route's config. */
export interface RouteRateLimit {
  max: number;
  timeWindow: string;
}

/** Who is asking, as login history and sessions record it. */
export function clientInfo(request: Pick<FastifyRequest, 'ip' | 'headers'>) {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : undefined,
  };
}
