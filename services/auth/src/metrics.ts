/**
 * Auth's own Prometheus series (ADR 0016), beside the HTTP RED and process
 * metrics every service has (@tollgate/service-kit). The domain is not
 * changed to count: the service, the verifier and the lockout are wrapped
 * where buildApp wires them.
 */
import type { TokenVerifier } from '@tollgate/auth-client';
import { withVerificationObserver } from '@tollgate/auth-client';
import type { LoginLockout } from '@tollgate/login-guard';
import { Counter, createMetricsRegistry, ProblemError, type Registry } from '@tollgate/service-kit';

export function createAuthMetrics(registry: Registry = createMetricsRegistry('auth')) {
  const logins = new Counter({
    name: 'auth_logins_total',
    help: 'Login attempts by outcome: success, or the problem code answered (invalid_credentials, account_locked, ...)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'auth_lockouts_total',
    help: 'Accounts locked after repeated failed logins (each lock counted once, when it starts)',
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'auth_token_refreshes_total',
    help: 'Refresh-token exchanges by outcome: success, or the problem code answered',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const refreshReuse = new Counter({
    name: 'auth_refresh_token_reuse_total',
    help: 'Refresh tokens presented a second time (a stolen or replayed token): the session was ended',
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'auth_token_verifications_total',
    help: 'Token verifications by kind (access, service) and outcome (valid, token_expired, token_revoked, ...)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['success', 'invalid_credentials', 'account_locked']) logins.inc({ outcome }, 0);
  refreshReuse.inc(0);
  lockouts.inc(0);

  const outcomeOf = (error: unknown) => (error instanceof ProblemError ? error.code : 'error');

  /** Counts what `fn` answers: success, or the problem code it threw. */
  function counted<A extends unknown[], R>(
    fn: (...args: A) => Promise<R>,
    count: (outcome: string) => void,
  ): (...args: A) => Promise<R> {
    return async (...args) => {
      try {
        const result = await fn(...args);
        count('success');
        return result;
      } catch (error) {
        count(outcomeOf(error));
        throw error;
      }
    };
  }

  return {
    registry,
    /** The auth service with login and refresh counted. */
    instrumentAuth<
      S extends { login: (...a: never[]) => Promise<unknown>; refresh: (...a: never[]) => Promise<unknown> },
    >(service: S): S {
      return {
        ...service,
        login: counted(service.login, (outcome) => logins.inc({ outcome })),
        refresh: counted(service.refresh, (outcome) => {
          refreshes.inc({ outcome });
          if (outcome === 'refresh_token_reused') refreshReuse.inc();
        }),
      };
    },
    instrumentLockout(lockout: LoginLockout): LoginLockout {
      return {
        ...lockout,
        async recordFailure(subject, ip) {
          const lockedSeconds = await lockout.recordFailure(subject, ip);
          if (lockedSeconds > 0) lockouts.inc();
          return lockedSeconds;
        },
      };
    },
    instrumentVerifier(verifier: TokenVerifier): TokenVerifier {
      return withVerificationObserver(verifier, (kind, outcome) => verifications.inc({ kind, outcome }));
    },
  };
}

export type AuthMetrics = ReturnType<typeof createAuthMetrics>;
