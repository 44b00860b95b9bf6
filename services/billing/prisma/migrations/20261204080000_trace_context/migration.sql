-- The W3C traceparent stored with queued work, so the job's span continues the
-- trace of the request that queued it (ADR 0025). Nullable: rows written before
-- this, or with tracing off, start a trace of their own.
ALTER TABLE "webhook_events" ADD COLUMN "traceparent" TEXT;
ALTER TABLE "role_syncs" ADD COLUMN "traceparent" TEXT;
