/**
 * Reading Stripe's form parameters (already parsed from bracket notation by qs)
 * with Stripe's validation errors. Every value arrives as a string; an empty
 * string means "unset" for nullable fields.
 */
import { invalidParam, missingParam, unknownParam } from './errors.js';

export type RawParams = Record<string, unknown>;

const ALWAYS_ALLOWED = new Set(['expand']);

export class Params {
  readonly raw: RawParams;
  private readonly prefix: string;

  constructor(raw: unknown, allowed?: readonly string[], prefix = '') {
    this.raw = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as RawParams) : {};
    this.prefix = prefix;
    if (allowed) {
      const ok = new Set(allowed);
      for (const key of Object.keys(this.raw)) {
        if (!ok.has(key) && !(prefix === '' && ALWAYS_ALLOWED.has(key))) throw unknownParam(this.name(key));
      }
    }
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** Present and set to the empty string: the caller asks to clear the field. */
  isUnset(key: string): boolean {
    return this.raw[key] === '';
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidParam(this.name(key), `Invalid string: ${JSON.stringify(v)}`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') throw missingParam(this.name(key));
    return v;
  }

  /** A string, with '' meaning null. */
  nullableString(key: string): string | null | undefined {
    const v = this.string(key);
    return v === '' ? null : v;
  }

  integer(key: string): number | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) {
      throw invalidParam(this.name(key), `Invalid integer: ${v}`, 'parameter_invalid_integer');
    }
    return Number(v);
  }

  boolean(key: string): boolean | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (v !== 'true' && v !== 'false') throw invalidParam(this.name(key), `Invalid boolean: ${v}`);
    return v === 'true';
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (!(values as readonly string[]).includes(v)) {
      throw invalidParam(
        this.name(key),
        `Invalid ${this.name(key)}: must be one of ${values.join(', ')}`,
        'parameter_invalid_string',
      );
    }
    return v as T;
  }

  /** Arrays arrive as `k[0]=a&k[1]=b` (an array) or, past qs's limits, as an index-keyed object. */
  array(key: string): unknown[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (Array.isArray(v)) return v;
    if (typeof v === 'object' && v !== null) {
      return Object.entries(v)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, x]) => x);
    }
    throw invalidParam(this.name(key), `Invalid array`);
  }

  stringArray(key: string): string[] | undefined {
    return this.array(key)?.map((x) => {
      if (typeof x !== 'string') throw invalidParam(this.name(key), 'Invalid array');
      return x;
    });
  }

  object(key: string, allowed?: readonly string[]): Params | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw invalidParam(this.name(key), `Invalid object`);
    }
    return new Params(v, allowed, this.name(key));
  }

  /** `metadata[k]=v`; `metadata=''` clears; `metadata[k]=''` removes k. */
  metadata(current: Record<string, string> = {}): Record<string, string> | undefined {
    const v = this.raw.metadata;
    if (v === undefined) return undefined;
    if (v === '') return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw invalidParam('metadata', 'Invalid object');
    const next: Record<string, string> = { ...current };
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') throw invalidParam(`metadata[${k}]`, 'Invalid metadata value');
      if (val === '') delete next[k];
      else next[k] = val;
    }
    if (Object.keys(next).length > 50) throw invalidParam('metadata', 'Metadata may have at most 50 keys');
    return next;
  }
}

/** `created` and similar range filters: a timestamp or `{gt,gte,lt,lte}`. */
export function matchesRange(params: Params, key: string, value: number): boolean {
  const v = params.raw[key];
  if (v === undefined || v === '') return true;
  if (typeof v === 'string') return value === Number(v);
  if (typeof v !== 'object' || v === null) return true;
  const r = v as Record<string, string>;
  if (r.gt !== undefined && !(value > Number(r.gt))) return false;
  if (r.gte !== undefined && !(value >= Number(r.gte))) return false;
  if (r.lt !== undefined && !(value < Number(r.lt))) return false;
  if (r.lte !== undefined && !(value <= Number(r.lte))) return false;
  return true;
}
