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
 * The first unsafe string in `value` (strings, object keys and values, array
 * items), or undefined. Iterative: a body nested a million levels deep (which
 * JSON.parse accepts) must not overflow the stack here.
 */
export function findUnsafeString(value: unknown, root: string): UnsafeString | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [current, location] = stack.pop()!;
    if (typeof current === 'string') {
      const reason = reasonOf(current);
      if (reason) return { location, reason };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${location}[${i}]`]);
    } else if (current !== null && typeof current === 'object' && !Buffer.isBuffer(current)) {
      for (const [key, item] of Object.entries(current)) {
        const keyReason = reasonOf(key);
        if (keyReason) return { location: `${location} (a property name)`, reason: keyReason };
        stack.push([item, `${location}.${key}`]);
      }
    }
  }
  return undefined;
}
