-- Lists of bookings are ordered by their sessions' start. With the start kept on the session
-- only, every page sorted the person's matching bookings, all of them for each page of a long
-- list. Kept on the booking as well, the person's index yields them in order and a page stops
-- at its limit. The store writes it with the booking and moves it with the booking (to another
-- session) and with the session (to another time).
ALTER TABLE bookings ADD COLUMN session_starts_at TIMESTAMPTZ;
UPDATE bookings b SET session_starts_at = s.starts_at FROM sessions s WHERE s.id = b.session_id;
ALTER TABLE bookings ALTER COLUMN session_starts_at SET NOT NULL;
DROP INDEX bookings_user_status;
DROP INDEX bookings_provider_status;
CREATE INDEX bookings_user_status ON bookings (user_id, status, session_starts_at, id);
CREATE INDEX bookings_provider_status ON bookings (provider_id, status, session_starts_at, id);
