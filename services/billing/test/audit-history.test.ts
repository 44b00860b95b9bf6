/**
 * "Why does this user have this?": billing's audit log (written with the
 * outbox row) merged with auth's (what it applied, with the cause billing
 * sent), through the admin API and on the AdminJS customer page.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/queue.js';
import {
  BASIC_MONTHLY,
  bearer,
  eventually,
  newUser,
  PASSWORD,
  rolesInAuth,
  SERVICE_SECRET,
  type Stack,
  startStack,
  subscribe,
  type TestUser,
} from './stack.js';

let stack: Stack;
let user: TestUser;
let admin: TestUser;
let subscriptionId: string;

interface Entry {
  service: string;
  action: string;
  role: string | null;
  subscription_id: string | null;
  source: string | null;
  actor: string | null;
  cause: { type: string; subscription_id?: string; event_id?: string; event_type?: string } | null;
  details: Record<string, unknown> | null;
}

/** A user made admin at auth (through the internal API), logged in again so the token says so. */
async function adminUser(): Promise<TestUser> {
  const candidate = await newUser(stack);
  const token = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    payload: { grant_type: 'client_credentials', client_id: 'billing', client_secret: SERVICE_SECRET },
  });
  const grant = await stack.auth.app.inject({
    method: 'PUT',
    url: `/internal/v1/users/${candidate.id}/roles/admin`,
    headers: { authorization: `Bearer ${(token.json() as { access_token: string }).access_token}` },
    payload: { source: 'test-setup' },
  });
  expect(grant.statusCode).toBe(201);
  const login = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { login: candidate.login, password: PASSWORD },
  });
  return { ...candidate, token: (login.json() as { access_token: string }).access_token };
}

const history = (as: TestUser | undefined, userId = user.id) =>
  stack.app.inject({
    method: 'GET',
    url: `/api/v1/admin/users/${userId}/history`,
    headers: as ? bearer(as) : {},
  });

beforeAll(async () => {
  stack = await startStack();
  user = await newUser(stack);
  await subscribe(stack, user, BASIC_MONTHLY);
  await stack.emu.waitForWebhooks();
  await eventually(async () => (await rolesInAuth(stack, user)).includes('subscriber'));
  subscriptionId = (await stack.app.billing.db.subscription.findFirstOrThrow({ where: { userId: user.id } }))
    .id;
  admin = await adminUser();
});
afterAll(async () => stack.close());

describe('GET /api/v1/admin/users/{id}/history', () => {
  it("shows billing's decision and auth's grant, each with the event and subscription that caused it", async () => {
    const response = await history(admin);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { data: Entry[]; auth_included: boolean };
    expect(body.auth_included).toBe(true);
    const decided = body.data.find((e) => e.service === 'billing' && e.action === 'role_grant');
    const applied = body.data.find((e) => e.service === 'auth' && e.action === 'role_granted');
    // The webhook event that caused it, by id and type.
    const cause = {
      type: 'stripe_event',
      event_id: expect.stringMatching(/^evt_/),
      event_type: expect.stringMatching(/^(checkout\.session|customer\.subscription|invoice)\./),
      subscription_id: subscriptionId,
    };
    expect(decided).toMatchObject({ role: 'subscriber', subscription_id: subscriptionId, cause });
    expect(applied).toMatchObject({
      role: 'subscriber',
      source: `subscription:${subscriptionId}`,
      actor: 'billing',
      cause,
    });
    const event = await stack.app.billing.db.webhookEvent.findUnique({
      where: { id: decided?.cause?.event_id ?? '' },
    });
    expect(event?.type).toBe(decided?.cause?.event_type);
    // Written in the outbox's transaction: the entry names the role_syncs row that carried it.
    const outbox = await stack.app.billing.db.roleSync.findFirstOrThrow({
      where: { userId: user.id, role: 'subscriber', action: 'grant' },
    });
    expect(decided?.details?.outbox_id).toBe(outbox.id);
    expect(outbox.cause).toEqual(decided?.cause);
    // The row names its job (written with it, the id chosen before the send).
    const job = await stack.app.billing.boss.getJobById(QUEUES.roleSync, outbox.jobId ?? '');
    expect(job?.data).toMatchObject({ roleSyncId: outbox.id });
    // Newest first.
    const times = body.data.map((e) => (e as unknown as { at: string }).at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('is for admins only', async () => {
    const refused = await history(user);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden' });
    expect((await history(undefined)).statusCode).toBe(401);
    expect((await history(admin, 'not-a-uuid')).statusCode).toBe(400);
  });

  it('is shown on the AdminJS customer page', async () => {
    const login = await stack.app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      payload: new URLSearchParams({ email: 'admin', password: 'admin' }).toString(),
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    const customer = await stack.app.billing.db.customer.findFirstOrThrow({ where: { userId: user.id } });
    const shown = await stack.app.inject({
      method: 'GET',
      url: `/admin/api/resources/Customer/records/${customer.id}/show`,
      headers: { cookie },
    });
    expect(shown.statusCode).toBe(200);
    const params = (shown.json() as { record: { params: Record<string, unknown> } }).record.params;
    expect(params['history.auth_included']).toBe(true);
    const actions = Object.entries(params)
      .filter(([key]) => /^history\.data\.\d+\.action$/.test(key))
      .map(([, value]) => value);
    expect(actions).toEqual(expect.arrayContaining(['role_grant', 'role_granted']));
  });

  it('records an admin action as the cause of what it changed', async () => {
    const response = await stack.app.inject({
      method: 'GET',
      url: `/api/v1/admin/users/${user.id}/history`,
      headers: bearer(admin),
    });
    const before = (response.json() as { data: Entry[] }).data.length;
    await stack.stripe.subscriptions.cancel(subscriptionId);
    await stack.app.billing.subscriptionSync.sync(subscriptionId, {
      type: 'admin',
      detail: 'admin panel: cancel now',
    });
    await eventually(async () => !(await rolesInAuth(stack, user)).includes('subscriber'));
    await stack.emu.waitForWebhooks();
    const after = ((await history(admin)).json() as { data: Entry[] }).data;
    expect(after.length).toBeGreaterThan(before);
    const revokes = after.filter((e) => e.action === 'role_revoke' || e.action === 'role_revoked');
    expect(revokes.map((e) => e.service).sort()).toEqual(['auth', 'billing']);
    // Whichever wrote the revoke first (the admin's sync or the webhook), its cause is on both sides.
    const [billingRevoke, authRevoke] = [
      revokes.find((e) => e.service === 'billing'),
      revokes.find((e) => e.service === 'auth'),
    ];
    expect(['admin', 'stripe_event']).toContain(billingRevoke?.cause?.type);
    expect(authRevoke?.cause).toEqual(billingRevoke?.cause);
  });

  it("still answers with billing's side while auth is down, and says so", async () => {
    await stack.auth.stop();
    try {
      const response = await history(admin);
      expect(response.statusCode).toBe(200);
      const body = response.json() as { data: Entry[]; auth_included: boolean };
      expect(body.auth_included).toBe(false);
      expect(body.data.every((e) => e.service === 'billing')).toBe(true);
      expect(body.data.some((e) => e.action === 'role_grant')).toBe(true);
    } finally {
      await stack.auth.start();
    }
  });
});
