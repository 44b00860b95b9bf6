/**
 * @adminjs/prisma reads the models from `Prisma.dmmf`, which the new
 * `prisma-client` generator no longer exports in full. We build the same
 * DMMF from the schema file with Prisma's own schema engine (WebAssembly,
 * offline), pinned to the engines version our Prisma CLI ships.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const wasm = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };

export const SCHEMA_PATH = path.join(import.meta.dirname, '..', '..', 'prisma', 'schema.prisma');

export interface DmmfDatamodel {
  models: { name: string; fields: unknown[] }[];
  enums: { name: string; values: { name: string }[] }[];
}

export function loadDatamodel(schemaPath = SCHEMA_PATH): DmmfDatamodel {
  const dmmf = JSON.parse(
    wasm.get_dmmf(JSON.stringify({ prismaSchema: readFileSync(schemaPath, 'utf8') })),
  ) as {
    datamodel: DmmfDatamodel;
  };
  return dmmf.datamodel;
}
