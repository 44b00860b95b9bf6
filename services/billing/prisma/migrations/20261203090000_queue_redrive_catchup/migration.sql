-- Dead events are re-driven automatically when Stripe is healthy again, at
-- most WEBHOOK_REDRIVE_LIMIT times each: this counts the re-drives.
ALTER TABLE "webhook_events" ADD COLUMN "redrive_count" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "webhook_events" ADD COLUMN "redriven_at" TIMESTAMPTZ(3);

-- Where the catch-up over Stripe's event list got to (one row per cursor).
CREATE TABLE "stripe_cursors" (
    "id" TEXT NOT NULL,
    "created_until" TIMESTAMPTZ(3) NOT NULL,
    "last_run_at" TIMESTAMPTZ(3) NOT NULL,
    "last_accepted" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "stripe_cursors_pkey" PRIMARY KEY ("id")
);
