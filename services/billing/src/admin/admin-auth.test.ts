import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { isSameOrigin } from './admin-auth.js';

const request = (protocol: string, host: string, headers: Record<string, string>) =>
  ({ protocol, host, headers }) as unknown as FastifyRequest;

describe('isSameOrigin', () => {
  it('accepts the panel’s own origin from Origin, else Referer', () => {
    expect(isSameOrigin(request('https', 'billing.example', { origin: 'https://billing.example' }))).toBe(
      true,
    );
    expect(isSameOrigin(request('http', 'localhost:80', { origin: 'http://localhost' }))).toBe(true);
    expect(
      isSameOrigin(request('http', 'localhost:8080', { referer: 'http://localhost:8080/admin/x' })),
    ).toBe(true);
  });

  it('refuses another origin, another scheme or port, "null", and a request that names none', () => {
    const refused = [
      request('https', 'billing.example', { origin: 'https://evil.example' }),
      request('http', 'billing.example', { origin: 'https://billing.example' }),
      request('http', 'localhost:8080', { origin: 'http://localhost:8081' }),
      request('http', 'localhost', { origin: 'null' }),
      request('http', 'localhost', { origin: 'null', referer: 'http://localhost/admin' }),
      request('http', 'localhost', { referer: 'not a url' }),
      request('http', 'localhost', {}),
    ];
    for (const r of refused) expect(isSameOrigin(r), JSON.stringify(r.headers)).toBe(false);
  });
});
