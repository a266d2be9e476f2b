-- German search with facets (issue 14); see the SQLite migration of the
-- same version. The text is stemmed in Rust, so the `simple` configuration
-- only splits it into the words Rust wrote.
DROP TABLE search_index;

CREATE TABLE search_docs (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT NOT NULL,
    item_id          TEXT NOT NULL,
    organization_id  TEXT NOT NULL,
    public           BOOLEAN NOT NULL,
    status           TEXT,
    themenfeld       TEXT,
    land             TEXT,
    org_kind         TEXT NOT NULL,
    size_class       TEXT,
    licence          TEXT,
    seeking_partners BOOLEAN NOT NULL,
    published        TIMESTAMPTZ NOT NULL,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    document         TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', content), 'B')
    ) STORED,
    UNIQUE (kind, item_id)
);
CREATE INDEX search_docs_organization ON search_docs(organization_id);
CREATE INDEX search_docs_published ON search_docs(published);
CREATE INDEX search_docs_document ON search_docs USING GIN (document);

CREATE TABLE search_services (
    service  TEXT NOT NULL,
    doc_id   BIGINT NOT NULL REFERENCES search_docs(id) ON DELETE CASCADE,
    PRIMARY KEY (service, doc_id)
);
CREATE INDEX search_services_doc ON search_services(doc_id);

CREATE TABLE search_meta (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO search_meta (id, version) VALUES (1, 0);
