/**
 * The admin panel's CSRF rules through the dev gateway of `npm start`
 * (@tollgate/dev-stack), which forwards X-Forwarded-Host/-Proto like nginx:
 * the panel's own origin passes, its token is then what decides, and an
 * action POSTed the panel's way works.
 */
import { buildGateway } from '@tollgate/dev-stack';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, type RawRequest } from '../src/http.js';
import { type Services, startServices } from '../src/services.js';

let services: Services;
let gateway: FastifyInstance;
let origin: string;

beforeAll(async () => {
  services = await startServices({ publicUrl: 'http://127.0.0.1:8080' });
  gateway = await buildGateway({
    upstreams: { auth: services.auth.url, billing: services.billing.url },
    logging: false,
  });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  const address = gateway.server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await gateway?.close();
  await services?.close();
});

const request = (options: RawRequest) => httpRequest(origin, options);

describe('admin panel through the dev gateway', () => {
  it('logs in from the panel’s origin, and acts only with the session’s token', async () => {
    const login = await request({
      method: 'POST',
      path: '/admin/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ email: 'admin', password: 'admin' }).toString(),
    });
    expect(login.status, login.text()).toBe(302);
    const cookie = (login.header('set-cookie') ?? '').split(';')[0]!;
    const page = await request({ path: '/admin', headers: { cookie } });
    const csrfToken = /"csrfToken":"([^"]+)"/.exec(page.text())?.[1];
    expect(csrfToken).toBeTruthy();

    const event = await services.billing.app.billing.db.webhookEvent.create({
      data: { id: 'evt_dev_gateway', type: 'customer.created', created: new Date(), payload: {} },
    });
    const replay = (headers: Record<string, string>) =>
      request({
        method: 'POST',
        path: `/admin/api/resources/WebhookEvent/records/${event.id}/replay`,
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    const foreign = await replay({ origin: 'http://evil.example', 'x-csrf-token': csrfToken! });
    expect(foreign.json()).toMatchObject({ status: 403, code: 'cross_origin_rejected' });
    const forged = await replay({ origin, 'x-csrf-token': 'forged' });
    expect(forged.json()).toMatchObject({ status: 403, code: 'csrf_token_invalid' });
    const own = await replay({ origin, 'x-csrf-token': csrfToken! });
    expect(own.status, own.text()).toBe(200);
    expect(own.json()).toMatchObject({ notice: { type: 'success' } });
  });
});
