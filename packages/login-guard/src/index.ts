export {
  createMemoryLoginLockout,
  createRedisLoginLockout,
  type LockoutPolicy,
  type LockoutStatus,
  type LoginLockout,
} from './login-lockout.js';
