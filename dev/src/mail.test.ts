import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startMailCatcher } from './mail.js';

/** Two loopback servers standing in for MailDev: each greets with its name, then echoes. */
async function fakeBackend(): Promise<{
  smtpPort: number;
  webPort: number;
  stop(): Promise<void>;
}> {
  const listen = async (name: string) => {
    const server = net.createServer((socket) => {
      socket.write(`${name}\n`);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const smtp = await listen('smtp');
  const web = await listen('web');
  return {
    smtpPort: (smtp.address() as net.AddressInfo).port,
    webPort: (web.address() as net.AddressInfo).port,
    stop: async () => {
      for (const s of [smtp, web]) {
        s.close();
      }
    },
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Connects, sends `line`, and resolves with what came back once it holds `until`. */
function exchange(port: number, line: string, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.includes(until)) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(`${line}\n`);
  });
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Two free ports on loopback; the fake backend never reads the directory. */
async function catcherOptions() {
  return {
    host: '127.0.0.1',
    smtpPort: await freePort(),
    webPort: await freePort(),
    mailDirectory: '/unused',
  };
}

describe('the mail catcher, started on demand', () => {
  it('starts its backend only at the first connection, once, and joins each port to its own', async () => {
    let starts = 0;
    const options = await catcherOptions();
    const catcher = await startMailCatcher(options, async () => {
      starts++;
      const backend = await fakeBackend();
      closers.push(() => backend.stop());
      return backend;
    });
    closers.push(() => catcher.close());
    expect(catcher.started).toBe(false);
    expect(starts).toBe(0);

    // Bytes sent before the backend listens are held, not lost.
    expect(await exchange(options.smtpPort, 'HELO', 'HELO')).toBe('smtp\nHELO\n');
    expect(await exchange(options.webPort, 'GET /', 'GET /')).toBe('web\nGET /\n');
    expect(await exchange(options.smtpPort, 'again', 'again')).toBe('smtp\nagain\n');
    expect(catcher.started).toBe(true);
    expect(starts).toBe(1);
  });

  it('drops the connection when the backend cannot start, and tries again at the next', async () => {
    let starts = 0;
    const options = await catcherOptions();
    const catcher = await startMailCatcher(options, async () => {
      starts++;
      if (starts === 1) throw new Error('port taken');
      const backend = await fakeBackend();
      closers.push(() => backend.stop());
      return backend;
    });
    closers.push(() => catcher.close());

    expect(await exchange(options.smtpPort, 'HELO', 'HELO')).toBe('');
    expect(await exchange(options.smtpPort, 'HELO', 'HELO')).toBe('smtp\nHELO\n');
    expect(starts).toBe(2);
  });
});
