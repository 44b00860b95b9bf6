export {
  createMemoryLoginLockout,
  createRedisLoginLockout,
  type LockoutPolicy,
  type LockoutStatus,
  type LoginLockout,
  lockoutSubject,
} from './login-lockout.js';
