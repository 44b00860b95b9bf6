-- Only products marked tollgate_sellable=true in their Stripe metadata can be
-- bought (plus SELLABLE_PRODUCTS in billing's config). Backfilled from the
-- mirrored Stripe object, so an existing mirror needs no re-sync.
ALTER TABLE "products" ADD COLUMN "sellable" BOOLEAN NOT NULL DEFAULT false;
UPDATE "products" SET "sellable" = lower(trim("raw" -> 'metadata' ->> 'tollgate_sellable')) = 'true'
 WHERE "raw" -> 'metadata' ? 'tollgate_sellable';
