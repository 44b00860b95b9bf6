/**
 * The current user's profile as GET /v1/auth/me shows it, with a short
 * in-process cache: a client polling /me costs a map lookup instead of two
 * queries. Writes made through this process clear it at once; writes made
 * by another instance show after at most `ttlMs`.
 */
import { Problems } from '../../errors.js';
import type { UsersRepository } from './users.repository.js';

export interface Profile {
  id: string;
  login: string;
  email: string;
  email_verified: boolean;
  roles: string[];
  created_at: string;
}

export function createProfiles(users: UsersRepository, ttlMs = 1_000, maxEntries = 10_000) {
  const cache = new Map<string, { at: number; profile: Profile }>();

  return {
    async get(userId: string): Promise<Profile> {
      const hit = cache.get(userId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.profile;
      const user = await users.findById(userId);
      if (!user) throw Problems.userNotFound();
      const profile = {
        id: user.id,
        login: user.login,
        email: user.email,
        email_verified: user.emailVerifiedAt !== null,
        roles: await users.activeRoleNames(user.id),
        created_at: user.createdAt.toISOString(),
      };
      cache.delete(userId);
      cache.set(userId, { at: Date.now(), profile });
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      return profile;
    },
    invalidate(userId: string): void {
      cache.delete(userId);
    },
    /** After role changes, which may touch any number of users. */
    clear(): void {
      cache.clear();
    },
  };
}

export type Profiles = ReturnType<typeof createProfiles>;
