/**
 * The admin panel's login through auth (ADMIN_REQUIRE_MFA): the password at
 * POST /v1/auth/login, then the code at POST /v1/auth/login/mfa. The panel
 * lets in only a user whose verified access token carries the admin role and
 * who went through a second factor; auth's own rate limit and lockout apply
 * on top of the panel's.
 */
import type { TokenVerifier } from '@tollgate/auth-client';

export type AdminLoginOutcome =
  | { kind: 'admin'; login: string }
  | { kind: 'code_needed'; ticket: string }
  | { kind: 'invalid' }
  | { kind: 'not_admin' }
  /** Right password, but no TOTP to ask for (none set up, or only passkeys, which the panel cannot take). */
  | { kind: 'mfa_setup_required' }
  | { kind: 'ticket_invalid' }
  | { kind: 'locked'; retryAfterSeconds: number };

export interface AuthAdminLogin {
  password(login: string, password: string, ip: string): Promise<AdminLoginOutcome>;
  code(ticket: string, code: string, ip: string): Promise<AdminLoginOutcome>;
}

export function createAuthAdminLogin(options: {
  authUrl: string;
  timeoutMs: number;
  verifier: TokenVerifier;
}): AuthAdminLogin {
  async function post(path: string, body: object, ip: string) {
    const response = await fetch(`${options.authUrl}${path}`, {
      method: 'POST',
      // Auth's lockout counts per address: the admin's, not billing's.
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const data = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, data };
  }

  async function adminFrom(accessToken: unknown): Promise<AdminLoginOutcome> {
    const claims = await options.verifier.verifyAccessToken(String(accessToken));
    if (!claims.roles.includes('admin')) return { kind: 'not_admin' };
    return { kind: 'admin', login: claims.login ?? claims.sub };
  }

  function failure(status: number, data: Record<string, unknown>): AdminLoginOutcome {
    if (status === 429)
      return { kind: 'locked', retryAfterSeconds: Number(data.retryAfter ?? data.retry_after ?? 60) };
    if (data.code === 'mfa_ticket_invalid') return { kind: 'ticket_invalid' };
    return { kind: 'invalid' };
  }

  return {
    async password(login, password, ip) {
      const { status, data } = await post('/v1/auth/login', { login, password }, ip);
      if (status === 200) {
        // Logged in without a second factor: it has none; an admin must set one up first.
        const outcome = await adminFrom(data.access_token);
        return outcome.kind === 'admin' ? { kind: 'mfa_setup_required' } : outcome;
      }
      if (data.code === 'mfa_required') {
        const methods = Array.isArray(data.methods) ? data.methods : ['totp'];
        if (!methods.includes('totp')) return { kind: 'mfa_setup_required' };
        return { kind: 'code_needed', ticket: String(data.mfa_ticket) };
      }
      return failure(status, data);
    },
    async code(ticket, code, ip) {
      const { status, data } = await post('/v1/auth/login/mfa', { ticket, code }, ip);
      if (status === 200) return adminFrom(data.access_token);
      return failure(status, data);
    },
  };
}
