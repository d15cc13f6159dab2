-- Services, their sessions, bookings, subscriptions, calendar feeds and idempotency keys.

CREATE TABLE services (
    id                           UUID        NOT NULL PRIMARY KEY,
    provider_id                  UUID        NOT NULL REFERENCES users (id),
    name                         TEXT        NOT NULL,
    description                  TEXT        NOT NULL,
    duration_minutes             BIGINT      NOT NULL CHECK (duration_minutes > 0),
    capacity                     BIGINT      NOT NULL CHECK (capacity > 0),
    location                     TEXT        NOT NULL,
    time_zone                    TEXT        NOT NULL,
    status                       TEXT        NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    booking_notice_minutes       BIGINT      NOT NULL CHECK (booking_notice_minutes >= 0),
    cancellation_notice_minutes  BIGINT      NOT NULL CHECK (cancellation_notice_minutes >= 0),
    created_at                   TIMESTAMPTZ NOT NULL,
    updated_at                   TIMESTAMPTZ NOT NULL,
    published_at                 TIMESTAMPTZ
);
CREATE INDEX services_provider ON services (provider_id, id);
CREATE INDEX services_status ON services (status, id);

CREATE TABLE sessions (
    id                      UUID        NOT NULL PRIMARY KEY,
    service_id              UUID        NOT NULL REFERENCES services (id),
    starts_at               TIMESTAMPTZ NOT NULL,
    ends_at                 TIMESTAMPTZ NOT NULL,
    location                TEXT        NOT NULL,
    capacity                BIGINT      NOT NULL CHECK (capacity > 0),
    -- Live (Pending + Completed) bookings. Kept by the same statements that change bookings.
    booked                  BIGINT      NOT NULL DEFAULT 0,
    -- A JSON array of strings.
    additional_information  TEXT        NOT NULL DEFAULT '[]',
    status                  TEXT        NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    cancellation_reason     TEXT,
    -- Bumped on every change, for the calendar feed's SEQUENCE.
    sequence                BIGINT      NOT NULL DEFAULT 0,
    -- True once it has ended and its pending bookings were marked Completed.
    settled                 BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    CONSTRAINT sessions_capacity CHECK (booked >= 0 AND booked <= capacity)
);
CREATE INDEX sessions_service_starts ON sessions (service_id, starts_at);
-- What the completion sweep looks at: sessions not yet settled, by end.
CREATE INDEX sessions_unsettled ON sessions (ends_at) WHERE settled = FALSE;

CREATE TABLE bookings (
    id                   UUID        NOT NULL PRIMARY KEY,
    user_id              UUID        NOT NULL REFERENCES users (id),
    service_id           UUID        NOT NULL REFERENCES services (id),
    -- The service's provider, kept here so a provider's bookings are one index away.
    provider_id          UUID        NOT NULL REFERENCES users (id),
    session_id           UUID        NOT NULL REFERENCES sessions (id),
    status               TEXT        NOT NULL CHECK (status IN ('Pending', 'Completed', 'Cancelled')),
    notes                TEXT,
    cancellation_reason  TEXT,
    cancelled_by         TEXT CHECK (cancelled_by IN ('customer', 'provider', 'admin', 'system')),
    sequence             BIGINT      NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
-- No one holds two live bookings of one session.
CREATE UNIQUE INDEX bookings_one_live_per_user ON bookings (session_id, user_id)
    WHERE status <> 'Cancelled';
CREATE INDEX bookings_user ON bookings (user_id, id);
CREATE INDEX bookings_provider ON bookings (provider_id, id);
CREATE INDEX bookings_service ON bookings (service_id);
CREATE INDEX bookings_session ON bookings (session_id);
CREATE INDEX bookings_pending ON bookings (session_id) WHERE status = 'Pending';

CREATE TABLE subscriptions (
    user_id     UUID        NOT NULL REFERENCES users (id),
    service_id  UUID        NOT NULL REFERENCES services (id),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, service_id)
);
CREATE INDEX subscriptions_service ON subscriptions (service_id);

-- The secret in a user's calendar-feed URL, kept only as a SHA-256 hash.
CREATE TABLE calendar_feeds (
    user_id     UUID        NOT NULL PRIMARY KEY REFERENCES users (id),
    token_hash  BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_token_hash ON calendar_feeds (token_hash);

-- The first answer to a request made with an Idempotency-Key, kept for 24 hours.
CREATE TABLE idempotency_keys (
    user_id          UUID        NOT NULL REFERENCES users (id),
    key              TEXT        NOT NULL,
    request_hash     BYTEA       NOT NULL,
    state            TEXT        NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status  BIGINT,
    response_body    TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
