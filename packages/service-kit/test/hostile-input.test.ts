/**
 * Input no route can use gets a 4xx problem+json from the kit itself, for
 * every route (issue 8 items 12 and 13): NUL and lone surrogates anywhere,
 * URLs that do not decode, over-long path parameters, URIErrors from a
 * handler's own decoding, credentials in the query string however cased.
 */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { findUnsafeString, problemHandler, redactUrl, requestHygiene, serverOptions } from '../src/index.js';

/** An app with a schema'd route, a schema-less route and a handler that decodes by itself; its log lines kept. */
async function app(bodyLimit?: number) {
  const lines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const instance = Fastify(serverOptions({ logLevel: 'info', trustProxy: false, logStream, bodyLimit }));
  await instance.register(problemHandler);
  await instance.register(requestHygiene);
  instance.post(
    '/items/:name',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: { q: { type: 'string' }, page: { type: 'integer', minimum: 1, maximum: 100 } },
        },
        body: {
          type: 'object',
          properties: { login: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({ ok: true, body: request.body }),
  );
  // No schema at all: the kit's check still applies.
  instance.post('/free', async (request) => ({ body: request.body }));
  instance.get('/decode/:value', async (request) => ({
    value: decodeURIComponent((request.params as { value: string }).value),
  }));
  return { instance, lines };
}

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = response.json() as { code: string; status: number };
  expect(body.code).toMatch(/^[a-z][a-z0-9_]*$/);
  expect(body.status).toBe(response.statusCode);
  return body;
}

/** Error-level lines (50+) in the log: a client's bad input must never produce one. */
const errorLines = (lines: Record<string, unknown>[]) => lines.filter((l) => Number(l.level) >= 50);

describe('strings no field accepts', () => {
  const cases: [string, object][] = [
    ['NUL in a body string', { url: '/items/a', payload: { login: 'ad\u0000min' } }],
    ['lone high surrogate in a body string', { url: '/items/a', payload: { login: 'x\ud800' } }],
    ['lone low surrogate in an array item', { url: '/items/a', payload: { tags: ['ok', '\udc00y'] } }],
    ['NUL in a query value', { url: '/items/a?q=%00', payload: {} }],
    ['NUL in a path parameter', { url: '/items/a%00b', payload: {} }],
    ['NUL in a property name of a schema-less route', { url: '/free', payload: { 'a\u0000': 1 } }],
    ['NUL deep inside a schema-less body', { url: '/free', payload: { a: [{ b: [{ c: '\u0000' }] }] } }],
  ];
  it.each(cases)('%s: 400 invalid_characters, logged below error', async (_name, request) => {
    const { instance, lines } = await app();
    const response = await instance.inject({ method: 'POST', ...request });
    expect(response.statusCode).toBe(400);
    expect(expectProblem(response).code).toBe('invalid_characters');
    expect(errorLines(lines)).toEqual([]);
  });

  it('keeps well-formed astral characters (a surrogate pair) and ordinary text', async () => {
    const { instance } = await app();
    const response = await instance.inject({
      method: 'POST',
      url: '/items/caf%C3%A9?q=%F0%9F%98%80',
      payload: { login: 'zoë 😀 \u202e' },
    });
    expect(response.statusCode).toBe(200);
  });

  it('finds NUL in a body nested 2,000 levels deep', async () => {
    const { instance } = await app();
    const depth = 2_000;
    const response = await instance.inject({
      method: 'POST',
      url: '/free',
      headers: { 'content-type': 'application/json' },
      payload: `${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`,
    });
    expect(response.statusCode).toBe(400);
    expect(expectProblem(response).code).toBe('invalid_characters');
  });
});

describe('numbers that are not finite', () => {
  it.each([
    [
      'an integer query parameter of 1e309 (ajv coerces it to Infinity and passes maximum: 100)',
      '/items/a?page=1e309',
      {},
    ],
    ['1e309 in a JSON body', '/free', '{"n":1e309}'],
  ])('%s: 400 number_out_of_range', async (_name, url, payload) => {
    const { instance, lines } = await app();
    const response = await instance.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(expectProblem(response).code).toBe('number_out_of_range');
    expect(errorLines(lines)).toEqual([]);
  });
});

describe('findUnsafeString', () => {
  it('walks a value nested 300,000 levels deep without overflowing the stack', () => {
    let value: unknown = 'a\u0000';
    for (let i = 0; i < 300_000; i++) value = i % 2 ? [value] : { k: value };
    expect(findUnsafeString(value, 'body')?.reason).toBe('nul_character');
  });

  it('names where the string was', () => {
    expect(findUnsafeString({ a: [{ b: 'x' }, { c: '\ud800' }] }, 'body')).toEqual({
      location: 'body.a[1].c',
      reason: 'lone_surrogate',
    });
    expect(findUnsafeString({ ok: '😀', n: 1, z: null }, 'query')).toBeUndefined();
  });
});

describe('URLs and values that do not decode', () => {
  it('a path whose percent-encoding is not UTF-8: 400 malformed_url', async () => {
    const { instance, lines } = await app();
    for (const url of ['/items/%zz', '/items/%ED%A0%80', '/items/%C0%AE']) {
      const response = await instance.inject({ method: 'POST', url, payload: {} });
      expect(response.statusCode, url).toBe(400);
      expect(expectProblem(response).code, url).toBe('malformed_url');
      expect(response.headers['x-request-id']).toBeTruthy();
    }
    expect(errorLines(lines)).toEqual([]);
  });

  it('a path parameter over the router limit: 414 uri_too_long as problem+json', async () => {
    const { instance, lines } = await app();
    const response = await instance.inject({ method: 'POST', url: `/items/${'a'.repeat(101)}`, payload: {} });
    expect(response.statusCode).toBe(414);
    expect(expectProblem(response).code).toBe('uri_too_long');
    expect(errorLines(lines)).toEqual([]);
  });

  it('a URIError from a handler decoding client input: 400 malformed_encoding, not 500', async () => {
    const { instance, lines } = await app();
    const response = await instance.inject({ method: 'GET', url: '/decode/%25zz' });
    expect(response.statusCode).toBe(400);
    expect(expectProblem(response).code).toBe('malformed_encoding');
    expect(errorLines(lines)).toEqual([]);
  });
});

describe('credentials in the query string, however cased', () => {
  it.each(['Password', 'PASSWORD', 'Access_Token', 'jWt', 'Client_Secret'])(
    '?%s= is refused with 400 credentials_in_query',
    async (name) => {
      const { instance } = await app();
      const response = await instance.inject({
        method: 'POST',
        url: `/items/a?${name}=hunter2`,
        payload: {},
      });
      expect(response.statusCode).toBe(400);
      expect(expectProblem(response)).toMatchObject({ code: 'credentials_in_query', parameters: [name] });
    },
  );

  it('redacts them from logged URLs', () => {
    expect(redactUrl('/x?Password=hunter2&page=2')).toBe('/x?Password=%5BREDACTED%5D&page=2');
    expect(redactUrl('/x?ACCESS_TOKEN=a.b.c')).toBe('/x?ACCESS_TOKEN=%5BREDACTED%5D');
  });
});
