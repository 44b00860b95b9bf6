// Prisma CLI configuration: the one every service shares (packages/service-kit/src/prisma-config.ts).
import { prismaConfig } from '@tollgate/service-kit/prisma-config';

export default prismaConfig(import.meta.dirname, 'tollgate_auth');
