/**
 * The skeleton of every service's config.ts: the environment read against a
 * TypeBox schema (env-schema: defaults, coercion, one error naming every bad
 * variable), then, in production, the service's list of what only makes sense
 * on a developer's machine (development secrets, missing settings), refused
 * together in one message.
 */
import type { Static, TObject } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

export type Env = Record<string, string | undefined>;

/** A setting the service cannot start with; the message is for the operator. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * `productionProblems` runs only when NODE_ENV is `production` and returns one
 * sentence per problem; any problem refuses the start.
 */
export function loadEnv<S extends TObject>(
  schema: S,
  env: Env,
  productionProblems?: (raw: Static<S>, env: Env) => string[],
): Static<S> {
  const raw = envSchema<Static<S>>({ schema, data: env, env: false, dotenv: false });
  if ((raw as { NODE_ENV?: string }).NODE_ENV === 'production' && productionProblems) {
    const problems = productionProblems(raw, env);
    if (problems.length > 0) throw new ConfigError(`refusing to start in production: ${problems.join('; ')}`);
  }
  return raw;
}
