/**
 * The gateway's route table, as nginx/templates/default.conf.template has
 * it. The dev gateway is built from this table; the gateway tests check the
 * same expectations against both.
 */
export type Upstream = 'auth' | 'billing';

export interface Route {
  /** Path prefix (matched at a path-segment boundary, except where it ends with "/"). */
  prefix: string;
  upstream: Upstream;
  /** Largest request body the route accepts, in bytes. */
  bodyLimit: number;
}

export const ROUTES: Route[] = [
  { prefix: '/v1/', upstream: 'auth', bodyLimit: 64 * 1024 },
  { prefix: '/.well-known/jwks.json', upstream: 'auth', bodyLimit: 64 * 1024 },
  { prefix: '/swagger', upstream: 'auth', bodyLimit: 64 * 1024 },
  { prefix: '/api/v1/', upstream: 'billing', bodyLimit: 1024 * 1024 },
  { prefix: '/admin', upstream: 'billing', bodyLimit: 1024 * 1024 },
];

/** Never routed: the services' internal API. */
export const FORBIDDEN_PREFIX = '/internal/';
