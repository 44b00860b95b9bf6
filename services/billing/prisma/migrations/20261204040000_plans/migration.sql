-- Plans (issue 12, items 5-7): trials given or refused (one per user, one per
-- card fingerprint), the promotion code a subscription was bought with, and
-- plan changes waiting for the period end (a Stripe subscription schedule).
CREATE TABLE "plan_trials" (
    "subscription_id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "customer_id" TEXT NOT NULL,
    "trial_days" INTEGER NOT NULL,
    "fingerprint" TEXT,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "trial_end" TIMESTAMPTZ(3),
    "will_end_notified_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "plan_trials_pkey" PRIMARY KEY ("subscription_id")
);
CREATE INDEX "plan_trials_user_id_idx" ON "plan_trials"("user_id");
-- One granted trial per card, whichever account: the second insert fails, so
-- two accounts racing with one card cannot both keep a trial.
CREATE UNIQUE INDEX "plan_trials_granted_fingerprint_key" ON "plan_trials"("fingerprint")
    WHERE "outcome" = 'granted' AND "fingerprint" IS NOT NULL;

CREATE TABLE "plan_discounts" (
    "subscription_id" TEXT NOT NULL,
    "promotion_code_id" TEXT,
    "code" TEXT,
    "coupon_id" TEXT NOT NULL,
    "coupon_name" TEXT,
    "percent_off" DOUBLE PRECISION,
    "amount_off" INTEGER,
    "currency" TEXT,
    "duration" TEXT NOT NULL,
    "duration_in_months" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "plan_discounts_pkey" PRIMARY KEY ("subscription_id")
);

CREATE TABLE "plan_changes" (
    "id" UUID NOT NULL,
    "subscription_id" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "from_price_id" TEXT NOT NULL,
    "to_price_id" TEXT NOT NULL,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    "schedule_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "plan_changes_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "plan_changes_schedule_id_idx" ON "plan_changes"("schedule_id");
-- At most one change waits per subscription.
CREATE UNIQUE INDEX "plan_changes_pending_subscription_key" ON "plan_changes"("subscription_id")
    WHERE "status" = 'pending';
