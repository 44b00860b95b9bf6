/**
 * Hostile requests made from an OpenAPI document: for every operation, wrong
 * types, huge / unicode / NUL / lone-surrogate strings, injection strings
 * (SQL, header, path traversal, templates) in every path parameter, query
 * parameter and top-level body field, whole bodies that are not what the
 * operation takes (2,000-deep JSON, broken JSON, invalid UTF-8, other media
 * types), Authorization headers that are not credentials and other hostile
 * headers (cookies, X-Forwarded-For, X-Request-Id, …). And the rule a
 * response must keep (checkResponse). The test (test/hostile-input.test.ts)
 * sends them through nginx.
 */

export interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  examples?: unknown[];
  default?: unknown;
  minLength?: number;
  minimum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}

interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

export interface Operation {
  service: string;
  method: string;
  /** The path template, e.g. /v1/role/{name}. */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON (or form) body schema, when the operation takes one. */
  body?: Schema;
  bodyTypes: string[];
  /** Whether it takes a Bearer token (then it is also tried as a user and as an admin). */
  bearer: boolean;
  /** 4xx statuses the document declares as an HTML page for people (e.g. an unknown /problems/{code}). */
  htmlErrorStatuses: number[];
}

export interface HostileRequest {
  /** What the case is, for the failure report. */
  label: string;
  method: string;
  /** Already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** The operations of a document, `$ref`s into components resolved at the top level. */
export function operationsOf(service: string, document: Record<string, unknown>): Operation[] {
  const paths = (document.paths ?? {}) as Record<string, Record<string, OperationObject>>;
  const components = ((document.components as { schemas?: Record<string, Schema> })?.schemas ?? {}) as Record<
    string,
    Schema
  >;
  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? components[schema.$ref.split('/').pop()!] : schema;
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = operation.parameters ?? [];
      const content = operation.requestBody?.content ?? {};
      const bodyTypes = Object.keys(content);
      const bodySchema = resolve(
        content['application/json']?.schema ?? content['application/x-www-form-urlencoded']?.schema,
      );
      operations.push({
        service,
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path'),
        queryParams: parameters.filter((p) => p.in === 'query'),
        ...(bodySchema ? { body: bodySchema } : {}),
        bodyTypes,
        bearer: (operation.security ?? []).some((s) => 'bearerAuth' in s),
        htmlErrorStatuses: Object.entries(operation.responses ?? {})
          .filter(([status, response]) => /^4\d\d$/.test(status) && response.content?.['text/html'])
          .map(([status]) => Number(status)),
      });
    }
  }
  return operations;
}

/** A value the schema accepts, as plain as possible (the base every mutation starts from). */
export function plainValue(schema: Schema | undefined): unknown {
  if (!schema) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.examples?.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) return plainValue(variants[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [plainValue(schema.items)];
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, plainValue(schema.properties?.[name])]),
      );
    default:
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
  }
}

/** Strings that have hurt some service somewhere. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\u0000',
  'ad\u0000min',
  '\ud800',
  'x\udfffy',
  '😀'.repeat(100),
  '\u202eevil\u200b\ufeff',
  'İıſK\u0301',
  'x'.repeat(70_000),
  "' OR '1'='1' --",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(5)',
  'foo\r\nSet-Cookie: injected=1',
  '../../../../etc/passwd',
  '..%2f..%2f..%2finternal%2fv1',
  '%00',
  '%zz',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as text.
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '__proto__',
  'NaN',
  '-1',
  '1e309',
  '99999999999999999999999999',
];

/** JSON values of the wrong type for any field. */
export const WRONG_TYPES: unknown[] = [
  0,
  -1,
  1e308,
  true,
  null,
  [],
  {},
  { $gt: '' },
  { __proto__: { admin: true } },
];

/**
 * Path segments as sent on the wire (already encoded): NUL, an encoded lone
 * surrogate and overlong forms (not UTF-8), bad escapes, traversal, length.
 */
export const HOSTILE_SEGMENTS: string[] = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%C0%AE%C0%AE',
  '%zz',
  '%',
  '%2e%2e',
  '..%2F..%2Finternal',
  '%2F',
  encodeURIComponent("' OR 1=1--"),
  encodeURIComponent('😀'),
  'a'.repeat(101),
  'a'.repeat(5000),
  '-1',
  '0',
  '99999999999999999999',
  encodeURIComponent('foo\r\nX-Injected: 1'),
];

