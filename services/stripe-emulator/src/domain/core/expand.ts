/**
 * `expand[]`: replace ids with the objects they name, along dotted paths
 * (`subscription`, `items.data.price.product`, `data.customer` on lists), and
 * fill includable fields (`line_items` of a checkout session).
 */
import { invalidRequest } from './errors.js';
import type { Params } from './params.js';

export type Resolver = (id: string, path: string) => object | undefined;
/** Includable fields, keyed by `<object type>.<field>`. */
export type Includes = Record<string, (owner: Record<string, unknown>) => object>;

const MAX_DEPTH = 4;

export function expandPaths(params: Params): string[] {
  const raw = params.raw.expand;
  if (raw === undefined || raw === '') return [];
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null
      ? Object.values(raw)
      : [raw];
  return list.filter((x): x is string => typeof x === 'string' && x !== '');
}

export function applyExpand<T>(value: T, paths: string[], resolve: Resolver, includes: Includes): T {
  if (paths.length === 0) return value;
  const copy = structuredClone(value) as unknown;
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.filter((s) => s !== 'data').length > MAX_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`,
        'expand',
      );
    }
    walk(copy, segments, path, resolve, includes);
  }
  return copy as T;
}

function walk(
  node: unknown,
  segments: string[],
  path: string,
  resolve: Resolver,
  includes: Includes,
): unknown {
  if (segments.length === 0 || node === null || node === undefined) return node;
  if (Array.isArray(node)) return node.map((x) => walk(x, segments, path, resolve, includes));
  if (typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const [head, ...rest] = segments as [string, ...string[]];
  let current = obj[head];
  if (current === undefined) {
    const include = includes[`${String(obj.object)}.${head}`];
    if (!include) throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
    current = include(obj);
  } else if (typeof current === 'string') {
    const resolved = resolve(current, path);
    if (!resolved) {
      throw invalidRequest(
        `This property cannot be expanded (${path}): the emulator does not hold objects like '${current}'.`,
        'expand',
      );
    }
    current = structuredClone(resolved);
  }
  obj[head] = walk(current, rest, path, resolve, includes);
  return obj;
}
