import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export type ReadinessCheck = () => Promise<void>;

export interface HealthOptions {
  /** Named dependency checks; ready means every one resolves. */
  checks: Record<string, ReadinessCheck>;
  /**
   * Dependencies the service can work without (in a reduced way): reported
   * under `checks`, and when one fails the status is `degraded` but the
   * answer stays 200, so the instance is not taken out of rotation for it.
   */
  degradedChecks?: Record<string, ReadinessCheck>;
  /** Longest a single check may take before it counts as failed (ms). */
  timeoutMs?: number;
}

const CheckResult = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok', 'fail'] }, error: { type: 'string' } },
  required: ['status'],
} as const;

const HealthBody = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'fail'] },
    checks: { type: 'object', additionalProperties: CheckResult },
  },
  required: ['status'],
} as const;

/** GET /health/live (the process answers) and GET /health/ready (its dependencies answer). */
export const healthRoutes = fp<HealthOptions>(
  async (app: FastifyInstance, options) => {
    const timeoutMs = options.timeoutMs ?? 2_000;
    app.get(
      '/health/live',
      { schema: { tags: ['health'], summary: 'Liveness', response: { 200: HealthBody } }, logLevel: 'warn' },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/health/ready',
      {
        schema: { tags: ['health'], summary: 'Readiness', response: { 200: HealthBody, 503: HealthBody } },
        logLevel: 'warn',
      },
      async (_request, reply) => {
        const run = (checks: Record<string, ReadinessCheck>) =>
          Promise.all(
            Object.entries(checks).map(async ([name, check]) => {
              let timer: NodeJS.Timeout | undefined;
              try {
                await Promise.race([
                  check(),
                  new Promise((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
                  }),
                ]);
                return [name, { status: 'ok' }] as const;
              } catch (error) {
                return [name, { status: 'fail', error: (error as Error).message }] as const;
              } finally {
                clearTimeout(timer);
              }
            }),
          );
        const [required, optional] = await Promise.all([
          run(options.checks),
          run(options.degradedChecks ?? {}),
        ]);
        const ok = required.every(([, result]) => result.status === 'ok');
        const whole = ok && optional.every(([, result]) => result.status === 'ok');
        return reply.code(ok ? 200 : 503).send({
          status: whole ? 'ok' : ok ? 'degraded' : 'fail',
          checks: Object.fromEntries([...required, ...optional]),
        });
      },
    );
  },
  { name: 'health-routes' },
);
