/**
 * One `npm start` at a time: a pid file under .data says who runs, so a
 * second start can say so plainly instead of failing on a busy port.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** Whether a process with this pid exists (EPERM: it does, and is someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(
  dataDir: string,
): Promise<{ release(): Promise<void> } | { heldBy: number }> {
  const file = path.join(dataDir, 'tollgate.pid');
  const existing = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  if (existing && existing !== process.pid && alive(existing)) return { heldBy: existing };
  await writeFile(file, String(process.pid));
  return {
    async release() {
      await rm(file, { force: true });
    },
  };
}

/** Resolves to the ports of `ports` that something already listens on (127.0.0.1). */
export async function busyPorts(ports: number[]): Promise<number[]> {
  const results = await Promise.all(
    ports.map(
      (port) =>
        new Promise<number | null>((resolve) => {
          const server = net.createServer();
          server.once('error', () => resolve(port));
          server.listen(port, '127.0.0.1', () => server.close(() => resolve(null)));
        }),
    ),
  );
  return results.filter((p): p is number => p !== null);
}
