-- Allmende initial schema (PostgreSQL). Mirrors the SQLite migration of the
-- same number; the statements of the store run unchanged on both, so ids
-- (UUIDv7) and item documents (JSON) are text here too. Times are
-- timestamptz, flags boolean, counters bigint.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    profile     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    themenfeld       TEXT,
    public           BOOLEAN NOT NULL DEFAULT TRUE,
    content          TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_org ON projects(organization_id, created_at);
CREATE INDEX projects_created ON projects(created_at);

CREATE TABLE questions (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title               TEXT NOT NULL,
    themenfeld          TEXT,
    public              BOOLEAN NOT NULL DEFAULT TRUE,
    content             TEXT NOT NULL,
    accepted_answer_id  TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX questions_org ON questions(organization_id, created_at);
CREATE INDEX questions_created ON questions(created_at);

CREATE TABLE answers (
    id               TEXT PRIMARY KEY,
    question_id      TEXT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    body             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX answers_question ON answers(question_id, created_at);

CREATE TABLE solutions (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    themenfeld       TEXT,
    public           BOOLEAN NOT NULL DEFAULT TRUE,
    content          TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX solutions_org ON solutions(organization_id, created_at);
CREATE INDEX solutions_created ON solutions(created_at);

-- Full-text index over every item. Text arrives normalised by the store
-- (lowercase, ä→ae, ö→oe, ü→ue, ß→ss); the 'simple' configuration keeps
-- words as they are, so prefix queries behave as with SQLite's FTS5. Title
-- words weigh more (A) than body words (B).
CREATE TABLE search_index (
    kind      TEXT NOT NULL,
    item_id   TEXT NOT NULL,
    title     TEXT NOT NULL,
    content   TEXT NOT NULL,
    document  TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', content), 'B')
    ) STORED,
    PRIMARY KEY (kind, item_id)
);
CREATE INDEX search_index_document ON search_index USING GIN (document);
