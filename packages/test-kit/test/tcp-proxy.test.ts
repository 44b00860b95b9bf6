import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../src/index.js';

let server: http.Server;
let proxy: TcpProxy;

beforeAll(async () => {
  server = http.createServer((_request, response) => response.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy = await startTcpProxy({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('startTcpProxy', () => {
  it('passes traffic through, refuses it while cut, and passes it again once restored', async () => {
    expect(await (await fetch(proxy.url)).text()).toBe('pong');
    proxy.cut();
    await expect(fetch(proxy.url)).rejects.toThrow();
    proxy.restore();
    expect(await (await fetch(proxy.url)).text()).toBe('pong');
  });
});
