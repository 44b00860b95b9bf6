-- Entitlements (ADR 0017): the Stripe Entitlements features of each product,
-- one-time purchases, the dunning state of each subscription, each user's
-- derived entitlements with a version, and one row per change of them (the
-- outbox that pushes them to auth, carrying the change's cause).

ALTER TABLE "products" ADD COLUMN "features_synced_at" TIMESTAMPTZ(3);

CREATE TABLE "product_features" (
    "product_id" TEXT NOT NULL,
    "feature_id" TEXT NOT NULL,
    "lookup_key" TEXT NOT NULL,
    "limit" INTEGER,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "product_features_pkey" PRIMARY KEY ("product_id", "feature_id"),
    CONSTRAINT "product_features_product_id_fkey" FOREIGN KEY ("product_id")
        REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

ALTER TABLE "subscriptions" ADD COLUMN "dunning_state" TEXT;
ALTER TABLE "subscriptions" ADD COLUMN "dunning_next_state" TEXT;
ALTER TABLE "subscriptions" ADD COLUMN "dunning_next_step_at" TIMESTAMPTZ(3);
CREATE INDEX "subscriptions_dunning_next_step_at_idx" ON "subscriptions"("dunning_next_step_at");
-- Rows written before dunning existed: the next sync fills them; until then their state follows Stripe's status.
UPDATE "subscriptions" SET "dunning_state" = CASE
    WHEN "status" IN ('active', 'trialing') THEN 'active'
    WHEN "status" = 'past_due' THEN 'past_due'
    WHEN "status" IN ('canceled', 'unpaid', 'incomplete_expired') THEN 'revoked'
    ELSE 'inactive' END,
  "dunning_next_state" = CASE WHEN "status" = 'past_due' THEN 'revoked' ELSE NULL END,
  "dunning_next_step_at" = CASE WHEN "status" = 'past_due' THEN "entitlement_expires_at" ELSE NULL END;

CREATE TABLE "purchases" (
    "id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "customer_id" TEXT,
    "price_id" TEXT NOT NULL,
    "product_id" TEXT NOT NULL,
    "payment_intent_id" TEXT,
    "status" TEXT NOT NULL,
    "purchased_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "refunded_at" TIMESTAMPTZ(3),
    "raw" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "purchases_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "purchases_payment_intent_id_key" ON "purchases"("payment_intent_id");
CREATE INDEX "purchases_user_id_idx" ON "purchases"("user_id");
CREATE INDEX "purchases_status_expires_at_idx" ON "purchases"("status", "expires_at");

CREATE TABLE "user_entitlements" (
    "user_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "features" JSONB NOT NULL,
    "roles" JSONB NOT NULL,
    "sources" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "user_entitlements_pkey" PRIMARY KEY ("user_id")
);

CREATE TABLE "entitlement_changes" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "previous" JSONB NOT NULL,
    "features" JSONB NOT NULL,
    "cause" JSONB NOT NULL,
    "status" "role_sync_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "job_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),
    CONSTRAINT "entitlement_changes_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "entitlement_changes_user_id_version_key" ON "entitlement_changes"("user_id", "version");
CREATE INDEX "entitlement_changes_status_created_at_idx" ON "entitlement_changes"("status", "created_at");
