-- CreateTable
CREATE TABLE "session_revocations" (
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "session_revocations_pkey" PRIMARY KEY ("session_id")
);

-- CreateIndex
CREATE INDEX "session_revocations_not_after_idx" ON "session_revocations"("not_after");

-- CreateIndex
CREATE INDEX "session_revocations_user_id_not_after_idx" ON "session_revocations"("user_id", "not_after");

-- Sessions ended before this table existed whose access tokens may still be
-- live (default TTL 15 min + slack): they were published to Redis when they
-- ended, and are kept here so a rebuild of the cache includes them.
INSERT INTO "session_revocations" ("session_id", "user_id", "revoked_at", "not_after", "published_at")
SELECT "id", "user_id", "ended_at", "ended_at" + interval '15 minutes 10 seconds', "ended_at"
  FROM "sessions"
 WHERE "ended_at" > now() - interval '15 minutes 10 seconds';
