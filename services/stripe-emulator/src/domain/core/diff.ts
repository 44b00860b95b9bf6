/**
 * `data.previous_attributes` of `*.updated` events: the old values of the keys
 * that changed. Nested objects are partial, arrays are whole, as Stripe sends them.
 */
type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function previousAttributes(before: object, after: object): Record<string, Json> {
  const prev: Record<string, Json> = {};
  const a = before as Record<string, Json>;
  const b = after as Record<string, Json>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const old = a[key];
    const now = b[key];
    if (same(old, now)) continue;
    if (isPlainObject(old) && isPlainObject(now)) prev[key] = previousAttributes(old, now);
    else prev[key] = old === undefined ? null : old;
  }
  return prev;
}
