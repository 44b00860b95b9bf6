import { describe, expect, it } from 'vitest';
import { API_INTRO } from './brand.js';
import { hidePrivateRoutes, openApiRefResolver } from './http.js';
import { openApiOptions } from './openapi.js';

describe('openApiOptions', () => {
  it('is OpenAPI 3.1 with bearer tokens, the shared introduction, private routes hidden', () => {
    const options = openApiOptions({
      title: 'tollgate x',
      description: 'Does x.',
      tags: [{ name: 'x', description: 'X' }],
      securitySchemes: { clientBasic: { type: 'http', scheme: 'basic' } },
    }) as { openapi: Record<string, unknown>; transform: unknown; refResolver: unknown };
    expect(options.openapi).toEqual({
      openapi: '3.1.0',
      info: { title: 'tollgate x', version: '1.0.0', description: `Does x.\n\n${API_INTRO}` },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          clientBasic: { type: 'http', scheme: 'basic' },
        },
      },
      tags: [{ name: 'x', description: 'X' }],
    });
    expect(options.transform).toBe(hidePrivateRoutes);
    expect(options.refResolver).toBe(openApiRefResolver);
  });
});
