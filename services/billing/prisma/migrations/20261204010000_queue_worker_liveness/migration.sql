-- Issue 9, item 5 (ADR 0015): the queue workers' liveness. Each billing process that runs
-- workers has a row here and holds a session advisory lock keyed on its id for as long as it
-- lives; `jobs` lists the jobs it has in hand. When the process dies (kill -9), Postgres ends
-- its session and releases the lock: another process sees the lock free within a second and
-- fails those jobs into their retry, instead of waiting out pg-boss's heartbeat (10 s minimum).
CREATE TABLE "queue_workers" (
    "id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "jobs" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "queue_workers_pkey" PRIMARY KEY ("id")
);
