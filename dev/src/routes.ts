/**
 * The gateway's route table, as nginx/templates/default.conf.template has
 * it. The dev gateway is built from this table; the gateway tests check the
 * same expectations against both.
 */
export type Upstream = 'auth' | 'billing';

export interface Route {
  /**
   * Path prefix: one ending with "/" matches every path under it (nginx
   * `location /v1/`); one without matches itself and what is under it at a
   * segment boundary (`location = /admin` + `location /admin/`), or only
   * itself when `exact` (`location = /.well-known/jwks.json`).
   */
  prefix: string;
  exact?: boolean;
  upstream: Upstream;
  /** Largest request body the route accepts, in bytes. */
  bodyLimit: number;
}

export const ROUTES: Route[] = [
  { prefix: '/v1/', upstream: 'auth', bodyLimit: 64 * 1024 },
  { prefix: '/.well-known/jwks.json', upstream: 'auth', bodyLimit: 64 * 1024, exact: true },
  { prefix: '/swagger', upstream: 'auth', bodyLimit: 64 * 1024 },
  { prefix: '/api/v1/', upstream: 'billing', bodyLimit: 1024 * 1024 },
  { prefix: '/admin', upstream: 'billing', bodyLimit: 1024 * 1024 },
  // The home page, its script, and a page per error code (problem `type`s point there).
  { prefix: '/', upstream: 'billing', bodyLimit: 64 * 1024, exact: true },
  { prefix: '/site/', upstream: 'billing', bodyLimit: 64 * 1024 },
  { prefix: '/problems', upstream: 'billing', bodyLimit: 64 * 1024 },
];

/** Never routed: the services' internal API (`/internal` and everything under it). */
export const FORBIDDEN_PREFIX = '/internal/';

/** The route a (normalized) path takes, as nginx picks its location; undefined: none (404). */
export function routeFor(path: string): Route | undefined {
  return ROUTES.find((r) => {
    if (r.exact) return path === r.prefix;
    if (r.prefix.endsWith('/')) return path.startsWith(r.prefix);
    return path === r.prefix || path.startsWith(`${r.prefix}/`);
  });
}

export function isForbidden(path: string): boolean {
  return path === FORBIDDEN_PREFIX.slice(0, -1) || path.startsWith(FORBIDDEN_PREFIX);
}

/**
 * The path as nginx matches locations against it: percent-decoded, runs of
 * slashes merged, "." and ".." segments resolved (null when ".." climbs above
 * the root or the encoding is invalid: nginx answers 400 then).
 */
export function normalizePath(rawPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
      if (last) out.push('');
    } else if (segment === '.') {
      if (last) out.push('');
    } else if (segment !== '' || last) out.push(segment);
  }
  return `/${out.join('/')}`;
}
