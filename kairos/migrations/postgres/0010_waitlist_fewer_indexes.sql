-- One index by (user, session) is both the one-entry-per-user rule and the user's own lists
-- (ordered by the session's start, never by created_at), so a promotion, which deletes an
-- entry in the transaction that frees a place, has one index fewer to change.
DROP INDEX waitlist_entries_user;
DROP INDEX waitlist_entries_one_per_user;
CREATE UNIQUE INDEX waitlist_entries_one_per_user ON waitlist_entries (user_id, session_id);
