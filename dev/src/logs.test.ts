import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogOutput } from './logs.js';

const incoming = JSON.stringify({
  level: 30,
  time: Date.now(),
  name: 'auth',
  reqId: 'r1',
  req: { method: 'POST', url: '/v1/auth/login' },
  msg: 'incoming request',
});
const completed = JSON.stringify({
  level: 30,
  time: Date.now(),
  name: 'auth',
  reqId: 'r1',
  res: { statusCode: 401 },
  responseTime: 12.4,
  msg: 'request completed',
});
const warning = JSON.stringify({ level: 40, time: Date.now(), name: 'billing', msg: 'stripe is slow' });

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(pretty: boolean, lines: [tag: 'auth' | 'billing', line: string][]) {
  dir = await mkdtemp(path.join(tmpdir(), 'tollgate-logs-'));
  let printed = '';
  const output = createLogOutput({ dir, pretty, out: { write: (t: string) => (printed += t) } });
  for (const [tag, line] of lines) output.sink(tag).write(`${line}\n`);
  await output.close();
  return printed;
}

describe('npm start logs', () => {
  it('in a terminal: one readable line per request, tagged with the service', async () => {
    const printed = await run(true, [
      ['auth', JSON.stringify({ level: 30, msg: 'fetching from remote server', reqId: 'r1' })],
      ['auth', incoming],
      ['auth', completed],
      ['billing', warning],
    ]);
    const lines = printed.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/INFO.*auth {5}POST \/v1\/auth\/login -> 401 \(12 ms\)$/);
    expect(lines[1]).toMatch(/WARN.*billing +stripe is slow$/);
    expect(printed).not.toContain('{');
  });

  it('not in a terminal: the JSON lines as they are; every line also in <dir>/<service>.log', async () => {
    const printed = await run(false, [
      ['auth', incoming],
      ['auth', completed],
    ]);
    expect(printed).toBe(`${incoming}\n${completed}\n`);
    expect(await readFile(path.join(dir, 'auth.log'), 'utf8')).toBe(`${incoming}\n${completed}\n`);
  });
});
