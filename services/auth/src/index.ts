/**
 * @tollgate/auth's public entry point: what the dev stack (`npm start`), the
 * end-to-end tests, the benches and billing's tests build an auth service
 * from. Everything else under src/ is internal: package.json's `exports`
 * offers this module only.
 */
export { buildApp } from './app.js';
export { bootstrapDatabase, ensureSuperuser } from './bootstrap.js';
export { type Config, loadConfig } from './config.js';
export { migrateAuthDatabase } from './db/migrate.js';
export { createPrismaClient } from './db/prisma.js';
export { createRolesService } from './domain/roles/roles.service.js';
export { generatePrivateJwk, keySetFromJwks } from './domain/tokens/signing-keys.js';
export { memoryState, redisState } from './shared-state.js';
