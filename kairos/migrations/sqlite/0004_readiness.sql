-- One row that `/readyz` rewrites: ready means a write can be committed, which a bare
-- `SELECT 1` in a write transaction does not prove (it commits nothing, even on a full disk).
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT    NOT NULL
);
