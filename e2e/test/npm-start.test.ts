/**
 * `npm start` as a user runs it: a fresh data directory, the real command,
 * the gateway answering, a second start refused with a clear message, and
 * Ctrl+C (SIGINT to the whole process group, as a terminal sends it)
 * stopping everything with no process left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/nginx.js';

const root = path.resolve(import.meta.dirname, '..', '..');
let dataDir: string;
let env: Record<string, string>;
let first: ChildProcess;
let output = '';

function start(): ChildProcess {
  // detached: its own process group, so the test can signal the group as a terminal would.
  return spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tollgate-start-'));
  // As root, PostgreSQL runs as the "postgres" user, who must be able to enter the folder.
  await chmod(dataDir, 0o755);
  env = {
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(await freePort()),
    AUTH_PORT: String(await freePort()),
    BILLING_PORT: String(await freePort()),
    EMULATOR_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    MAIL_SMTP_PORT: String(await freePort()),
    MAIL_WEB_PORT: String(await freePort()),
  };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL'])
    delete process.env[name];
  first = start();
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('tollgate is running')) resolve();
    };
    first.stdout!.on('data', onData);
    first.stderr!.on('data', onData);
    first.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (first?.pid && alive(first.pid)) process.kill(-first.pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints the URLs, the admin login and the test card', () => {
    expect(output).toContain(`http://localhost:${env.GATEWAY_PORT}/swagger`);
    expect(output).toContain('login admin / admin');
    expect(output).toContain('4242 4242 4242 4242');
  });

  it('serves the system through its gateway', async () => {
    const g = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const registered = await fetch(`${g}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        login: 'starter',
        password: 'correct horse battery',
        email: 'starter@example.com',
      }),
    });
    expect(registered.status).toBe(201);
    const products = (await (await fetch(`${g}/api/v1/products`)).json()) as { data: { role: string }[] };
    expect(products.data.map((p) => p.role).sort()).toEqual(['downloads', 'premium', 'subscriber']);
    expect((await fetch(`${g}/internal/v1/grants`)).status).toBe(403);
    const home = await fetch(`${g}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('tollgate is an open pair of services');
  });

  it('catches account mail in a local inbox whose URL it prints', async () => {
    expect(output).toContain(`http://localhost:${env.MAIL_WEB_PORT}`);
    const g = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    const registered = await fetch(`${g}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        login: 'mailed',
        password: 'correct horse battery',
        email: 'mailed@example.com',
      }),
    });
    expect(registered.status).toBe(201);
    const inbox = `http://127.0.0.1:${env.MAIL_WEB_PORT}`;
    let mails: { subject: string; to: { address: string }[]; text: string }[] = [];
    for (let i = 0; i < 50 && mails.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const all = (await (await fetch(`${inbox}/api/email`)).json()) as typeof mails;
      mails = all.filter((m) => m.to.some((t) => t.address === 'mailed@example.com'));
    }
    expect(mails[0]?.subject).toBe('Confirm your email address');
    expect(mails[0]?.text).toContain(`http://localhost:${env.GATEWAY_PORT}/#verify-email=`);
    const page = await fetch(inbox, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
  });

  it('logs each service to .data/logs/<service>.log, and to its stdout as JSON (not a terminal)', async () => {
    const g = `http://127.0.0.1:${env.GATEWAY_PORT}`;
    await fetch(`${g}/v1/auth/me`);
    await new Promise((r) => setTimeout(r, 500));
    for (const service of ['auth', 'billing', 'gateway', 'emulator']) {
      const lines = (await readFile(path.join(dataDir, 'logs', `${service}.log`), 'utf8')).trim().split('\n');
      expect(lines.length, service).toBeGreaterThan(0);
      expect(JSON.parse(lines.at(-1)!), service).toMatchObject({ name: service });
    }
    const auth = await readFile(path.join(dataDir, 'logs', 'auth.log'), 'utf8');
    expect(auth).toContain('"url":"/v1/auth/me"');
    expect(output).toMatch(/^\{.*"name":"gateway".*"request completed"/m);
  });

  it('a second start says tollgate is already running, and exits', async () => {
    const second = start();
    let text = '';
    second.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    second.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(text).toMatch(/tollgate is already running \(pid \d+\)/);
  });

  it('Ctrl+C stops everything cleanly and leaves no process behind', async () => {
    const pid = Number(await readFile(path.join(dataDir, 'tollgate.pid'), 'utf8'));
    const postmaster = Number(
      (await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    expect(alive(pid)).toBe(true);
    expect(alive(postmaster)).toBe(true);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      first.once('exit', (code, signal) => resolve({ code, signal })),
    );
    process.kill(-first.pid!, 'SIGINT');
    // npm itself ends by the signal, as it does on Ctrl+C; what matters is what tollgate did:
    const { code, signal } = await exited;
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    expect(output).toContain('[tollgate] stopping…');
    await expect.poll(() => output, { timeout: 5000 }).toContain('[tollgate] stopped\n');
    const deadline = Date.now() + 10_000;
    while ((alive(pid) || alive(postmaster)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(alive(postmaster)).toBe(false);
    // The pid file goes last in the orderly shutdown: its absence says every step ran.
    await expect(readFile(path.join(dataDir, 'tollgate.pid'))).rejects.toThrow();
  }, 30_000);
});
