-- AdminJS panel sessions, shared by every billing replica (they were in each
-- process's memory, so behind round-robin most requests after a login landed
-- on a replica that had never seen it).
CREATE TABLE "admin_sessions" (
    "sid" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "admin_sessions_pkey" PRIMARY KEY ("sid")
);

CREATE INDEX "admin_sessions_expires_at_idx" ON "admin_sessions"("expires_at");
