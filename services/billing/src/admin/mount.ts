/**
 * Mounts the AdminJS panel (./index.ts) at /admin, loaded at the first request
 * to /admin rather than at start: AdminJS brings its whole front end (React,
 * its design system) into the server process, about 170 MB of the process's
 * memory, which a billing replica nobody opens the panel on never needs
 * (architecture/decisions/0020-production-build.md).
 *
 * Fastify takes no routes once it is listening, so the panel lives in a
 * second Fastify instance (built by `createHost`, with the same server options
 * and request hygiene), made on first use; this one forwards /admin and
 * /admin/* to it untouched, body unread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminOptions } from './index.js';

/** Where tools/build.mjs leaves the components' browser bundle (billing's dist/adminjs). */
export const PREBUILT_BUNDLE_DIR = path.join(import.meta.dirname, '..', '..', 'dist', 'adminjs');

export interface MountAdminOptions {
  admin: AdminOptions;
  /** A Fastify instance configured as the service's own (logging, errors, hygiene), not listening. */
  createHost: () => Promise<FastifyInstance>;
}

async function loadPanel(createHost: () => Promise<FastifyInstance>, admin: AdminOptions) {
  // `npm run build` replaces TOLLGATE_BUILD with "dist" in its output: running from the build
  // (production, the image, `npm start`), the panel serves the bundle made at build time.
  // From the sources (tsx), AdminJS bundles the components itself, so edits show.
  if (process.env.TOLLGATE_BUILD === 'dist' && existsSync(path.join(PREBUILT_BUNDLE_DIR, 'bundle.js'))) {
    // AdminJS reads both from the environment only: the directory when its modules load,
    // the skip at initialize(); hence set before the import below.
    process.env.ADMIN_JS_TMP_DIR ??= PREBUILT_BUNDLE_DIR;
    process.env.ADMIN_JS_SKIP_BUNDLE ??= 'true';
  }
  const { registerAdmin } = await import('./index.js');
  const host = await createHost();
  await registerAdmin(host, admin);
  await host.ready();
  return host;
}

export async function mountAdmin(
  app: FastifyInstance,
  { admin, createHost }: MountAdminOptions,
): Promise<void> {
  const rootPath = admin.rootPath ?? '/admin';
  let panel: Promise<FastifyInstance> | undefined;
  const load = () => {
    panel ??= loadPanel(createHost, admin).catch((error: unknown) => {
      // The next request tries again.
      panel = undefined;
      throw error;
    });
    return panel;
  };
  app.addHook('onClose', async () => {
    const host = await panel?.catch(() => undefined);
    await host?.close();
  });

  await app.register(async (scope) => {
    // The body stays in the request stream for the panel's own parsers (forms, JSON, uploads).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      const host = await load();
      // The same request id in both instances' logs.
      request.raw.headers['x-request-id'] = request.id;
      reply.hijack();
      host.routing(request.raw, reply.raw);
    };
    scope.all(rootPath, { schema: { hide: true } }, forward);
    scope.all(`${rootPath}/*`, { schema: { hide: true } }, forward);
  });
}
