/**
 * Auth's internal role API client. It lives in @tollgate/contracts beside the
 * schemas auth's routes validate with, so the two sides cannot drift; this
 * module keeps billing's imports where they were.
 */
export {
  AuthCallError,
  type AuthRolesClient,
  type AuthRolesClientOptions,
  createAuthRolesClient,
  createEntitlementsSyncClient,
  type EntitlementsSyncClient,
} from '@tollgate/contracts';
