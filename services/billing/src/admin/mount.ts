/**
 * Mounts the AdminJS panel (./index.ts) at /admin. AdminJS, its Prisma adapter
 * and the schema engine are imported here, when billing builds its app, not
 * with billing's other modules; and in production from `npm run build`'s
 * output the components' browser bundle is the one built then, not bundled at
 * start (architecture/decisions/0020-production-build.md).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AdminOptions } from './index.js';

/** Where tools/build.mjs leaves the components' bundle (billing's dist/adminjs). */
export const PREBUILT_BUNDLE_DIR = path.join(import.meta.dirname, '..', '..', 'dist', 'adminjs');

export async function mountAdmin(app: FastifyInstance, options: AdminOptions): Promise<void> {
  if (options.production && existsSync(path.join(PREBUILT_BUNDLE_DIR, 'bundle.js'))) {
    // AdminJS reads both when its modules load (the directory) and at initialize() (the
    // skip), from the environment only: hence before the import below.
    process.env.ADMIN_JS_TMP_DIR ??= PREBUILT_BUNDLE_DIR;
    process.env.ADMIN_JS_SKIP_BUNDLE ??= 'true';
  }
  const { registerAdmin } = await import('./index.js');
  await registerAdmin(app, options);
}
