-- Subscriptions are fetched from Stripe outside any transaction, then applied
-- under a lock only if no later-started fetch was applied already: each fetch
-- draws a ticket from this sequence first, and the row keeps the ticket of the
-- fetch it holds.
CREATE SEQUENCE "stripe_fetch_seq" AS BIGINT;
-- Stored as a double (exact for integers below 2^53) so the row stays
-- JSON-serializable for the admin panel; a bigint column came back as a JS BigInt.
ALTER TABLE "subscriptions" ADD COLUMN "fetch_seq" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- An event about an object Stripe does not know (404 on re-fetch): stored, never applied.
ALTER TYPE "webhook_event_status" ADD VALUE 'orphaned';
