import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

export function createPrismaClient(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

/** True when `error` is a unique-constraint violation (Prisma P2002) on a field named `field`. */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  const e = error as { code?: string; meta?: Record<string, unknown> };
  if (e?.code !== 'P2002') return false;
  if (!field) return true;
  const meta = JSON.stringify(e.meta ?? {});
  return meta.includes(field);
}
