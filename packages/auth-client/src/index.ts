export * from './claims.js';
export * from './revocation.js';
export * from './verifier.js';
