-- Part two: every change leaves an event (the transactional outbox), events become messages
-- (mails now, webhooks later), and bookings have reminders due at known times.

ALTER TABLE users ADD COLUMN email_notifications INTEGER NOT NULL DEFAULT TRUE
    CHECK (email_notifications IN (0, 1));
-- A JSON array of whole minutes before the start, at most three.
ALTER TABLE services ADD COLUMN reminder_minutes TEXT NOT NULL DEFAULT '[1440]';

CREATE TABLE events (
    -- The order events were written in; the dispatcher takes them in this order.
    seq               INTEGER NOT NULL PRIMARY KEY,
    id                BLOB    NOT NULL UNIQUE,
    type              TEXT    NOT NULL,
    occurred_at       TEXT    NOT NULL,
    -- The event's data as the API shows it (JSON).
    data              TEXT    NOT NULL,
    -- What it is about, for routing it to the right people without reading `data`.
    service_id        BLOB,
    provider_id       BLOB,
    booking_id        BLOB,
    customer_id       BLOB,
    -- The booking's calendar SEQUENCE after this change, so its invitation matches the feed.
    booking_sequence  INTEGER,
    dispatched_at     TEXT
) STRICT;
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;

CREATE TABLE messages (
    id               BLOB    NOT NULL PRIMARY KEY,
    -- The event it tells of; none for a reminder.
    event_id         BLOB,
    booking_id       BLOB,
    -- What it says (`confirmation`, `cancelled`, `reminder`, ...).
    kind             TEXT    NOT NULL,
    user_id          BLOB    NOT NULL REFERENCES users (id),
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    -- Made from the event (or the booking and offset), so a mail sent again has the same id.
    message_id       TEXT    NOT NULL UNIQUE,
    -- Everything needed to write the mail, fixed when the message was made (JSON).
    content          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,
    -- A worker sending it holds it until then; a crashed worker's claim lapses.
    claimed_until    TEXT,
    last_error       TEXT,
    created_at       TEXT    NOT NULL,
    sent_at          TEXT
) STRICT;
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_status ON messages (status, created_at, id);

CREATE TABLE reminders (
    booking_id  BLOB    NOT NULL REFERENCES bookings (id),
    minutes     INTEGER NOT NULL CHECK (minutes > 0),
    due_at      TEXT    NOT NULL,
    -- `pending` until it becomes a message; `sent` then, and never again for this booking.
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent')),
    PRIMARY KEY (booking_id, minutes)
) STRICT;
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';
