/**
 * The Prisma CLI's configuration of every service (its prisma.config.ts is
 * this, with its folder and default database). Migrations run through the
 * JavaScript schema engine (WebAssembly) over @prisma/adapter-pg, so no
 * native engine binary is downloaded: see architecture/decisions/0002-prisma-6-offline.md.
 * A subpath export (`@tollgate/service-kit/prisma-config`): the services
 * themselves never load the Prisma CLI's code.
 */
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

/** @param serviceDir the folder holding prisma/schema.prisma; @param defaultDatabase used when DATABASE_URL is unset */
export function prismaConfig(serviceDir: string, defaultDatabase: string) {
  // The CLI looks for native engines unless these point somewhere; the JS engine never uses them.
  process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false';
  process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= path.join(serviceDir, 'prisma', '.no-native-engine');
  process.env.DATABASE_URL ??= `postgresql://postgres@127.0.0.1:5432/${defaultDatabase}`;
  return defineConfig({
    schema: path.join(serviceDir, 'prisma', 'schema.prisma'),
    experimental: { adapter: true },
    engine: 'js',
    async adapter() {
      // A short idle timeout lets the CLI exit as soon as it is done.
      return new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 200 });
    },
  });
}
