export * from './brand.js';
export * from './health.js';
export * from './http.js';
export * from './input.js';
export * from './metrics.js';
export * from './problem.js';
export * from './problem-catalogue.js';
export * from './process-guard.js';
