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

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The first step of a graceful stop: /health/ready answers 503 from now
     * on (the load balancer or Kubernetes takes this replica out of rotation)
     * while requests are still served, each answer with `Connection: close`
     * so kept-alive connections end after their request instead of being cut
     * by the close. Resolves after `ms`; then close the app.
     */
    drain(ms: number): Promise<void>;
  }
}

/** GET /health/live (the process answers) and GET /health/ready (its dependencies answer). */
export const healthRoutes = fp<HealthOptions>(
  async (app: FastifyInstance, options) => {
    const timeoutMs = options.timeoutMs ?? 2_000;
    let draining = false;
    app.decorate('drain', async (ms: number) => {
      draining = true;
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    });
    app.addHook('onSend', async (_request, reply) => {
      if (draining) reply.header('connection', 'close');
    });
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
        if (draining)
          return reply.code(503).send({
            status: 'fail',
            checks: { shutdown: { status: 'fail', error: 'draining before shutdown' } },
          });
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
