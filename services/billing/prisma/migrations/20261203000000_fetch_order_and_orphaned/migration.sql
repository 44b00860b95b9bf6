-- Subscriptions are fetched from Stripe outside any transaction, then applied
-- under a lock only if no later-started fetch was applied already: each fetch
-- draws a ticket from this sequence first, and the row keeps the ticket of the
-- fetch it holds.
CREATE SEQUENCE "stripe_fetch_seq" AS BIGINT;
ALTER TABLE "subscriptions" ADD COLUMN "fetch_seq" BIGINT NOT NULL DEFAULT 0;

-- An event about an object Stripe does not know (404 on re-fetch): stored, never applied.
ALTER TYPE "webhook_event_status" ADD VALUE 'orphaned';
