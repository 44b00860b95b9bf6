/**
 * Fast recovery of jobs whose worker process died (issue 9 item 5, ADR 0015).
 *
 * pg-boss notices a dead worker by its job heartbeat, whose minimum is 10 s,
 * and then waits for its next supervision pass: 11-14 s measured. Postgres
 * itself knows sooner: the dead process's connections end at once (the
 * kernel closes its sockets), and with them its session advisory locks.
 *
 * So each process that runs workers registers a row in `queue_workers`,
 * holds a session advisory lock keyed on its id on a connection of its own,
 * and writes the jobs it has in hand there before it starts them. Every
 * process, each REAP interval, looks for rows whose lock it can take: their
 * owner is gone. Their jobs are failed into their retry through pg-boss with
 * the attempt fence ({ id, retryCount }), so only the attempt that died is
 * failed, never a later one another worker took, and the row is deleted.
 * pg-boss's heartbeat stays as the backstop (a job taken in the instant
 * before the in-hand write landed, a frozen but connected process).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Db } from '../db/prisma.js';
import type { Boss } from './queue.js';

export interface HeldJob {
  queue: string;
  id: string;
  retryCount: number;
}

export interface Liveness {
  readonly id: string;
  /** Records jobs as in hand (before they run); resolves once written. */
  hold(jobs: HeldJob[]): Promise<void>;
  /** Forgets jobs once settled (written with the next `hold`, or at the next tick). */
  release(jobs: HeldJob[]): void;
  /** Fails the in-hand jobs of every dead worker into their retry; how many were failed. */
  reap(): Promise<number>;
  stop(): Promise<void>;
}

/** SQL for the advisory-lock key of a worker id (one 64-bit key space shared with nothing else of ours). */
const LOCK_KEY = `hashtextextended('tollgate-queue-worker:' || $1::text, 0)`;

export async function startLiveness(
  { db, boss, databaseUrl }: { db: Db; boss: Boss; databaseUrl: string },
  onError: (error: unknown, what: string) => void,
): Promise<Liveness> {
  const id = randomUUID();
  let session: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let stopped = false;

  /**
   * Its own connection, outside every pool: the lock lives exactly as long as this
   * process does. Made again when it breaks (Postgres restarted, the backend
   * terminated); meanwhile other processes may fail jobs of ours into a retry, which
   * costs a second run of an idempotent handler, never a lost job.
   */
  function connect(): Promise<pg.Client> {
    connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: databaseUrl,
        application_name: 'tollgate-billing-liveness',
        // A batch waits for its in-hand write: with Postgres unreachable, give up fast and run it anyway.
        connectionTimeoutMillis: 2000,
        query_timeout: 2000,
      });
      client.on('error', (error) => {
        onError(error, 'liveness connection');
        if (session === client) session = undefined;
      });
      try {
        await client.connect();
        // The lock before the row: a row is never visible without its lock held.
        await client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [id]);
        await client.query(
          `INSERT INTO queue_workers (id, host, pid, jobs) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET jobs = EXCLUDED.jobs, seen_at = now()`,
          [id, hostname(), process.pid, JSON.stringify([...inHand.values()])],
        );
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      session = client;
      return client;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  const inHand = new Map<string, HeldJob>();
  await connect();
  let writing: Promise<unknown> = Promise.resolve();
  const write = () => {
    const jobs = JSON.stringify([...inHand.values()]);
    // In order, one at a time: the last write carries the newest set.
    writing = writing
      .catch(() => {})
      .then(async () => {
        const client = session ?? (await connect());
        await client.query('UPDATE queue_workers SET jobs = $2, seen_at = now() WHERE id = $1', [id, jobs]);
      });
    return writing;
  };

  return {
    id,
    async hold(jobs) {
      for (const job of jobs) inHand.set(job.id, job);
      await write();
    },
    release(jobs) {
      for (const job of jobs) inHand.delete(job.id);
    },
    async reap() {
      if (!session && !stopped) await connect();
      // A lock we can take is a lock nobody holds: its process is gone. Taken for this
      // statement's transaction only, so it is never held on a pooled connection afterwards.
      const dead = await db.$queryRawUnsafe<{ id: string; jobs: HeldJob[] }[]>(
        `SELECT id::text, jobs FROM queue_workers
          WHERE id <> $1::uuid AND pg_try_advisory_xact_lock(hashtextextended('tollgate-queue-worker:' || id::text, 0))`,
        id,
      );
      let failed = 0;
      for (const worker of dead) {
        const byQueue = new Map<string, { id: string; retryCount: number }[]>();
        for (const job of worker.jobs) {
          const list = byQueue.get(job.queue) ?? [];
          list.push({ id: job.id, retryCount: job.retryCount });
          byQueue.set(job.queue, list);
        }
        for (const [queue, jobs] of byQueue) {
          const result = await boss.fail(queue, jobs, {
            message: `worker ${worker.id} died (its session ended)`,
          });
          // pg-boss's CommandResponse type leaves its fields out; `affected` is the jobs it failed.
          failed += (result as { affected?: number }).affected ?? 0;
        }
        await db.$executeRawUnsafe('DELETE FROM queue_workers WHERE id = $1::uuid', worker.id);
      }
      return failed;
    },
    async stop() {
      stopped = true;
      await writing.catch(() => {});
      await connecting?.catch(() => {});
      const client = session;
      session = undefined;
      await client?.query('DELETE FROM queue_workers WHERE id = $1', [id]).catch(() => {});
      await client?.end().catch(() => {});
    },
  };
}
