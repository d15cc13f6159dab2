-- Accounts, login sessions, refresh tokens and login throttling.

CREATE TABLE users (
    id             UUID        NOT NULL PRIMARY KEY,
    email          TEXT        NOT NULL,
    -- The address lower-cased: accounts are unique without regard to case.
    email_key      TEXT        NOT NULL,
    password_hash  TEXT        NOT NULL,
    role           TEXT        NOT NULL CHECK (role IN ('customer', 'provider', 'admin')),
    is_chirpy_red  BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email_key);

-- One row per login. Access tokens name their login session; every request checks it is live.
CREATE TABLE login_sessions (
    id              UUID        NOT NULL PRIMARY KEY,
    user_id         UUID        NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    -- Absolute: 60 days from login, whatever rotation happens.
    expires_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    revoked_reason  TEXT
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

-- Refresh tokens are kept only as SHA-256 hashes. A used token points at the one that replaced it.
CREATE TABLE refresh_tokens (
    id           UUID        NOT NULL PRIMARY KEY,
    session_id   UUID        NOT NULL REFERENCES login_sessions (id),
    token_hash   BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    replaced_by  UUID REFERENCES refresh_tokens (id)
);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed logins per e-mail key (whether or not an account has it, so throttling reveals nothing).
CREATE TABLE login_failures (
    email_key          TEXT        NOT NULL PRIMARY KEY,
    failures           BIGINT      NOT NULL,
    window_started_at  TIMESTAMPTZ NOT NULL
);
