//! A cache of live logins, so an authenticated request need not read the database to
//! learn that its session is live.
//!
//! Only when one process is the only one that can revoke sessions (the SQLite backend: one
//! server per database file). Every store method that ends sessions or changes users clears it,
//! and a generation count keeps a read that raced with such a change from putting a stale entry
//! back.

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::user::User;

/// Entries beyond this clear the cache (logins are many only under attack).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub struct PrincipalCache {
    enabled: bool,
    generation: AtomicU64,
    entries: RwLock<HashMap<Uuid, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    user: User,
    expires_at: DateTime<Utc>,
}

impl PrincipalCache {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Whether this cache keeps anything at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The user of a live session, if the cache knows it.
    pub fn get(&self, session_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> Option<User> {
        if !self.enabled {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let entry = entries.get(&session_id)?;
        (entry.user.id == user_id && entry.expires_at > now).then(|| entry.user.clone())
    }

    /// The generation to pass to [`Self::put`] for what is read from the database now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers a live session read at `generation`, unless something changed since.
    pub fn put(&self, generation: u64, session_id: Uuid, user: User, expires_at: DateTime<Utc>) {
        if !self.enabled {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(session_id, Entry { user, expires_at });
    }

    /// Forgets everything: a session ended or a user changed.
    pub fn clear(&self) {
        if !self.enabled {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn user() -> User {
        let now = Utc::now();
        User {
            id: Uuid::now_v7(),
            email: "a@b.co".into(),
            role: Role::Customer,
            is_chirpy_red: false,
            email_notifications: true,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = PrincipalCache::new(true);
        let (sid, u, now) = (Uuid::now_v7(), user(), Utc::now());
        let later = now + chrono::Duration::days(1);
        let before = cache.generation();
        cache.clear();
        cache.put(before, sid, u.clone(), later);
        assert!(cache.get(sid, u.id, now).is_none());
        cache.put(cache.generation(), sid, u.clone(), later);
        assert_eq!(cache.get(sid, u.id, now), Some(u.clone()));
        assert!(
            cache.get(sid, Uuid::now_v7(), now).is_none(),
            "another user's token"
        );
        assert!(cache.get(sid, u.id, later).is_none(), "expired");
        cache.clear();
        assert!(cache.get(sid, u.id, now).is_none());
    }

    #[test]
    fn disabled_it_knows_nothing() {
        let cache = PrincipalCache::new(false);
        let (sid, u, now) = (Uuid::now_v7(), user(), Utc::now());
        cache.put(
            cache.generation(),
            sid,
            u.clone(),
            now + chrono::Duration::days(1),
        );
        assert!(cache.get(sid, u.id, now).is_none());
    }
}
