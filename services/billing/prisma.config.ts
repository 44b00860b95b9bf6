// Prisma CLI configuration. Migrations run through the JavaScript schema
// engine (WebAssembly) over @prisma/adapter-pg, so no native engine binary is
// downloaded: see architecture/0002-prisma-6-offline.md.
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The CLI looks for native engines unless these point somewhere; the JS engine
// never uses them.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/false';
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= path.join(import.meta.dirname, 'prisma', '.no-native-engine');
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/tollgate_billing';

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    // A short idle timeout lets the CLI exit as soon as it is done.
    return new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 200 });
  },
});
