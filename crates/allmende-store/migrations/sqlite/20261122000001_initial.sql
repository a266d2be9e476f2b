-- Allmende initial schema (SQLite).
-- Items keep their validated content as a JSON document (the domain types
-- are the schema); columns beside it exist only to filter and sort.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    handle      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    profile     TEXT NOT NULL,      -- JSON: OrganizationDraft
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,  -- argon2id PHC string
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

-- Browser sessions; only a SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- API tokens; shown once, stored as SHA-256.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    themenfeld       TEXT,
    public           INTEGER NOT NULL DEFAULT 1,
    content          TEXT NOT NULL,  -- JSON: ProjectDraft
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX projects_org ON projects(organization_id, created_at);
CREATE INDEX projects_created ON projects(created_at);

CREATE TABLE questions (
    id                  TEXT PRIMARY KEY NOT NULL,
    organization_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title               TEXT NOT NULL,
    themenfeld          TEXT,
    public              INTEGER NOT NULL DEFAULT 1,  -- 0: followers only
    content             TEXT NOT NULL,  -- JSON: QuestionDraft
    accepted_answer_id  TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX questions_org ON questions(organization_id, created_at);
CREATE INDEX questions_created ON questions(created_at);

CREATE TABLE answers (
    id               TEXT PRIMARY KEY NOT NULL,
    question_id      TEXT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX answers_question ON answers(question_id, created_at);

CREATE TABLE solutions (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    themenfeld       TEXT,
    public           INTEGER NOT NULL DEFAULT 1,
    content          TEXT NOT NULL,  -- JSON: SolutionDraft
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX solutions_org ON solutions(organization_id, created_at);
CREATE INDEX solutions_created ON solutions(created_at);

-- Full-text index over every item. Text is normalised in Rust before it is
-- written or queried (lowercase, ä→ae, ö→oe, ü→ue, ß→ss), because the
-- tokenizer folds accents but not ß.
CREATE VIRTUAL TABLE search_index USING fts5(
    kind UNINDEXED,
    item_id UNINDEXED,
    title,
    content,
    tokenize = 'unicode61 remove_diacritics 2'
);
