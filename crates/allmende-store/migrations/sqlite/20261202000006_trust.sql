-- A network public bodies can trust (issue 10).

-- Sign-in limits as counters that one statement reads and raises, so that
-- parallel attempts cannot all pass a check made before any of them is
-- counted. A key is "email:<address>" or "client:<ip>".
DROP TABLE login_failures;
CREATE TABLE login_attempts (
    key           TEXT PRIMARY KEY,
    window_start  TEXT NOT NULL,
    failures      INTEGER NOT NULL
);
