/**
 * The hostile-input suite (issue 8, "Keep it closed"): every operation of
 * both services' OpenAPI documents, as served through the real nginx, gets
 * the requests of src/hostile.ts — anonymously, and for Bearer operations
 * also with a valid user token and a valid admin token. Pass: no 5xx, no
 * leaked internals, every 4xx problem+json with a code, and nothing logged
 * at error level by either service. Also here: the regressions of items 12
 * (named cases), 13 (nginx's access log) and 14 (what the documents list).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { buildGateway } from '@tollgate/dev-stack';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseRequest,
  casesFor,
  checkResponse,
  type HostileRequest,
  headerCases,
  type Operation,
  operationsOf,
} from '../src/hostile.js';
import { httpRequest, jsonHeaders, type RawResponse, rawHttp } from '../src/http.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, SUPERUSER, startServices } from '../src/services.js';

const PASSWORD = 'plausible tangerine 42';
/** Requests in flight at once: enough to keep both cores busy, not a load test. */
const CONCURRENCY = 8;

let services: Services;
let nginx: RunningNginx;
/** Every log line of both services at warn and above. */
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        logLines.push(JSON.parse(line));
      } catch {
        logLines.push({ level: 60, msg: line });
      }
    }
    done();
  },
});

/**
 * Each request leaves from its own loopback address (nginx passes it on as
 * X-Forwarded-For), so the per-address rate limits of the credential
 * endpoints do not turn the run into a wall of 429s that hides what the
 * handlers behind them do.
 */
let nextAddress = 0;
function clientAddress() {
  nextAddress = (nextAddress % 250) + 1;
  return `127.0.${Math.floor(nextAddress / 250) + 1}.${(nextAddress % 250) + 2}`;
}

const send = (request: Omit<HostileRequest, 'label'>): Promise<RawResponse> =>
  httpRequest(nginx.url, { ...request, localAddress: clientAddress() });

beforeAll(async () => {
  const port = await freePort();
  services = await startServices({ publicUrl: `http://127.0.0.1:${port}`, superuser: true, logStream });
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
  });
});

afterAll(async () => {
  await nginx?.stop();
  await services?.close();
});

async function login(loginName: string, password: string): Promise<string> {
  const response = await send({
    method: 'POST',
    path: '/v1/auth/login',
    headers: jsonHeaders(),
    body: JSON.stringify({ login: loginName, password }),
  });
  expect(response.status, response.text()).toBe(200);
  return response.json<{ access_token: string }>().access_token;
}

async function newUserToken(admin?: string): Promise<string> {
  const name = `hi${randomBytes(5).toString('hex')}`;
  const registered = await send({
    method: 'POST',
    path: '/v1/auth/register',
    headers: jsonHeaders(),
    body: JSON.stringify({ login: name, password: PASSWORD, email: `${name}@example.com` }),
  });
  expect(registered.status, registered.text()).toBe(201);
  if (admin) {
    const granted = await send({
      method: 'POST',
      path: '/v1/role/user',
      headers: jsonHeaders(admin),
      body: JSON.stringify({ login: name, role: 'admin' }),
    });
    expect(granted.status, granted.text()).toBeLessThan(300);
  }
  return login(name, PASSWORD);
}

async function documents(): Promise<{ auth: Record<string, unknown>; billing: Record<string, unknown> }> {
  const [auth, billing] = await Promise.all([
    send({ method: 'GET', path: '/swagger/json', headers: {} }),
    send({ method: 'GET', path: '/api/v1/openapi.json', headers: {} }),
  ]);
  expect(auth.status).toBe(200);
  expect(billing.status).toBe(200);
  return { auth: auth.json(), billing: billing.json() };
}

interface Failure {
  operation: string;
  label: string;
  reason: string;
  status: number;
  body: string;
}

