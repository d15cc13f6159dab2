-- Accounts, login sessions, refresh tokens and login throttling.
-- Ids are UUIDs stored as 16-byte blobs; times are RFC 3339 text in UTC, written by the program
-- (never by SQL defaults) so that they compare correctly as text.

CREATE TABLE users (
    id             BLOB    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    -- The address lower-cased: accounts are unique without regard to case.
    email_key      TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('customer', 'provider', 'admin')),
    is_chirpy_red  INTEGER NOT NULL DEFAULT 0 CHECK (is_chirpy_red IN (0, 1)),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (email_key);

-- One row per login. Access tokens name their login session; every request checks it is live.
CREATE TABLE login_sessions (
    id              BLOB NOT NULL PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    -- Absolute: 60 days from login, whatever rotation happens.
    expires_at      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_reason  TEXT
) STRICT;
CREATE INDEX login_sessions_user ON login_sessions (user_id);

-- Refresh tokens are kept only as SHA-256 hashes. A used token points at the one that replaced it.
CREATE TABLE refresh_tokens (
    id           BLOB NOT NULL PRIMARY KEY,
    session_id   BLOB NOT NULL REFERENCES login_sessions (id),
    token_hash   BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    used_at      TEXT,
    replaced_by  BLOB REFERENCES refresh_tokens (id)
) STRICT;
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Failed logins per e-mail key (whether or not an account has it, so throttling reveals nothing).
CREATE TABLE login_failures (
    email_key          TEXT    NOT NULL PRIMARY KEY,
    failures           INTEGER NOT NULL,
    window_started_at  TEXT    NOT NULL
) STRICT;
