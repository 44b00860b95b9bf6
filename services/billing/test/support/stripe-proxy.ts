/**
 * A pass-through HTTP proxy between billing and the emulator, so a test can
 * make Stripe slow or failing for chosen requests (hold the answer, or
 * replace it with a 500) and count what billing asked. Billing still talks
 * to it with the official SDK: only STRIPE_API_URL points here.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
}

interface Rule {
  match: (r: SeenRequest) => boolean;
  /** Hold the emulator's answer this long (the emulator has already acted). */
  holdMs?: number;
  /** Answer with this status instead of forwarding. */
  status?: number;
  /** How many requests the rule applies to (default: all). */
  times: number;
}

export interface StripeProxy {
  url: string;
  seen: SeenRequest[];
  hold(match: Rule['match'], holdMs: number, times?: number): void;
  fail(match: Rule['match'], status?: number, times?: number): void;
  clear(): void;
  close(): Promise<void>;
}

export async function startStripeProxy(target: string): Promise<StripeProxy> {
  const upstream = new URL(target);
  const rules: Rule[] = [];
  const seen: SeenRequest[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? 'GET', path: req.url ?? '/' };
      seen.push(r);
      const rule = rules.find((x) => x.times > 0 && x.match(r));
      if (rule) rule.times--;
      if (rule?.status) {
        res.writeHead(rule.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: 'injected by the test proxy' } }));
        return;
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: r.method,
          path: r.path,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const send = () => {
              res.writeHead(answer.statusCode ?? 502, answer.headers as IncomingHttpHeaders);
              res.end(Buffer.concat(body));
            };
            if (rule?.holdMs) setTimeout(send, rule.holdMs);
            else send();
          });
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    hold: (match, holdMs, times = Number.POSITIVE_INFINITY) => rules.push({ match, holdMs, times }),
    fail: (match, status = 500, times = Number.POSITIVE_INFINITY) => rules.push({ match, status, times }),
    clear: () => {
      rules.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
