import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runGuarded } from '../src/index.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/background-failures.ts', import.meta.url));

async function runChild(env: Record<string, string> = {}) {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return {
      code: 0,
      lines: stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? 1, lines: (e.stdout ?? '').trim().split('\n').filter(Boolean) };
  }
}

describe('installProcessGuard', () => {
  it('logs errors thrown in timers and unawaited rejections, and the process keeps running', async () => {
    const { code, lines } = await runChild();
    expect(code).toBe(0);
    const messages = lines.map((l) => `${l.message} ${l.error ?? ''}`);
    expect(messages.some((m) => m.includes('uncaught exception') && m.includes('thrown in a timer'))).toBe(
      true,
    );
    expect(
      messages.some(
        (m) => m.includes('unhandled promise rejection') && m.includes('rejected in the background'),
      ),
    ).toBe(true);
    expect(lines.filter((l) => l.task === 'flaky sweep').length).toBeGreaterThan(1);
    expect(lines.at(-1)).toMatchObject({ message: 'still serving' });
  });

  it('without it, the first background error ends the process (what it prevents)', async () => {
    const { code, lines } = await runChild({ GUARD: 'off' });
    expect(code).not.toBe(0);
    expect(lines.join('\n')).not.toContain('still serving');
  });
});

describe('runGuarded', () => {
  it('logs a failure of background work under its name and never rejects', async () => {
    const logged: unknown[] = [];
    const log = {
      error: (details: Record<string, unknown>, message: string) => logged.push({ ...details, message }),
    };
    await expect(
      runGuarded(log, 'relay', async () => {
        throw new Error('database went away');
      }),
    ).resolves.toBeUndefined();
    await runGuarded(log, 'sync', () => {
      throw new Error('sync throw');
    });
    expect(logged).toMatchObject([
      { task: 'relay', message: 'relay failed' },
      { task: 'sync', message: 'sync failed' },
    ]);
  });
});
