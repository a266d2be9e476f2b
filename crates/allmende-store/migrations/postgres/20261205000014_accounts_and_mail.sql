-- People in the browser (issue 16): invitations, password resets, an
-- audit log; e-mail: a durable queue, notification events, watches and
-- daily digests.

-- An invitation to join an organization with a role. Only a SHA-256 of
-- the token in the link is kept.
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    email            TEXT NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    invited_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitations_org ON invitations(organization_id);

-- A password reset link (SHA-256 of its token), valid for an hour, once.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id, created_at);

-- Who did what to organizations and people: never changed, kept with the
-- organization (NULL: the node itself, e.g. an operator's action).
CREATE TABLE audit_log (
    id               TEXT PRIMARY KEY NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    actor            TEXT NOT NULL,
    organization_id  TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    action           TEXT NOT NULL,
    subject          TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(organization_id, at);
CREATE INDEX audit_log_at ON audit_log(at);

-- Mail waiting to be sent. A failed SMTP server loses nothing: rows stay
-- until the server took them (then they are deleted), retried with
-- growing waits, and are given up (dead, kept for operators) only after
-- many attempts.
CREATE TABLE mail_queue (
    id               TEXT PRIMARY KEY NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    unsubscribe_url  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    claimed_until    TIMESTAMPTZ,
    last_error       TEXT,
    dead_at          TIMESTAMPTZ
);
CREATE INDEX mail_queue_due ON mail_queue(next_attempt_at);

-- What may concern someone (an answer, an accepted answer, a new item,
-- an item shared with a group), written in the transaction that made it
-- and turned into mails or digest entries by a background job.
CREATE TABLE notification_events (
    id             TEXT PRIMARY KEY NOT NULL,
    event          TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    claimed_until  TIMESTAMPTZ
);

-- One notification per person and subject, however many ways it reached
-- them (a watched service and a watched group).
CREATE TABLE notifications_sent (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject  TEXT NOT NULL,
    sent_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, subject)
);

-- Services (LeiKa keys) and groups a person watches.
CREATE TABLE watches (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind, target)
);
CREATE INDEX watches_target ON watches(kind, target);

-- Notifications collected for a daily digest.
CREATE TABLE digest_entries (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    line_de     TEXT NOT NULL,
    line_en     TEXT NOT NULL,
    url         TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX digest_entries_user ON digest_entries(user_id, created_at);

-- How a person wants to hear of what concerns them: immediate, daily or
-- off; the token of their unsubscribe links; when their last digest went.
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT 'immediate';
ALTER TABLE users ADD COLUMN unsubscribe_token TEXT;
ALTER TABLE users ADD COLUMN last_digest_at TIMESTAMPTZ;
