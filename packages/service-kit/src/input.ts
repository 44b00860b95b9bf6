/**
 * Strings no tollgate route accepts, wherever they come from (path
 * parameters, query, body): a NUL character, which PostgreSQL cannot store
 * in text (SQLSTATE 22021, a 500 if it gets that far), and a lone UTF-16
 * surrogate, which has no UTF-8 form (it would reach the database or a
 * token as U+FFFD, a different value from the one the client sent). One
 * check in front of every route, instead of a pattern on every schema
 * string that a new route could forget.
 */

/** NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface UnsafeString {
  /** Where it was, as `body.login`, `query.page_size`, `params.name`, `body.items[2]`. */
  location: string;
  reason: 'nul_character' | 'lone_surrogate';
}

function reasonOf(text: string): UnsafeString['reason'] | undefined {
  const match = UNSAFE.exec(text);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'nul_character' : 'lone_surrogate';
}

/**
 * The first place in `value` (strings, object keys and values, array items)
 * where `test` finds a problem, or undefined. Iterative: a body nested a
 * million levels deep (which JSON.parse accepts) must not overflow the stack.
 */
function findIn<T>(
  value: unknown,
  root: string,
  test: (item: unknown, isKey: boolean) => T | undefined,
): { location: string; reason: T } | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [current, location] = stack.pop()!;
    const reason = test(current, false);
    if (reason !== undefined) return { location, reason };
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${location}[${i}]`]);
    } else if (current !== null && typeof current === 'object' && !Buffer.isBuffer(current)) {
      for (const [key, item] of Object.entries(current)) {
        const keyReason = test(key, true);
        if (keyReason !== undefined) return { location: `${location} (a property name)`, reason: keyReason };
        stack.push([item, `${location}.${key}`]);
      }
    }
  }
  return undefined;
}

/** The first unsafe string in `value`, or undefined. */
export function findUnsafeString(value: unknown, root: string): UnsafeString | undefined {
  return findIn(value, root, (item) => (typeof item === 'string' ? reasonOf(item) : undefined));
}

/**
 * The first number that is not finite, or undefined. Looked for after
 * validation: ajv coerces "1e309" in a query to Infinity and lets it through
 * `type: integer` with a `maximum`, and JSON.parse reads 1e309 as Infinity;
 * either then reaches SQL as an OFFSET or LIMIT it cannot take.
 */
export function findNonFiniteNumber(value: unknown, root: string): string | undefined {
  return findIn(value, root, (item) =>
    typeof item === 'number' && !Number.isFinite(item) ? true : undefined,
  )?.location;
}
