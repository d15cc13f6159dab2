-- Words that mean one thing: a "session" is a bookable time. What a person starts by logging in
-- is a login, so its table and the refresh tokens' column say so.
ALTER TABLE login_sessions RENAME TO logins;
DROP INDEX login_sessions_user;
CREATE INDEX logins_user ON logins (user_id);
ALTER TABLE refresh_tokens RENAME COLUMN session_id TO login_id;
DROP INDEX refresh_tokens_session;
CREATE INDEX refresh_tokens_login ON refresh_tokens (login_id);

-- An idempotent booking keeps the booking it made (as JSON), not an HTTP answer: which status
-- that booking is answered with is the HTTP adapter's business.
ALTER TABLE idempotency_keys DROP COLUMN response_status;
ALTER TABLE idempotency_keys RENAME COLUMN response_body TO booking;
