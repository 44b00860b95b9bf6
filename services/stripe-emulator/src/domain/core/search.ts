/**
 * Stripe's search query language (https://docs.stripe.com/search#search-query-language):
 * clauses `field:value` (exact), `field~"text"` (substring, 3+ characters),
 * `field>n`, `<`, `>=`, `<=` (numbers and timestamps), a leading `-` to negate,
 * `metadata["key"]:"value"`, `field:null`; joined by `AND` or by `OR` (not
 * both). Strings are quoted, numbers are not. Each resource says which fields
 * it searches and how to read them.
 */
import type Stripe from 'stripe';
import { invalidParam, invalidRequest } from './errors.js';
import type { Params } from './params.js';

export type Comparator = ':' | '~' | '>' | '<' | '>=' | '<=';
export type Scalar = string | number | boolean | null | undefined;

export interface Clause {
  field: string;
  /** For `metadata["key"]`. */
  metadataKey?: string;
  op: Comparator;
  value: string | number | null;
  negate: boolean;
}

export interface Query {
  clauses: Clause[];
  join: 'AND' | 'OR';
}

const CLAUSE =
  /^\s*(-)?\s*(metadata\[\s*(?:"([^"]*)"|'([^']*)')\s*\]|[a-z_][a-z0-9_.]*)\s*(>=|<=|:|~|>|<)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)|(null))/i;
const JOIN = /^\s+(AND|OR)\s+/i;

function queryError(message: string): never {
  throw invalidParam('query', message, 'search_query_invalid');
}

export function parseQuery(query: string, fields: readonly string[]): Query {
  const clauses: Clause[] = [];
  const joins = new Set<string>();
  let rest = query;
  for (;;) {
    const m = CLAUSE.exec(rest);
    if (!m) queryError(`Could not parse the search query at: ${rest.trim() || '(end)'}`);
    const [whole, negate, field = '', dq, sq, rawOp, dval, sval, num, nul] = m;
    const metadataKey = dq ?? sq;
    const name = metadataKey !== undefined ? 'metadata' : field.toLowerCase();
    if (!fields.includes(name)) {
      queryError(
        `Field \`${name}\` is not supported in this search. Supported fields: ${fields.join(', ')}.`,
      );
    }
    const op = rawOp as Comparator;
    const value =
      nul !== undefined
        ? null
        : num !== undefined
          ? Number(num)
          : (dval ?? sval ?? '').replace(/\\(.)/g, '$1');
    if (op === '~' && (typeof value !== 'string' || value.length < 3)) {
      queryError('A substring match (`~`) needs a quoted value of at least 3 characters.');
    }
    if (['>', '<', '>=', '<='].includes(op) && typeof value !== 'number') {
      queryError(`The comparison \`${op}\` needs a number.`);
    }
    clauses.push({
      field: name,
      ...(metadataKey !== undefined ? { metadataKey } : {}),
      op,
      value,
      negate: !!negate,
    });
    rest = rest.slice(whole.length);
    if (rest.trim() === '') break;
    const j = JOIN.exec(rest);
    if (!j) queryError(`Expected AND or OR at: ${rest.trim()}`);
    joins.add((j[1] ?? '').toUpperCase());
    rest = rest.slice(j[0].length);
  }
  if (joins.size > 1) queryError('A search query cannot mix AND and OR.');
  return { clauses, join: joins.has('OR') ? 'OR' : 'AND' };
}

function test(clause: Clause, actual: Scalar): boolean {
  const { op, value } = clause;
  if (value === null) return actual === null || actual === undefined || actual === '';
  if (actual === null || actual === undefined) return false;
  switch (op) {
    case ':':
      return typeof value === 'number'
        ? Number(actual) === value
        : String(actual).toLowerCase() === value.toLowerCase();
    case '~':
      return String(actual).toLowerCase().includes(String(value).toLowerCase());
    case '>':
      return Number(actual) > Number(value);
    case '<':
      return Number(actual) < Number(value);
    case '>=':
      return Number(actual) >= Number(value);
    case '<=':
      return Number(actual) <= Number(value);
  }
}

/** How a resource reads a searchable field from one of its objects. */
export type FieldReader<T> = (item: T, field: string) => Scalar;

export function matchesQuery<T extends { metadata?: Stripe.Metadata | null }>(
  item: T,
  query: Query,
  read: FieldReader<T>,
): boolean {
  const one = (c: Clause) => {
    const actual = c.metadataKey !== undefined ? item.metadata?.[c.metadataKey] : read(item, c.field);
    const hit = test(c, actual);
    return c.negate ? !hit : hit;
  };
  return query.join === 'AND' ? query.clauses.every(one) : query.clauses.some(one);
}

/** `GET /v1/<resource>/search`: matches newest first, paged by `page` (an opaque token) and `limit`. */
export function searchResult<T extends { id: string; metadata?: Stripe.Metadata | null }>(
  newestFirst: readonly T[],
  p: Params,
  url: string,
  fields: readonly string[],
  read: FieldReader<T>,
): Stripe.ApiSearchResult<T> {
  const query = parseQuery(p.requiredString('query'), [...fields, 'metadata']);
  const limit = p.integer('limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidParam('limit', 'This value must be between 1 and 100.');
  const pageToken = p.string('page');
  let offset = 0;
  if (pageToken) {
    const decoded = /^page_(\d+)$/.exec(Buffer.from(pageToken, 'base64url').toString('utf8'));
    if (!decoded) throw invalidRequest('Invalid page token.', 'page');
    offset = Number(decoded[1]);
  }
  const all = newestFirst.filter((item) => matchesQuery(item, query, read));
  const data = all.slice(offset, offset + limit);
  const hasMore = all.length > offset + limit;
  return {
    object: 'search_result',
    data,
    has_more: hasMore,
    next_page: hasMore ? Buffer.from(`page_${offset + limit}`).toString('base64url') : null,
    url,
  };
}

/** Reads a dotted path (`billing_details.address.postal_code`) from an object. */
export function readPath(item: object, path: string): Scalar {
  let node: unknown = item;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (node !== null && typeof node === 'object') {
    const id = (node as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  }
  return node as Scalar;
}
