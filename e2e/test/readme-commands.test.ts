/**
 * Every command the READMEs show exists, and the ones that are safe to run
 * here run as a user would type them: billing's CLIs on a database that was
 * never started (they migrate first), Stripe unreachable (one line, exit 1),
 * npm start -- --help.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { freePort, type ProvisionedDatabase, provisionDatabase } from '@tollgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function trackedReadmes(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '*.md'], { cwd: root });
  return stdout.split('\n').filter((f) => /(^|\/)README\.md$/.test(f));
}

interface Command {
  file: string;
  text: string;
  workspace: string | null;
  script: string;
}

/** `npm run [-w W] S`, `npm run S -w W`, `npm start [-w W]`, `npm test` as they appear in a README. */
function commandsIn(file: string, markdown: string): Command[] {
  const found: Command[] = [];
  for (const match of markdown.matchAll(/npm (run|start|test)(?=[\s`]|$)[^`\n|)#;&]*/g)) {
    const text = match[0].trim();
    const words = text.split(/\s+/).slice(1);
    let workspace: string | null = null;
    const rest: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '--') break;
      if (w === '-w' || w === '--workspace') workspace = words[++i] ?? null;
      else if (!w.startsWith('-')) rest.push(w);
    }
    const verb = rest.shift();
    const script = verb === 'run' ? rest[0] : verb;
    if (!script || !/^[a-z][a-z0-9:-]*$/.test(script)) continue;
    found.push({ file, text, workspace, script });
  }
  return found;
}

/** Every workspace's directory by package name, from the root package.json's `workspaces`. */
function workspaceDirs(): Record<string, string> {
  const patterns = (
    JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] }
  ).workspaces;
  const dirs: Record<string, string> = {};
  for (const pattern of patterns) {
    const candidates = pattern.endsWith('/*')
      ? readdirSync(path.join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => path.join(pattern.slice(0, -2), entry.name))
      : [pattern];
    for (const dir of candidates) {
      const manifest = path.join(root, dir, 'package.json');
      if (existsSync(manifest))
        dirs[(JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name] = dir;
    }
  }
  return dirs;
}
const dirs = workspaceDirs();

function scriptsOf(workspace: string | null): Record<string, string> {
  const dir = workspace ? dirs[workspace] : '.';
  if (!dir) throw new Error(`unknown workspace ${workspace}`);
  return (
    (
      JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      }
    ).scripts ?? {}
  );
}

describe('the commands in the READMEs', () => {
  it('name scripts that exist (no "Missing script")', async () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of await trackedReadmes()) {
      const own = path.join(root, path.dirname(file), 'package.json');
      const ownWorkspace =
        file.includes('/') && existsSync(own)
          ? (JSON.parse(readFileSync(own, 'utf8')) as { name: string }).name
          : null;
      for (const command of commandsIn(file, readFileSync(path.join(root, file), 'utf8'))) {
        count++;
        if (['test', 'start'].includes(command.script) && !command.workspace) continue;
        const candidates = command.workspace ? [command.workspace] : [null, ownWorkspace];
        const exists = candidates.some((w) => {
          try {
            return command.script in scriptsOf(w);
          } catch {
            return false;
          }
        });
        if (!exists) missing.push(`${command.file}: ${command.text}`);
      }
    }
    expect(count).toBeGreaterThan(15);
    expect(missing).toEqual([]);
  });
});

describe('billing commands on a database that was never started', () => {
  let db: ProvisionedDatabase;
  let emulator: RunningEmulator;

  beforeAll(async () => {
    [db, emulator] = await Promise.all([provisionDatabase('readme_cli'), startEmulator()]);
  });
  afterAll(async () => {
    await emulator?.close();
    await db?.release();
  });

  const billing = (args: string[], env: Record<string, string>) =>
    run('npm', ['run', '--silent', '-w', '@tollgate/billing', ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('sync-stripe migrates first, then mirrors the account', async () => {
    const { code, stdout, stderr } = await billing(['sync-stripe'], {
      DATABASE_URL: db.url,
      STRIPE_API_URL: emulator.url,
      STRIPE_SECRET_KEY: emulator.apiKey,
    });
    expect(stderr).not.toMatch(/relation ".*" does not exist/);
    expect(stderr).toContain('sync-stripe: applied');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/synced \d+ objects/);
    expect(stdout).toMatch(/[1-9]\d* products/);
  }, 120_000);

  it('sync-stripe says in one line that Stripe cannot be reached', async () => {
    const { code, stderr } = await billing(['sync-stripe'], {
      DATABASE_URL: db.url,
      STRIPE_API_URL: `http://127.0.0.1:${await freePort()}`,
      STRIPE_SECRET_KEY: emulator.apiKey,
    });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^sync-stripe: cannot reach Stripe at http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 120_000);

  it('seed-stripe says in one line that Stripe cannot be reached', async () => {
    const result = await run('npm', ['run', '--silent', '-w', '@tollgate/stripe-emulator', 'seed-stripe'], {
      cwd: root,
      env: {
        ...process.env,
        STRIPE_SECRET_KEY: 'sk_test_x',
        STRIPE_API_URL: `http://127.0.0.1:${await freePort()}`,
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^seed-stripe: cannot reach Stripe at http:\/\/127\.0\.0\.1:\d+/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
