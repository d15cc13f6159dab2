-- Webhooks: a provider's (or an admin's) endpoints, and one delivery per webhook and event,
-- sent by the outbox worker with its tries logged.

CREATE TABLE webhooks (
    id                     BLOB    NOT NULL PRIMARY KEY,
    owner_id               BLOB    NOT NULL REFERENCES users (id),
    url                    TEXT    NOT NULL,
    -- A JSON array of event names, or ["*"].
    events                 TEXT    NOT NULL,
    description            TEXT    NOT NULL DEFAULT '',
    enabled                INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- Why Kairos turned it off (410, or three days of failures); none when the owner did.
    disabled_reason        TEXT,
    -- Sealed with the server's key: a database dump alone cannot sign.
    secret                 TEXT    NOT NULL,
    -- The secret before the last rotation, still signed with until `previous_secret_until`.
    previous_secret        TEXT,
    previous_secret_until  TEXT,
    -- Since when every delivery has failed; none after a success.
    failing_since          TEXT,
    created_at             TEXT    NOT NULL
) STRICT;
CREATE INDEX webhooks_owner ON webhooks (owner_id, id);

CREATE TABLE webhook_deliveries (
    id               BLOB    NOT NULL PRIMARY KEY,
    webhook_id       BLOB    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The `webhook-id` header: the same on every try and on a redelivery.
    event_id         BLOB    NOT NULL,
    event_type       TEXT    NOT NULL,
    -- The body, fixed when the delivery was made, so every try sends the same bytes.
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT    NOT NULL,
    claimed_until    TEXT,
    created_at       TEXT    NOT NULL,
    UNIQUE (webhook_id, event_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_webhook ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
    id               BLOB    NOT NULL PRIMARY KEY,
    delivery_id      BLOB    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     TEXT    NOT NULL,
    -- The receiver's status, when it answered.
    response_status  INTEGER,
    error            TEXT,
    duration_ms      INTEGER NOT NULL,
    -- When the delivery is tried again after this one, if it is.
    next_attempt_at  TEXT
) STRICT;
CREATE INDEX webhook_attempts_of_delivery ON webhook_attempts (delivery_id, attempted_at);
