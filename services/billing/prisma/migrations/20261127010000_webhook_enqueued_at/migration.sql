-- When the event's processing job was handed to the queue. The inbox row is
-- written first and answered at once; jobs are enqueued in batches, and rows
-- left without one (a crash in between) are found by this column.
ALTER TABLE "webhook_events" ADD COLUMN "enqueued_at" TIMESTAMPTZ(3);
CREATE INDEX "webhook_events_unqueued_idx" ON "webhook_events" ("received_at") WHERE "enqueued_at" IS NULL;
