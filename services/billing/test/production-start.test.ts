/**
 * Production start with the admin panel's development credentials: billing
 * refuses to run, in one line, with a non-zero exit (a real process).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVICE_DIR = path.join(import.meta.dirname, '..');

function start(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: SERVICE_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

const PRODUCTION = {
  NODE_ENV: 'production',
  // Nothing listens here: the process must refuse before it connects anywhere.
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/never_used',
  STRIPE_SECRET_KEY: 'sk_live_not_a_real_key',
  STRIPE_WEBHOOK_SECRET: 'whsec_not_a_real_secret',
  AUTH_CLIENT_SECRET: 'a-long-production-secret-0123456789',
  ADMIN_COOKIE_SECRET: 'a-cookie-secret-of-at-least-32-characters',
};

describe('billing in production with a development admin password', () => {
  // One process (loading billing takes seconds); the rule's cases are in config.test.ts.
  it('admin/admin: one line naming ADMIN_PASSWORD, exit code 1, no stack trace', async () => {
    const result = await start({ ...PRODUCTION, ADMIN_PASSWORD: 'admin' });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^billing: refusing to start in production: .*ADMIN_PASSWORD/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
