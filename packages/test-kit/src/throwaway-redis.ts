/**
 * A redis-server of the test's own, on a free port, with no persistence:
 * for outage drills (kill it, restart it empty, freeze it) that must never
 * touch the Redis other test runs share.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './index.js';

export interface ThrowawayRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL): an outage; whatever it held is gone. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port (after kill). */
  start(): Promise<void>;
  /** Kills it and starts it again, empty: a Redis restart without persistence. */
  restartEmpty(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function startThrowawayRedis(
  binary = process.env.REDIS_SERVER_BIN ?? 'redis-server',
): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start() {
    const proc = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
    });
  }

  async function kill() {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async restartEmpty() {
      await kill();
      await start();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    stop: kill,
  };
}