function nest(depth: number, open: string, close: string, inner: string) {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

/** Bodies that are not the operation's, whatever it takes. */
export const HOSTILE_BODIES: { label: string; type: string; body: string | Buffer }[] = [
  { label: 'array', type: 'application/json', body: '[]' },
  { label: 'string', type: 'application/json', body: '"x"' },
  { label: 'number', type: 'application/json', body: '1' },
  { label: 'null', type: 'application/json', body: 'null' },
  { label: 'empty', type: 'application/json', body: '' },
  { label: 'broken', type: 'application/json', body: '{"login":' },
  { label: 'trailing garbage', type: 'application/json', body: '{}}' },
  { label: '2000-deep arrays', type: 'application/json', body: nest(2000, '[', ']', '1') },
  { label: '2000-deep objects', type: 'application/json', body: nest(2000, '{"a":', '}', '1') },
  { label: 'proto pollution', type: 'application/json', body: '{"__proto__":{"admin":true}}' },
  {
    label: 'constructor pollution',
    type: 'application/json',
    body: '{"constructor":{"prototype":{"admin":true}}}',
  },
  { label: 'duplicate keys', type: 'application/json', body: '{"a":1,"a":{"b":2}}' },
  { label: 'escaped NUL key', type: 'application/json', body: '{"\\u0000":"\\u0000"}' },
  { label: 'escaped lone surrogate', type: 'application/json', body: '{"x":"\\ud800"}' },
  {
    label: 'invalid UTF-8',
    type: 'application/json',
    body: Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xae, 0x22, 0x7d]),
  },
  { label: 'UTF-16 charset', type: 'application/json; charset=utf-16', body: Buffer.from('{}', 'utf16le') },
  { label: 'text/plain', type: 'text/plain', body: '{}' },
  {
    label: 'xml',
    type: 'application/xml',
    body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  },
  {
    label: 'form with NUL',
    type: 'application/x-www-form-urlencoded',
    body: 'login=a%00&password=%ED%A0%80&grant_type=%zz',
  },
  {
    label: 'form nested',
    type: 'application/x-www-form-urlencoded',
    body: 'a[b][c]=1&a[__proto__][x]=1&grant_type[]=x',
  },
  {
    label: 'multipart garbage',
    type: 'multipart/form-data; boundary=x',
    body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n\u0000\r\n--',
  },
  { label: 'no media type', type: '', body: '{}' },
];

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Authorization headers that are not valid credentials (each sent once per operation). */
export const HOSTILE_AUTHORIZATION: string[] = [
  'Bearer ',
  "Bearer ' OR 1=1--",
  'Bearer a.b.c',
  `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'x', roles: ['admin'] })}.`,
  `Bearer ${b64url({ alg: 'HS256', kid: '../../../dev/null' })}.${b64url({ sub: 'x' })}.${'A'.repeat(43)}`,
  `Bearer ${'x'.repeat(6000)}`,
  basic('%zz:%zz'),
  basic('billing:%E0%A4%A'),
  basic('a\u0000:b'),
  'Basic !!!!',
  'Basic',
  'Digest username="x"',
];

/** Other headers a client controls, each sent once per operation (latin1: what HTTP/1.1 carries). */
export const HOSTILE_HEADERS: Record<string, string>[] = [
  { cookie: 'tollgate_admin=%zz; a=\u00ff\u00fe; b="' },
  { cookie: `x=${'y'.repeat(4000)}` },
  { 'x-forwarded-for': "' OR 1=1--, 999.999.999.999, ::ffff:zz" },
  { 'x-request-id': '../../etc/passwd' },
  { 'x-http-method-override': 'DELETE' },
  { accept: 'application/xml;q=2, */*;q=-1' },
  { 'accept-encoding': 'gzip;q=nan, br;q=1e309' },
  { 'content-type': 'application/json; charset=bogus' },
  { 'user-agent': `\u00ff${'\u00e9'.repeat(2000)}` },
];

function encodeQueryValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate has no UTF-8 form: send the bytes a careless client
    // would (CESU-8), which are not UTF-8.
    return '%ED%A0%80';
  }
}

function fillPath(operation: Operation, override?: { name: string; raw: string }): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (override?.name === name) return override.raw;
    const param = operation.pathParams.find((p) => p.name === name);
    return encodeURIComponent(String(plainValue(param?.schema)));
  });
}

