-- Items deleted here: by their organization on this node, or by their
-- origin (a remote copy dropped on Delete). The page of such an item says
-- so with 410 Gone instead of a bare 404, so a link someone kept (in a
-- mail, in another node's feed) explains itself. Only the local id and
-- the kind: nothing of the content stays.
CREATE TABLE withdrawn_items (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    remote        BOOLEAN NOT NULL,
    withdrawn_at  TIMESTAMPTZ NOT NULL
);
