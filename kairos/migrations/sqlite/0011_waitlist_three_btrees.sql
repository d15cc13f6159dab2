-- The waitlist's entries in three b-trees instead of five, so a promotion (which deletes an
-- entry in the transaction that frees a place) dirties fewer pages: the table is its id's
-- index (WITHOUT ROWID), and one index by (user, session) is both the one-entry-per-user rule
-- and the user's own lists (which are ordered by the session's start, never by created_at).
CREATE TABLE waitlist_entries_new (
    id          BLOB    NOT NULL PRIMARY KEY,
    session_id  BLOB    NOT NULL REFERENCES sessions (id),
    service_id  BLOB    NOT NULL REFERENCES services (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    -- The order of arrival in the session's list, given under the session's lock.
    seq         INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO waitlist_entries_new (id, session_id, service_id, user_id, seq, created_at)
    SELECT id, session_id, service_id, user_id, seq, created_at FROM waitlist_entries;
DROP TABLE waitlist_entries;
ALTER TABLE waitlist_entries_new RENAME TO waitlist_entries;
CREATE UNIQUE INDEX waitlist_entries_order ON waitlist_entries (session_id, seq);
CREATE UNIQUE INDEX waitlist_entries_one_per_user ON waitlist_entries (user_id, session_id);
