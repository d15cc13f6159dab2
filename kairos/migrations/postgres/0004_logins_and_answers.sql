-- Words that mean one thing: a "session" is a bookable time. What a person starts by logging in
-- is a login, so its table and the refresh tokens' column say so.
ALTER TABLE login_sessions RENAME TO logins;
ALTER INDEX login_sessions_pkey RENAME TO logins_pkey;
ALTER INDEX login_sessions_user RENAME TO logins_user;
ALTER TABLE refresh_tokens RENAME COLUMN session_id TO login_id;
ALTER INDEX refresh_tokens_session RENAME TO refresh_tokens_login;

-- An idempotent booking keeps the booking it made (as JSON), not an HTTP answer: which status
-- that booking is answered with is the HTTP adapter's business.
ALTER TABLE idempotency_keys DROP COLUMN response_status;
ALTER TABLE idempotency_keys RENAME COLUMN response_body TO booking;