function query(operation: Operation, override?: { name: string; raw: string }): string {
  const parts = operation.queryParams
    .filter((p) => p.required || p.name === override?.name)
    .map((p) =>
      p.name === override?.name
        ? `${encodeURIComponent(p.name)}=${override.raw}`
        : `${encodeURIComponent(p.name)}=${encodeURIComponent(String(plainValue(p.schema)))}`,
    );
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Every hostile request for one operation, with the given Authorization (if any). */
export function casesFor(operation: Operation, authorization?: string): HostileRequest[] {
  const auth: Record<string, string> = authorization ? { authorization } : {};
  const json = { ...auth, 'content-type': 'application/json' };
  const base = operation.body ? (plainValue(operation.body) as Record<string, unknown>) : undefined;
  const baseBody = base ? JSON.stringify(base) : undefined;
  const cases: HostileRequest[] = [];
  const add = (label: string, path: string, headers: Record<string, string>, body?: string | Buffer) =>
    cases.push({ label, method: operation.method, path, headers, ...(body !== undefined ? { body } : {}) });
  const withBody = baseBody !== undefined ? json : auth;

  for (const param of operation.pathParams) {
    for (const raw of HOSTILE_SEGMENTS) {
      add(
        `path ${param.name}=${raw.slice(0, 40)}`,
        fillPath(operation, { name: param.name, raw }) + query(operation),
        withBody,
        baseBody,
      );
    }
  }
  const queryValues = [...HOSTILE_STRINGS, ...WRONG_TYPES.map((v) => JSON.stringify(v))];
  for (const param of operation.queryParams) {
    for (const value of queryValues) {
      const raw = encodeQueryValue(value);
      add(
        `query ${param.name}=${raw.slice(0, 40)}`,
        fillPath(operation) + query(operation, { name: param.name, raw }),
        withBody,
        baseBody,
      );
    }
    add(
      `query ${param.name} twice`,
      `${fillPath(operation)}?${param.name}=1&${param.name}=2`,
      withBody,
      baseBody,
    );
  }
  const path = fillPath(operation) + query(operation);
  if (base) {
    for (const name of Object.keys(operation.body?.properties ?? {})) {
      for (const value of [...HOSTILE_STRINGS, ...WRONG_TYPES]) {
        add(
          `body ${name}=${JSON.stringify(value)?.slice(0, 40)}`,
          path,
          json,
          JSON.stringify({ ...base, [name]: value }),
        );
      }
    }
    add('body with an unknown field', path, json, JSON.stringify({ ...base, isAdmin: true }));
    add('body 70 KB', path, json, JSON.stringify({ ...base, padding: 'x'.repeat(70_000) }));
  }
  if (operation.method !== 'GET') {
    for (const { label, type, body } of HOSTILE_BODIES) {
      add(`body: ${label}`, path, type ? { ...auth, 'content-type': type } : auth, body);
    }
  }
  return cases;
}

/** The operation's plainest request: the schema's own values everywhere. */
export function baseRequest(operation: Operation): Omit<HostileRequest, 'label' | 'headers'> {
  const body = operation.body ? JSON.stringify(plainValue(operation.body)) : undefined;
  return {
    method: operation.method,
    path: fillPath(operation) + query(operation),
    ...(body !== undefined ? { body } : {}),
  };
}

/** The Authorization cases and the other hostile headers, sent without any other credential. */
export function headerCases(operation: Operation): HostileRequest[] {
  const base = operation.body ? JSON.stringify(plainValue(operation.body)) : undefined;
  const json: Record<string, string> = base ? { 'content-type': 'application/json' } : {};
  const request = (label: string, headers: Record<string, string>): HostileRequest => ({
    label,
    method: operation.method,
    path: fillPath(operation) + query(operation),
    headers: { ...json, ...headers },
    ...(base ? { body: base } : {}),
  });
  return [
    ...HOSTILE_AUTHORIZATION.map((authorization) =>
      request(`authorization ${authorization.slice(0, 40)}`, { authorization }),
    ),
    ...HOSTILE_HEADERS.map((headers) => request(`header ${JSON.stringify(headers).slice(0, 60)}`, headers)),
  ];
}

/** What must never be in a response body: stack frames, SQL, ORM and framework internals. */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\n\s+at .+[(\s]\S+\.(?:ts|js|mjs|cjs):\d+/],
  ['source path', /node_modules|\/src\/[\w/-]+\.(?:ts|js)\b/],
  ['Prisma', /prisma|PrismaClient|P20\d\d\b/i],
  [
    'SQL error',
    /syntax error at or near|violates \w+ constraint|invalid input syntax|invalid byte sequence|unsupported Unicode escape|SQLSTATE|relation "|column "/i,
  ],
  ['JS error name', /\b(?:TypeError|RangeError|ReferenceError|SyntaxError|URIError): /],
  ['Fastify code', /\bFST_[A-Z_]+/],
  ['library error', /\bUND_ERR_|ECONNREFUSED|ECONNRESET/],
];

export interface Verdict {
  ok: boolean;
  reason?: string;
}

/**
 * The rule: no 5xx, no leaked internals, every 4xx problem+json with a
 * snake_case code — or, for a status the operation's document declares as an
 * HTML page for people (`htmlErrorStatuses`), that page.
 */
export function checkResponse(
  status: number,
  contentType: string | undefined,
  body: string,
  htmlErrorStatuses: readonly number[] = [],
): Verdict {
  if (status >= 500) return { ok: false, reason: `status ${status}` };
  for (const [name, pattern] of LEAKS) {
    if (pattern.test(body)) return { ok: false, reason: `leaks a ${name}` };
  }
  if (htmlErrorStatuses.includes(status) && contentType?.startsWith('text/html')) return { ok: true };
  if (status >= 400) {
    if (!contentType?.startsWith('application/problem+json')) {
      return { ok: false, reason: `${status} as ${contentType ?? 'no media type'}, not problem+json` };
    }
    let problem: { code?: unknown; status?: unknown };
    try {
      problem = JSON.parse(body);
    } catch {
      return { ok: false, reason: `${status} problem+json that does not parse` };
    }
    if (typeof problem.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(problem.code)) {
      return { ok: false, reason: `${status} without a snake_case code` };
    }
    if (problem.status !== status)
      return { ok: false, reason: `problem status ${problem.status} on a ${status}` };
  }
  return { ok: true };
}
