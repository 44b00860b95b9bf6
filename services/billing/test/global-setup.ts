/**
 * Once per run: the auth service's database (migrated) and a Redis key
 * prefix. Each test file provisions its own billing database (test/stack.ts),
 * because its queue workers must only see that file's emulator.
 */
import { migrateAuthDatabase } from '@tollgate/auth';
import { provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    authDatabaseUrl: string;
    redisUrl: string;
    redisKeyPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  const database = await provisionDatabase('billing_auth');
  const redis = await provisionRedis('billing');
  await migrateAuthDatabase(database.url);
  project.provide('authDatabaseUrl', database.url);
  project.provide('redisUrl', redis.url);
  project.provide('redisKeyPrefix', redis.keyPrefix);
  return async () => {
    await redis.release();
    await database.release();
  };
}
