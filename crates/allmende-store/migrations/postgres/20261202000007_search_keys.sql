-- Holds under load (issue 12): SQLite's full-text index gets a table of
-- row keys in this version; PostgreSQL's search_index has its primary key
-- (kind, item_id) already. Kept so both engines share version numbers.
SELECT 1;
