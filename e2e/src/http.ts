/**
 * A plain HTTP/1.1 client for gateway tests: the path goes out exactly as
 * given (no dot-segment normalization, unlike fetch), bodies are not
 * decompressed, and the client address can be chosen (any 127.0.0.0/8).
 */
import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json<T = Record<string, unknown>>(): T;
  header(name: string): string | undefined;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  localAddress?: string;
}

export function httpRequest(baseUrl: string, options: RawRequest): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: options.method ?? 'GET',
        path: options.path,
        // Node sends a DELETE (or GET) body neither chunked nor with a length
        // unless told: say how long it is, so the body is part of the request.
        headers:
          options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)), ...options.headers }
            : options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
            header: (name) => {
              const value = res.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
          });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** JSON request headers plus an optional bearer token. */
export function jsonHeaders(token?: string): Record<string, string> {
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

/**
 * Writes `head` (request line and headers, CRLF-separated, no trailing blank
 * line) as is, for requests an HTTP client refuses to make (a request target
 * without a leading slash, raw bytes), and reads until the server closes.
 */
export function rawHttp(
  port: number,
  head: string,
): Promise<{ status: number; contentType?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [headers = '', body = ''] = text.split('\r\n\r\n', 2);
      const lines = headers.split('\r\n');
      resolve({
        status: Number(lines[0]?.split(' ')[1] ?? 0),
        contentType: lines
          .find((l) => /^content-type:/i.test(l))
          ?.split(':')[1]
          ?.trim(),
        body,
      });
    });
  });
}
