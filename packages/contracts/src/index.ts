export * from './auth-roles-client.js';
export * from './role-grants.js';
export * from './sources.js';
