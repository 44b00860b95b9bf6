/**
 * The graceful stop's first step (app.drain): out of rotation, still serving,
 * kept-alive connections told to close.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../src/health.js';

describe('drain', () => {
  it('turns readiness to 503 and closes connections after each answer, while requests are still served', async () => {
    const app = Fastify();
    await app.register(healthRoutes, { checks: {} });
    app.get('/work', async () => ({ done: true }));
    await app.ready();

    const before = await app.inject({ url: '/health/ready' });
    expect(before.statusCode).toBe(200);
    expect(before.headers.connection).not.toBe('close');

    const drained = app.drain(50);
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'fail', checks: { shutdown: { status: 'fail' } } });
    const work = await app.inject({ url: '/work' });
    expect(work.statusCode).toBe(200);
    expect(work.json()).toEqual({ done: true });
    expect(work.headers.connection).toBe('close');
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    await drained;
    await app.close();
  });
});
