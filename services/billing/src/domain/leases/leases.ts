/**
 * Named leases in Postgres: a lock any billing process can take, held by a
 * row with an expiry instead of an open transaction or session. Checkout
 * holds one per customer while it asks Stripe what the customer already has
 * and creates the session; a transaction (or advisory lock) held across those
 * HTTP calls would tie up a pooled connection for as long as Stripe is slow.
 * A holder that dies simply lets its lease run out.
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../../db/prisma.js';

export interface LeaseOptions {
  /** How long the lease holds if its holder never releases it (crash). */
  ttlMs: number;
  /** How long to wait for a busy lease before giving up with `busy()`. */
  waitMs: number;
  /** The error thrown when the lease stayed busy for `waitMs`. */
  busy: () => Error;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createLeases({ sql }: { sql: Sql }) {
  async function tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const { rows } = await sql.query({
      name: 'lease-acquire',
      text: `INSERT INTO leases (name, holder, expires_at)
             VALUES ($1, $2::uuid, now() + make_interval(secs => $3::double precision))
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
              WHERE leases.expires_at < now()
             RETURNING holder::text`,
      values: [name, holder, ttlMs / 1000],
    });
    return rows.length === 1;
  }

  async function release(name: string, holder: string): Promise<void> {
    await sql.query({
      name: 'lease-release',
      text: 'DELETE FROM leases WHERE name = $1 AND holder = $2::uuid',
      values: [name, holder],
    });
  }

  /** Runs `work` while holding the lease `name`; waits (with backoff) while another holder has it. */
  async function withLease<T>(name: string, options: LeaseOptions, work: () => Promise<T>): Promise<T> {
    const holder = randomUUID();
    const deadline = Date.now() + options.waitMs;
    let pause = 20;
    while (!(await tryAcquire(name, holder, options.ttlMs))) {
      if (Date.now() >= deadline) throw options.busy();
      await sleep(pause);
      pause = Math.min(pause * 2, 200);
    }
    try {
      return await work();
    } finally {
      // A failed release only delays the next holder until the lease expires.
      await release(name, holder).catch(() => {});
    }
  }

  return { withLease };
}

export type Leases = ReturnType<typeof createLeases>;
