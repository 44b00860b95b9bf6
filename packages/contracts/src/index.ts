export * from './auth-roles-client.js';
export * from './change-cause.js';
export * from './entitlements-sync.js';
export * from './internal-users.js';
export * from './role-grants.js';
export * from './service-caller.js';
export * from './sources.js';
