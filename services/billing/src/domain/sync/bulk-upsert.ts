/**
 * One INSERT ... ON CONFLICT per page of rows: the page travels as one JSON
 * parameter and json_populate_recordset turns it into rows of the table's
 * own type. A page of 100 Stripe objects costs one round trip instead of 100.
 */
import type { Tx } from '../../db/prisma.js';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Tables the sync writes, with the columns it owns (camelCase as in the Prisma models). */
export type UpsertTable = 'products' | 'prices' | 'customers' | 'subscriptions' | 'invoices';

/**
 * @param rows objects keyed by Prisma field names, each with `id`.
 * @param keepExisting columns left as they are when the row exists (e.g. a customer's user mapping).
 * @param versionColumn an existing row is only overwritten when its value in
 *   this column is not greater than the incoming row's (never older over newer).
 */
export async function bulkUpsert(
  tx: Tx,
  table: UpsertTable,
  rows: Record<string, unknown>[],
  keepExisting: string[] = [],
  versionColumn?: string,
): Promise<number> {
  if (rows.length === 0) return 0;
  const now = new Date();
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
    (f) => f !== 'createdAt' && f !== 'updatedAt',
  );
  const columns = [...fields.map(snake), 'updated_at'];
  const records = rows.map((row) => {
    const record: Record<string, unknown> = { updated_at: now };
    for (const field of fields) record[snake(field)] = row[field] ?? null;
    return record;
  });
  const keep = new Set([...keepExisting.map(snake), 'id']);
  const list = columns.map((c) => `"${c}"`).join(', ');
  const updates = columns
    .filter((c) => !keep.has(c))
    .map((c) => `"${c}" = EXCLUDED."${c}"`)
    .concat(keepExisting.map(snake).map((c) => `"${c}" = coalesce("${table}"."${c}", EXCLUDED."${c}")`))
    .join(', ');
  const version = versionColumn ? snake(versionColumn) : null;
  const guard = version ? ` WHERE "${table}"."${version}" <= EXCLUDED."${version}"` : '';
  // Table and column names come from this module's constants and the Prisma
  // model's field names, never from input; the data is the one parameter.
  return tx.$executeRawUnsafe(
    `INSERT INTO "${table}" (${list})
     SELECT ${list} FROM json_populate_recordset(NULL::"${table}", $1::json)
     ON CONFLICT (id) DO UPDATE SET ${updates}${guard}`,
    JSON.stringify(records),
  );
}
