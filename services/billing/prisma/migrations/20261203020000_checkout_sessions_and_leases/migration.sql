-- The Checkout Sessions billing created (checkout and the success page read
-- these instead of calling Stripe per request), and leases: per-customer
-- locks for checkout creation that hold no transaction open while Stripe is asked.
CREATE TABLE "checkout_sessions" (
    "id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "price_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "payment_status" TEXT NOT NULL,
    "subscription_id" TEXT,
    "subscription_status" TEXT,
    "url" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "refreshed_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "checkout_sessions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "checkout_sessions_customer_id_status_idx" ON "checkout_sessions"("customer_id", "status");

CREATE TABLE "leases" (
    "name" TEXT NOT NULL,
    "holder" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "leases_pkey" PRIMARY KEY ("name")
);
