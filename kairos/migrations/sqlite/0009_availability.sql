-- Working hours: a service's rule, and which of its sessions the rule made.

CREATE TABLE availability_rules (
    service_id      BLOB NOT NULL PRIMARY KEY REFERENCES services (id),
    -- The rule as the API shows it (JSON), every default filled in.
    rule            TEXT NOT NULL,
    -- The last local date (YYYY-MM-DD) sessions were made up to: the housekeeping pass goes on
    -- from the day after.
    generated_until TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

ALTER TABLE sessions ADD COLUMN generated INTEGER NOT NULL DEFAULT FALSE
    CHECK (generated IN (0, 1));
-- A rule makes a start once, however many instances extend it at the same moment.
CREATE UNIQUE INDEX sessions_generated_once ON sessions (service_id, starts_at) WHERE generated;
