/**
 * Runs a service as its own process, the way the memory and start-up benches
 * need it: alone, in production mode, its readiness timed and its memory read
 * from /proc (Linux).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How services run: the production build (`npm run build`, run first when a
 * service has no dist/), started the way images and `npm start` start it
 * (tools/run-node.sh: its memory settings included). false: through tsx.
 */
export const PRODUCTION_BUILD = true;
/** Added to every figure taken from a running service. */
export const RUN_LABEL = PRODUCTION_BUILD ? '' : ' (tsx, not production build)';

const root = path.resolve(import.meta.dirname, '..', '..');
export type ServiceName = 'auth' | 'billing' | 'stripe-emulator';

function command(service: ServiceName): { cwd: string; file: string; args: string[] } {
  const cwd = path.join(root, 'services', service);
  if (PRODUCTION_BUILD) {
    if (!existsSync(path.join(cwd, 'dist', 'server.js'))) {
      execFileSync(process.execPath, [path.join(root, 'tools', 'build.mjs'), service], { stdio: 'inherit' });
    }
    return { cwd, file: path.join(root, 'tools', 'run-node.sh'), args: ['dist/server.js'] };
  }
  return { cwd, file: process.execPath, args: ['--import', 'tsx', 'src/server.ts'] };
}

export interface RunningService {
  name: ServiceName;
  url: string;
  pid: number;
  /** Seconds from spawn to the first 200 of its readiness route. */
  readySeconds: number;
  /** Resident memory of the process and of its process tree (tsx adds an esbuild process), MB. */
  rss(): Promise<{ process: number; tree: number }>;
  /** SIGTERM, and wait for it to exit. */
  stop(): Promise<void>;
  tail(): string;
}

export async function startService(
  name: ServiceName,
  port: number,
  env: Record<string, string>,
  options: { readyPath?: string; timeoutMs?: number } = {},
): Promise<RunningService> {
  const { cwd, file, args } = command(name);
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(file, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 100) output = output.slice(-100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail = () => output.slice(-30).join('\n');
  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${tail()}`);
    const ok = await fetch(`${url}${options.readyPath ?? '/health/ready'}`, {
      signal: AbortSignal.timeout(1000),
    })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within ${options.timeoutMs ?? 60_000} ms:\n${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const readySeconds = (performance.now() - started) / 1000;
  return {
    name,
    url,
    pid: child.pid!,
    readySeconds,
    rss: async () => ({ process: await rssMB(child.pid!), tree: await treeRssMB(child.pid!) }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    tail,
  };
}

/** VmRSS of one process, MB (10^6 bytes, as the goals are written; 0 when it is gone). */
export async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return (kib * 1024) / 1e6;
}

/** The pids of a process and of all its descendants. */
export async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid) comes after the parenthesised command name.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(entry));
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Resident memory of a process and its descendants, MB (shared pages counted in each). */
export async function treeRssMB(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) total += await rssMB(p);
  return total;
}
