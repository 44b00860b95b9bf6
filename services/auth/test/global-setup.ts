/**
 * One fresh database and one Redis key prefix for the whole run, migrated
 * once (test/helpers.ts hands them to each file through `inject`).
 */
import { provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import type { TestProject } from 'vitest/node';
import { migrateAuthDatabase } from '../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisKeyPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  const database = await provisionDatabase('auth');
  const redis = await provisionRedis('auth');
  await migrateAuthDatabase(database.url);
  project.provide('databaseUrl', database.url);
  project.provide('redisUrl', redis.url);
  project.provide('redisKeyPrefix', redis.keyPrefix);
  return async () => {
    await redis.release();
    await database.release();
  };
}
