-- CreateTable
CREATE TABLE "user_entitlements" (
    "user_id" UUID NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    "features" JSONB NOT NULL DEFAULT '{}',
    "floor_version" BIGINT NOT NULL DEFAULT 0,
    "floor_until" TIMESTAMPTZ(3),
    "floor_published_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_entitlements_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "role" TEXT,
    "source" TEXT,
    "actor" TEXT,
    "cause" JSONB,
    "details" JSONB,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "user_entitlements_floor_until_idx" ON "user_entitlements"("floor_until");

-- CreateIndex
CREATE INDEX "audit_log_user_id_at_idx" ON "audit_log"("user_id", "at" DESC);

-- AddForeignKey
ALTER TABLE "user_entitlements" ADD CONSTRAINT "user_entitlements_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
