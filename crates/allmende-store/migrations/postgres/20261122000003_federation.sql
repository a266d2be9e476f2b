-- (PostgreSQL; mirrors the SQLite migration of the same number.)
-- Federation: keys, remote actors, follows, remote copies of items,
-- tombstones and the record of received activities.
--
-- Organizations on other nodes (and plain fediverse accounts that answer a
-- question or post to a follower) are rows of `organizations` too, with the
-- handle `name@host`, so that pages, lists and search treat their items like
-- local ones. What only a remote actor has lives in `remote_actors`.

CREATE TABLE remote_actors (
    organization_id  TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    actor_id         TEXT NOT NULL UNIQUE,   -- the actor's ActivityPub id (URL)
    actor_type       TEXT NOT NULL,          -- Organization, Person, Group, Service, Application
    inbox            TEXT NOT NULL,
    shared_inbox     TEXT,
    public_key_id    TEXT NOT NULL,
    public_key_pem   TEXT NOT NULL,
    profile_url      TEXT,                   -- the actor's human page, if it has one
    fetched_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX remote_actors_key ON remote_actors(public_key_id);

-- Private keys of this node's actors: one per local organization and one for
-- the instance actor (owner 'instance'). PKCS#8 DER.
CREATE TABLE signing_keys (
    owner           TEXT PRIMARY KEY,
    private_key     BYTEA NOT NULL,
    public_key_pem  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

-- Who follows whom, in both directions: a local organization following a
-- remote one, and remote actors following local organizations.
CREATE TABLE follows (
    follower_id   TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    target_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    activity_id   TEXT NOT NULL,             -- the Follow's id, matched by Accept/Reject/Undo
    accepted      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (follower_id, target_id)
);
CREATE INDEX follows_target ON follows(target_id, accepted);

-- Remote copies carry the id they have on their home node.
ALTER TABLE projects ADD COLUMN ap_id TEXT;
CREATE UNIQUE INDEX projects_ap_id ON projects(ap_id);
ALTER TABLE questions ADD COLUMN ap_id TEXT;
CREATE UNIQUE INDEX questions_ap_id ON questions(ap_id);
ALTER TABLE solutions ADD COLUMN ap_id TEXT;
CREATE UNIQUE INDEX solutions_ap_id ON solutions(ap_id);
ALTER TABLE answers ADD COLUMN ap_id TEXT;
CREATE UNIQUE INDEX answers_ap_id ON answers(ap_id);
-- Sanitised HTML of answers written in ordinary fediverse software.
ALTER TABLE answers ADD COLUMN body_html TEXT;

-- Notes and articles from followed fediverse accounts that are not Allmende
-- items: shown in the feed. Content is sanitised HTML.
CREATE TABLE posts (
    id               TEXT PRIMARY KEY,
    ap_id            TEXT NOT NULL UNIQUE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             TEXT,
    content_html     TEXT NOT NULL,
    url              TEXT,
    published        TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX posts_org ON posts(organization_id, published);

-- Deleted local objects answer 410 with a Tombstone.
CREATE TABLE tombstones (
    ap_id        TEXT PRIMARY KEY,
    former_type  TEXT NOT NULL,
    deleted_at   TIMESTAMPTZ NOT NULL
);

-- Ids of activities already processed: a redelivery is a no-op.
CREATE TABLE received_activities (
    activity_id  TEXT PRIMARY KEY,
    received_at  TIMESTAMPTZ NOT NULL
);
