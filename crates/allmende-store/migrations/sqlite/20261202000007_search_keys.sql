-- Holds under load (issue 12): FTS5 finds rows fast only by rowid or by a
-- text match; `DELETE ... WHERE kind = ? AND item_id = ?` on the index
-- read every row, so each new or edited item cost a scan of the whole
-- index (70 creates/s at 20,000 items). This table gives each item's
-- index row a rowid that an ordinary index finds.
CREATE TABLE search_keys (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    UNIQUE (kind, item_id)
);
INSERT INTO search_keys (id, kind, item_id) SELECT rowid, kind, item_id FROM search_index;
