-- German search with facets (issue 14). One row per searchable thing
-- (project, question, solution, organization) with what the facets count,
-- copied from the item and its author's profile so that a search reads one
-- table. The text lives in an FTS5 table whose rowid is the row's id; both
-- hold stems made in Rust (see search/analysis.rs), so SQLite and
-- PostgreSQL find the same things. The rows are filled at start-up by the
-- node (`search_meta` holds the version of the analysis they were made
-- with), because only Rust knows how to stem.
DROP TABLE search_index;
DROP TABLE search_keys;

CREATE TABLE search_docs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,      -- project, question, solution, organization
    item_id          TEXT NOT NULL,
    organization_id  TEXT NOT NULL,      -- the author; an organization's own id
    public           BOOLEAN NOT NULL,
    status           TEXT,
    themenfeld       TEXT,
    land             TEXT,
    org_kind         TEXT NOT NULL,
    size_class       TEXT,
    licence          TEXT,
    seeking_partners BOOLEAN NOT NULL,
    published        TEXT NOT NULL,
    UNIQUE (kind, item_id)
);
CREATE INDEX search_docs_organization ON search_docs(organization_id);
CREATE INDEX search_docs_published ON search_docs(published);

-- Services (LeiKa keys, OZG ids) of each row: service pages and the
-- service facet.
CREATE TABLE search_services (
    service  TEXT NOT NULL,
    doc_id   INTEGER NOT NULL REFERENCES search_docs(id) ON DELETE CASCADE,
    PRIMARY KEY (service, doc_id)
);
CREATE INDEX search_services_doc ON search_services(doc_id);

CREATE VIRTUAL TABLE search_text USING fts5(
    title,
    content,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE search_meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO search_meta (id, version) VALUES (1, 0);