/** Sends every request, CONCURRENCY at a time; returns the ones that broke the rule. */
async function run(requests: { operation: string; htmlErrorStatuses: number[]; request: HostileRequest }[]) {
  const failures: Failure[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const { operation, htmlErrorStatuses, request } = requests[next++]!;
      let response: RawResponse;
      try {
        response = await send(request);
      } catch (error) {
        failures.push({
          operation,
          label: request.label,
          reason: `no answer: ${(error as Error).message}`,
          status: 0,
          body: '',
        });
        continue;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const verdict = checkResponse(
        response.status,
        response.header('content-type'),
        response.text(),
        htmlErrorStatuses,
      );
      if (!verdict.ok) {
        failures.push({
          operation,
          label: request.label,
          reason: verdict.reason!,
          status: response.status,
          body: response.text().slice(0, 300),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { failures, statuses };
}

function report(failures: Failure[]): string {
  const byReason = new Map<string, Failure[]>();
  for (const failure of failures) {
    const key = `${failure.operation}: ${failure.reason}`;
    byReason.set(key, [...(byReason.get(key) ?? []), failure]);
  }
  return [...byReason.entries()]
    .map(
      ([key, list]) => `${key} (${list.length}x), e.g. ${list[0]!.label} -> ${list[0]!.body.slice(0, 160)}`,
    )
    .join('\n');
}

describe('hostile input through nginx', () => {
  it('no operation of either OpenAPI document answers 5xx, leaks internals or a non-problem 4xx', async () => {
    const started = Date.now();
    const docs = await documents();
    const operations: Operation[] = [
      ...operationsOf('auth', docs.auth),
      ...operationsOf('billing', docs.billing),
    ];
    expect(operations.length).toBeGreaterThan(20);
    const root = await login(SUPERUSER.login, SUPERUSER.password);

    const requests: { operation: string; htmlErrorStatuses: number[]; request: HostileRequest }[] = [];
    let adminOperations = 0;
    for (const operation of operations) {
      const name = `${operation.method} ${operation.path}`;
      const push = (list: HostileRequest[]) => {
        for (const request of list)
          requests.push({ operation: name, htmlErrorStatuses: operation.htmlErrorStatuses, request });
      };
      push(casesFor(operation));
      push(headerCases(operation));
      if (operation.bearer) {
        // A fresh user (or admin) per operation, so that a logout-all or a
        // PATCH /me of one operation cannot take the next one's token away.
        // Admin operations (a user's plain request gets 403) run as an admin;
        // those whose plain request does not even validate (400), both ways.
        const plain = baseRequest(operation);
        const probe = await send({
          ...plain,
          headers: {
            authorization: `Bearer ${await newUserToken()}`,
            ...(plain.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
        });
        if (probe.status !== 403) push(casesFor(operation, `Bearer ${await newUserToken()}`));
        if (probe.status === 403 || probe.status === 400) {
          push(casesFor(operation, `Bearer ${await newUserToken(root)}`));
          adminOperations++;
        }
      }
    }
    const { failures, statuses } = await run(requests);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const counts = (service: string) => operations.filter((o) => o.service === service).length;
    console.log(
      `hostile input: ${requests.length} requests to ${operations.length} operations ` +
        `(auth ${counts('auth')}, billing ${counts('billing')}; ${operations.filter((o) => o.bearer).length} with a ` +
        `Bearer token, ${adminOperations} of them also as admin) through nginx in ${seconds} s; ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    );
    const errors = logLines.filter((line) => Number(line.level) >= 50);
    // Compared as text: the report groups failures by operation and reason.
    expect(report(failures)).toBe('');
    expect(JSON.stringify(errors.slice(0, 5), null, 2)).toBe('[]');
  }, 180_000);
});

describe('item 12: unauthenticated input that used to give 500', () => {
  it('a NUL byte or lone surrogate in the login: 400 invalid_characters (was 500 from PostgreSQL 22021)', async () => {
    for (const login of ['ad\u0000min', 'x\ud800']) {
      const response = await send({
        method: 'POST',
        path: '/v1/auth/login',
        headers: jsonHeaders(),
        body: JSON.stringify({ login, password: 'whatever it is' }),
      });
      expect(response.status).toBe(400);
      expect(response.header('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe('invalid_characters');
    }
  });

  it('bad %-encoding in Basic client credentials: 401 invalid_client (was a URIError 500)', async () => {
    for (const credentials of ['%zz:%zz', 'billing:%E0%A4%A']) {
      const response = await send({
        method: 'POST',
        path: '/v1/auth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
      expect(response.status, response.text()).toBe(401);
      expect(response.header('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe('invalid_client');
    }
  });

  it('a path parameter over the limit: 414 problem+json uri_too_long (was a bare 414)', async () => {
    const response = await send({
      method: 'PUT',
      path: `/v1/role/${'a'.repeat(101)}`,
      headers: jsonHeaders(),
      body: '{}',
    });
    expect(response.status).toBe(414);
    expect(response.header('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('uri_too_long');
  });

  it('nginx answers the requests it refuses itself in problem+json', async () => {
    const cases: [string, number, string][] = [
      ['/v1/role/%00', 400, 'malformed_request'],
      ['/v1/role/%zz', 400, 'malformed_request'],
      [`/v1/auth/me?x=${'y'.repeat(9000)}`, 414, 'uri_too_long'],
    ];
    for (const [path, status, code] of cases) {
      const response = await send({ method: 'GET', path, headers: {} });
      expect(response.status, path.slice(0, 40)).toBe(status);
      expect(response.header('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.json().code).toBe(code);
    }
    const bigHeader = await send({
      method: 'GET',
      path: '/v1/auth/me',
      headers: { 'x-big': 'y'.repeat(9000) },
    });
    expect(bigHeader.status).toBe(431);
    expect(bigHeader.json().code).toBe('headers_too_large');
  });
});

describe('item 12: the dev gateway (npm start) and malformed URLs', () => {
  let gateway: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    gateway = await buildGateway({
      upstreams: { auth: services.auth.url, billing: services.billing.url },
      logging: false,
    });
    await gateway.listen({ host: '127.0.0.1', port: 0 });
    const address = gateway.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => gateway?.close());

  it.each([
    ['GET /v1/auth/%zz HTTP/1.1', 400, 'malformed_url'],
    ['GET /v1/role/%ED%A0%80 HTTP/1.1', 400, 'malformed_url'],
    ['GET /swagger/../v1/auth/me HTTP/1.1', 400, 'bad_request'],
    ['GET v1/auth/me HTTP/1.1', 400, 'malformed_request'],
    ['GET /v1/%2e%2e/%2e%2e/etc HTTP/1.1', 400, 'bad_request'],
  ])('%s: %i %s as problem+json, no FST_ names', async (line, status, code) => {
    const response = await rawHttp(port, `${line}\r\nHost: localhost`);
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.body).code).toBe(code);
    expect(response.body).not.toMatch(/FST_|reply-from|invalid characters/i);
  });
});

describe('item 12: the dev gateway when an upstream is down', () => {
  it("answers 502 upstream_unavailable as nginx does, not the proxy library's error", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const gateway = await buildGateway({ upstreams: { auth: closed, billing: closed }, logging: false });
    try {
      const response = await gateway.inject({ method: 'GET', url: '/v1/auth/me' });
      expect(response.statusCode).toBe(502);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.json().code).toBe('upstream_unavailable');
      expect(response.body).not.toMatch(/FST_|ECONNREFUSED/);
    } finally {
      await gateway.close();
    }
  });
});

describe('item 13: credentials in the query string', () => {
  it('are refused however cased, and nginx logs no query string', async () => {
    const secret = `hunter${randomBytes(6).toString('hex')}`;
    for (const name of ['Password', 'ACCESS_TOKEN', 'Refresh_Token']) {
      const response = await send({
        method: 'GET',
        path: `/v1/auth/me?page=1&${name}=${secret}`,
        headers: { referer: `http://elsewhere.example/login?password=${secret}` },
      });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code: 'credentials_in_query', parameters: [name] });
    }
    const log = await nginx.readAccessLog();
    expect(log).toContain('"GET /v1/auth/me HTTP/1.1" 400');
    expect(log).toContain('http://elsewhere.example/login"');
    expect(log).not.toContain(secret);
    expect(log).not.toMatch(/\?page=/);
  });
});

describe('item 14: the public OpenAPI documents', () => {
  it('list neither /internal/* nor /health/* (unreachable through the gateway)', async () => {
    const docs = await documents();
    for (const [service, document] of Object.entries(docs)) {
      const paths = Object.keys((document.paths ?? {}) as object);
      expect(paths.length, service).toBeGreaterThan(3);
      expect(
        paths.filter((p) => p.startsWith('/internal') || p.startsWith('/health')),
        service,
      ).toEqual([]);
      const tags = ((document.tags ?? []) as { name: string }[]).map((t) => t.name);
      expect(tags, service).not.toContain('internal');
      expect(tags, service).not.toContain('health');
    }
  });
});
