-- The waitlist's entries in two b-trees instead of three: the table is the list's order itself
-- (WITHOUT ROWID, keyed by session and arrival), and the index by (user, session) is the
-- one-entry-per-user rule and the user's own lists as before. A promotion, which takes the head
-- of a list in the transaction that frees a place, deletes the head from the table it found it
-- in and from that one index, where an index by the entry's id made it three pages to change on
-- SQLite's single writer (README, "What a promotion costs SQLite's writer"). The id stays unique
-- as it was made (a random UUID from the server, never from a request); it is read through the
-- user's index, as only its owner ever names it.
CREATE TABLE waitlist_entries_new (
    session_id  BLOB    NOT NULL REFERENCES sessions (id),
    -- The order of arrival in the session's list, given under the session's lock.
    seq         INTEGER NOT NULL,
    id          BLOB    NOT NULL,
    service_id  BLOB    NOT NULL REFERENCES services (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO waitlist_entries_new (session_id, seq, id, service_id, user_id, created_at)
    SELECT session_id, seq, id, service_id, user_id, created_at FROM waitlist_entries;
DROP TABLE waitlist_entries;
ALTER TABLE waitlist_entries_new RENAME TO waitlist_entries;
CREATE UNIQUE INDEX waitlist_entries_one_per_user ON waitlist_entries (user_id, session_id);
