/**
 * POST /api/v1/webhook: the one route that reads its body raw (the signature
 * covers the exact bytes), in its own encapsulated scope so every other
 * route keeps the normal JSON parser.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Inbox } from '../../domain/webhooks/inbox.js';
import { problems } from '../schemas.js';

export const webhookRoutes: FastifyPluginAsync<{ inbox: Inbox }> = async (app, { inbox }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/webhook',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        tags: ['webhooks'],
        summary: 'Stripe webhook endpoint (signature checked with a 300 s tolerance; stored, then processed)',
        headers: {
          type: 'object',
          properties: { 'stripe-signature': { type: 'string' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { received: { type: 'boolean' }, duplicate: { type: 'boolean' } },
            required: ['received', 'duplicate'],
          },
          ...problems(400),
        },
      },
    },
    async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.from('');
      const event = inbox.verify(raw, request.headers['stripe-signature'] as string | undefined);
      const stored = await inbox.accept(event);
      if (!stored) request.log.info({ eventId: event.id }, 'duplicate webhook event ignored');
      return { received: true, duplicate: !stored };
    },
  );
};
