import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from './config.js';

const Schema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  PORT: Type.Integer({ default: 3000 }),
  SECRET: Type.String({ default: 'dev-secret' }),
});
const devSecret = (raw: { SECRET: string }) => (raw.SECRET === 'dev-secret' ? ['SECRET must be set'] : []);

describe('loadEnv', () => {
  it('applies defaults and coerces types from the environment', () => {
    expect(loadEnv(Schema, { PORT: '8080' })).toEqual({
      NODE_ENV: 'development',
      PORT: 8080,
      SECRET: 'dev-secret',
    });
  });

  it('names a malformed variable', () => {
    expect(() => loadEnv(Schema, { PORT: 'eighty' })).toThrow(/PORT/);
  });

  it('outside production, development defaults are fine', () => {
    expect(loadEnv(Schema, {}, devSecret).SECRET).toBe('dev-secret');
  });

  it('in production, refuses every problem in one message', () => {
    const problems = () => ['SECRET must be set', 'DATABASE_URL must be set'];
    expect(() => loadEnv(Schema, { NODE_ENV: 'production' }, problems)).toThrow(
      new ConfigError('refusing to start in production: SECRET must be set; DATABASE_URL must be set'),
    );
    expect(loadEnv(Schema, { NODE_ENV: 'production', SECRET: 's3cret' }, devSecret).SECRET).toBe('s3cret');
  });
});
