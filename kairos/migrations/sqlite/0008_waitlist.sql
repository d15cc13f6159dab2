-- The waitlist: people waiting for a place in a full session, first come first served.

ALTER TABLE services ADD COLUMN waitlist_enabled INTEGER NOT NULL DEFAULT 1
    CHECK (waitlist_enabled IN (0, 1));

-- How many wait, kept by the same statements that change the list. Joining updates it only
-- while the session is full, so a join and a freed place are ordered by the session's row.
ALTER TABLE sessions ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0 CHECK (waiting >= 0);
-- What the housekeeping pass looks at: sessions someone waits for.
CREATE INDEX sessions_waited_for ON sessions (starts_at) WHERE waiting > 0;

CREATE TABLE waitlist_entries (
    id          BLOB    NOT NULL PRIMARY KEY,
    session_id  BLOB    NOT NULL REFERENCES sessions (id),
    service_id  BLOB    NOT NULL REFERENCES services (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    -- The order of arrival in the session's list, given under the session's lock.
    seq         INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX waitlist_entries_order ON waitlist_entries (session_id, seq);
CREATE UNIQUE INDEX waitlist_entries_one_per_user ON waitlist_entries (session_id, user_id);
CREATE INDEX waitlist_entries_user ON waitlist_entries (user_id, created_at);
