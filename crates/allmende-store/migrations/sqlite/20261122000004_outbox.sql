-- Durable outbox. A local change and the announcement of it are written in
-- one transaction (outbox_events); a worker turns each event into a signed
-- activity (outgoing_activities) and one delivery per inbox (deliveries).
-- Workers claim rows for a lease; a crashed worker's claims expire.

CREATE TABLE outbox_events (
    id               TEXT PRIMARY KEY NOT NULL,  -- UUIDv7: claimed oldest first
    organization_id  TEXT NOT NULL,              -- who announces
    announcement     TEXT NOT NULL,              -- JSON: allmende_store::Announcement
    created_at       TEXT NOT NULL,
    claimed_until    TEXT
);

CREATE TABLE outgoing_activities (
    id          TEXT PRIMARY KEY NOT NULL,  -- the activity's ActivityPub id
    sender      TEXT NOT NULL,              -- owner of the signing key
    key_id      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY NOT NULL,  -- UUIDv7
    activity_id      TEXT NOT NULL REFERENCES outgoing_activities(id) ON DELETE CASCADE,
    inbox            TEXT NOT NULL,
    host             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    claimed_by       TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at);
CREATE INDEX deliveries_host ON deliveries(host);
CREATE INDEX deliveries_activity ON deliveries(activity_id);

-- Peers that fail: since when, and whether deliveries to them are paused.
CREATE TABLE peers (
    host               TEXT PRIMARY KEY NOT NULL,
    failing_since      TEXT NOT NULL,
    unreachable_since  TEXT,
    last_error         TEXT,
    probed_at          TEXT
);

-- Following a remote organization imports its public items, page by page;
-- the position is kept so an interrupted import resumes.
CREATE TABLE backfills (
    follower_id  TEXT NOT NULL,
    target_id    TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    next_page    TEXT,             -- URL of the next outbox page; NULL: not started
    imported     INTEGER NOT NULL DEFAULT 0,
    pages        INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    claimed_until TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (follower_id, target_id)
);

-- Activities accepted by an inbox, stored before the 2xx answer is sent and
-- kept until they have taken effect: one a crash interrupted is processed
-- by the worker after the restart.
CREATE TABLE inbox_queue (
    id               TEXT PRIMARY KEY NOT NULL,
    activity_id      TEXT NOT NULL UNIQUE,
    actor_id         TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_until    TEXT,
    last_error       TEXT,
    received_at      TEXT NOT NULL
);
CREATE INDEX inbox_queue_due ON inbox_queue(next_attempt_at);
