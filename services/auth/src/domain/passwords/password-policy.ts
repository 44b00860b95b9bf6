/**
 * NIST SP 800-63B style password rules: a length window and a block list of
 * the most common passwords, no composition rules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const COMMON_PASSWORD_COUNT = 10_000;

// @zxcvbn-ts/language-common ships real-world leaked passwords ranked by
// frequency; the first 10,000 are the "most common" list we refuse. Read, not require()d:
// require's cache would keep the whole list (30,000 strings) for the life of the process.
const require = createRequire(import.meta.url);
const ranked = JSON.parse(
  readFileSync(require.resolve('@zxcvbn-ts/language-common/src/passwords.json'), 'utf8'),
) as string[];
const commonPasswords = new Set(ranked.slice(0, COMMON_PASSWORD_COUNT).map((p) => p.toLowerCase()));

export type PasswordProblem = 'too_short' | 'too_long' | 'too_common';

/** Why a password is refused, or undefined when it is acceptable. Length counts characters, not bytes. */
export function checkPassword(password: string): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  if (commonPasswords.has(password.toLowerCase())) return 'too_common';
  return undefined;
}

export function describePasswordProblem(problem: PasswordProblem): string {
  switch (problem) {
    case 'too_short':
      return `the password must be at least ${PASSWORD_MIN_LENGTH} characters long`;
    case 'too_long':
      return `the password must be at most ${PASSWORD_MAX_LENGTH} characters long`;
    case 'too_common':
      return 'this password is one of the most commonly used passwords; choose another';
  }
}
