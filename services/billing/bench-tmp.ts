import { createDatabase } from './src/db/prisma.js';

const url = 'postgresql://postgres@127.0.0.1:5432/pbench';

import pg from 'pg';

const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
const { db, sql } = createDatabase(url, 4);
async function m(name: string, fn: () => Promise<unknown>, n = 1000) {
  for (let i = 0; i < 200; i++) await fn();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const u = process.cpuUsage(u0);
  console.log(
    name.padEnd(30),
    `${(((performance.now() - t0) / n) * 1000).toFixed(0)} us wall, ${((u.user + u.system) / n).toFixed(0)} us CPU`,
  );
}
await m('pool.query', () => sql.query('SELECT id, user_id FROM customers WHERE id = $1', ['cus_x']));
await m('prisma findUnique', () => db.customer.findUnique({ where: { id: 'cus_x' } }));
await m('prisma findUnique select', () =>
  db.customer.findUnique({ where: { id: 'cus_x' }, select: { id: true, userId: true } }),
);
await m('prisma $queryRaw', () => db.$queryRaw`SELECT id, user_id FROM customers WHERE id = ${'cus_x'}`);
await m(
  'prisma $transaction 3 q',
  () =>
    db.$transaction(async (tx) => {
      await tx.customer.findUnique({ where: { id: 'cus_x' } });
      await tx.$queryRaw`SELECT 1`;
    }),
  300,
);
await m(
  'pg tx 3 q',
  async () => {
    const c = await (sql as pg.Pool).connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT id, user_id FROM customers WHERE id = $1', ['cus_x']);
      await c.query('SELECT 1');
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  },
  300,
);
await db.$disconnect();
await admin.end();
