/**
 * The OpenAPI document every service publishes (@fastify/swagger): OpenAPI
 * 3.1, the shared introduction (how to authorize), bearer tokens, the
 * service's tags; the internal API and the probes left out (the gateway does
 * not route them), schema $refs resolved to their ids.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { API_INTRO } from './brand.js';
import { hidePrivateRoutes, openApiRefResolver } from './http.js';

export interface OpenApiInput {
  title: string;
  /** What the service does; the shared introduction follows it. */
  description: string;
  tags: { name: string; description: string }[];
  /** Schemes beside `bearerAuth` (e.g. HTTP Basic for client credentials). */
  securitySchemes?: Record<string, { type: 'http'; scheme: string; bearerFormat?: string }>;
  servers?: { url: string }[];
}

export function openApiOptions(input: OpenApiInput): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: input.title, version: '1.0.0', description: `${input.description}\n\n${API_INTRO}` },
      ...(input.servers ? { servers: input.servers } : {}),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          ...input.securitySchemes,
        },
      },
      tags: input.tags,
    },
    // The internal API and the probes are not reachable through the gateway.
    transform: hidePrivateRoutes,
    refResolver: openApiRefResolver,
  };
}
