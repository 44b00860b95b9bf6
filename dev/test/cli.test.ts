/**
 * `npm start` as a user meets it before anything runs: --help, and mistakes
 * in the environment answered with one line that says what to do (and a
 * non-zero exit), not a stack trace.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { freePort } from '@tollgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_VARIABLES } from '../src/config.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const STACK_ENV = [
  'DATABASE_URL',
  'REDIS_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_API_URL',
  'DATA_DIR',
  'GATEWAY_PORT',
  'AUTH_PORT',
  'BILLING_PORT',
  'EMULATOR_PORT',
  'SMTP_URL',
  'MAIL_SMTP_PORT',
  'MAIL_WEB_PORT',
  'LOG_LEVEL',
];

let dataDir: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tollgate-cli-'));
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function npmStart(args: string[], env: Record<string, string>) {
  const base = { ...process.env };
  for (const name of STACK_ENV) delete base[name];
  const child = spawn('npm', ['start', '--silent', ...(args.length ? ['--', ...args] : [])], {
    cwd: root,
    env: {
      ...base,
      DATA_DIR: path.join(dataDir, 'data'),
      GATEWAY_PORT: String(await freePort()),
      AUTH_PORT: String(await freePort()),
      BILLING_PORT: String(await freePort()),
      EMULATOR_PORT: String(await freePort()),
      MAIL_SMTP_PORT: String(await freePort()),
      MAIL_WEB_PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** One line on stderr, naming the problem, and no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[tollgate\] /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('npm start -- --help', () => {
  it('prints what it starts, every variable with its default, the ports and the data dir, and starts nothing', async () => {
    const { code, stdout, stderr } = await npmStart(['--help'], {});
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: npm start/);
    for (const v of STACK_VARIABLES)
      expect(stdout).toMatch(
        new RegExp(`^  ${v.name} +${v.defaultText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'),
      );
    expect(stdout).toContain('embedded, data in $DATA_DIR/postgres');
    expect(stdout).toContain('Ctrl+C stops everything');
    expect(existsSync(path.join(dataDir, 'data'))).toBe(false);
  });

  it('lists every variable the stack reads', async () => {
    const { loadStackConfig } = await import('../src/config.js');
    const keys = Object.keys(loadStackConfig({}, root)).filter((k) => k !== 'dataDir');
    const documented = STACK_VARIABLES.map((v) => v.name as string);
    for (const k of keys) expect(documented).toContain(k);
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'])
      expect(documented).toContain(k);
  });

  it('refuses an unknown argument in one line', async () => {
    const { code, stderr } = await npmStart(['--verbose-please'], {});
    expect(code).toBe(2);
    expectOneLine(stderr, /unknown argument --verbose-please.*--help/);
  });
});

describe('start-up errors: one line, what to do, exit 1', () => {
  it('STRIPE_SECRET_KEY without STRIPE_WEBHOOK_SECRET', async () => {
    const { code, stderr } = await npmStart([], { STRIPE_SECRET_KEY: 'sk_test_abc' });
    expect(code).toBe(1);
    expectOneLine(stderr, /STRIPE_WEBHOOK_SECRET is not.*stripe listen/);
  });

  it('a port that is not a number', async () => {
    const { code, stderr } = await npmStart([], { GATEWAY_PORT: 'eighty' });
    expect(code).toBe(1);
    expectOneLine(stderr, /GATEWAY_PORT must be integer/);
  });

  it('a busy port says "free it"', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = await npmStart([], { GATEWAY_PORT: String(port) });
      expect(code).toBe(1);
      expectOneLine(
        stderr,
        new RegExp(`port ${port} is already in use on 127\\.0\\.0\\.1: free it, or move`),
      );
    } finally {
      server.close();
    }
  });

  it('a key Stripe rejects is found at start, before anything runs', async () => {
    const { code, stderr, stdout } = await npmStart([], {
      STRIPE_SECRET_KEY: 'sk_test_not_the_right_key',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      STRIPE_API_URL: emulator.url,
    });
    expect(code).toBe(1);
    expectOneLine(stderr, /Stripe rejected the key in STRIPE_SECRET_KEY/);
    expect(stdout).not.toContain('PostgreSQL');
  });

  it('a Stripe that does not answer is found at start', async () => {
    const { code, stderr } = await npmStart([], {
      STRIPE_SECRET_KEY: 'sk_test_abc',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      STRIPE_API_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(code).toBe(1);
    expectOneLine(stderr, /cannot reach Stripe at http:\/\/127\.0\.0\.1:\d+/);
  }, 60_000);

  it.runIf(process.getuid?.() === 0)(
    'as root, a data directory the postgres user cannot enter is named, with what to do',
    async () => {
      // mkdtemp makes a 0700 directory: closed to the "postgres" user PostgreSQL runs as.
      const closed = await mkdtemp(path.join(tmpdir(), 'tollgate-closed-'));
      try {
        const { code, stderr } = await npmStart([], { DATA_DIR: path.join(closed, '.data') });
        expect(code).toBe(1);
        expectOneLine(
          stderr,
          new RegExp(
            `"postgres" user, who cannot enter ${closed.replace(/[.]/g, '\\.')}: run npm start as a normal user`,
          ),
        );
      } finally {
        await rm(closed, { recursive: true, force: true });
      }
    },
  );
});
