export * from './claims.js';
export * from './features.js';
export * from './jwks.js';
export * from './redis.js';
export * from './revocation.js';
export * from './verifier.js';
