import { describe, expect, it } from 'vitest';
import type { StripeApiError } from './errors.js';
import { matchesQuery, parseQuery, readPath } from './search.js';

const FIELDS = [
  'email',
  'name',
  'created',
  'status',
  'amount',
  'metadata',
  'billing_details.address.postal_code',
];

function error(fn: () => unknown): StripeApiError {
  try {
    fn();
  } catch (err) {
    return err as StripeApiError;
  }
  throw new Error('expected an error');
}

describe('parseQuery', () => {
  it('reads clauses, operators, metadata keys, negation, numbers and null', () => {
    const q = parseQuery(
      `email:"a@b.c" AND metadata["plan"]:'gold' AND -status:"canceled" AND created>=1700000000 AND name:null`,
      FIELDS,
    );
    expect(q.join).toBe('AND');
    expect(q.clauses).toEqual([
      { field: 'email', op: ':', value: 'a@b.c', negate: false },
      { field: 'metadata', metadataKey: 'plan', op: ':', value: 'gold', negate: false },
      { field: 'status', op: ':', value: 'canceled', negate: true },
      { field: 'created', op: '>=', value: 1700000000, negate: false },
      { field: 'name', op: ':', value: null, negate: false },
    ]);
  });

  it('takes OR, dotted fields and substring matches', () => {
    const q = parseQuery(`name~"ros" OR billing_details.address.postal_code:"94103"`, FIELDS);
    expect(q.join).toBe('OR');
    expect(q.clauses.map((c) => c.field)).toEqual(['name', 'billing_details.address.postal_code']);
  });

  it('refuses what Stripe refuses', () => {
    expect(error(() => parseQuery('email:"a" AND name:"b" OR status:"c"', FIELDS)).body.message).toMatch(
      /mix/,
    );
    expect(error(() => parseQuery('colour:"red"', FIELDS)).body.message).toMatch(/not supported/);
    expect(error(() => parseQuery('name~"ab"', FIELDS)).body.message).toMatch(/3 characters/);
    expect(error(() => parseQuery('amount>"10"', FIELDS)).body.message).toMatch(/number/);
    expect(error(() => parseQuery('email:', FIELDS)).body.param).toBe('query');
  });
});

describe('matchesQuery', () => {
  const item = { name: 'Jenny Rosen', email: 'jenny@example.com', amount: 2000, metadata: { plan: 'gold' } };
  const read = (x: typeof item, f: string) => readPath(x, f);
  const match = (q: string) => matchesQuery(item, parseQuery(q, FIELDS), read);

  it('matches exact (case-insensitive), substring, ranges, metadata and negation', () => {
    expect(match('email:"JENNY@example.com"')).toBe(true);
    expect(match('name~"rose"')).toBe(true);
    expect(match('amount>1999 AND amount<=2000')).toBe(true);
    expect(match('amount>2000')).toBe(false);
    expect(match(`metadata['plan']:"gold"`)).toBe(true);
    expect(match('-name~"rose"')).toBe(false);
    expect(match('status:null')).toBe(true);
    expect(match('email:"x@y.z" OR amount:2000')).toBe(true);
  });
});
