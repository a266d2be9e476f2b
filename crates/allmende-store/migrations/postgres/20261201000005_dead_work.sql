-- (PostgreSQL; mirrors the SQLite migration of the same number.)
-- Nothing stuck: every background job (announcement, delivery, received
-- activity, backfill) has an attempt cap and a dead state that keeps its
-- last error. Dead work is skipped by the workers; operators list, retry
-- and drop it per peer (`allmende queue …`, /admin/queue).

ALTER TABLE outbox_events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox_events ADD COLUMN next_attempt_at TIMESTAMPTZ;   -- NULL: due now
ALTER TABLE outbox_events ADD COLUMN last_error TEXT;
ALTER TABLE outbox_events ADD COLUMN dead_at TIMESTAMPTZ;

ALTER TABLE deliveries ADD COLUMN dead_at TIMESTAMPTZ;
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE dead_at IS NULL;

-- The peer (host[:port]) of the sending actor, for per-peer operations.
ALTER TABLE inbox_queue ADD COLUMN peer TEXT;
ALTER TABLE inbox_queue ADD COLUMN dead_at TIMESTAMPTZ;
DROP INDEX inbox_queue_due;
CREATE INDEX inbox_queue_due ON inbox_queue(next_attempt_at) WHERE dead_at IS NULL;

-- The peer of the followed organization.
ALTER TABLE backfills ADD COLUMN peer TEXT;
ALTER TABLE backfills ADD COLUMN last_error TEXT;
ALTER TABLE backfills ADD COLUMN dead_at TIMESTAMPTZ;

-- Listing, expiring and purging dead work reads only dead rows.
CREATE INDEX outbox_events_dead ON outbox_events(dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX deliveries_dead ON deliveries(dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX inbox_queue_dead ON inbox_queue(dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX backfills_dead ON backfills(dead_at) WHERE dead_at IS NOT NULL;
