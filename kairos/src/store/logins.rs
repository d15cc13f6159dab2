//! Logins (what a person starts by logging in), their rotating refresh tokens, and the count of
//! failed logins per address.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Read, Row, StoreError, Writer, accounts::UserRow, query, record};
use crate::domain::user::User;

/// A successful login: its row and its first refresh token.
#[derive(Debug)]
pub struct NewLogin {
    pub login_id: Uuid,
    pub user_id: Uuid,
    pub refresh_token_id: Uuid,
    pub refresh_token_hash: Vec<u8>,
    /// Its failed-login count is cleared.
    pub email_key: String,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The refresh token that replaces a presented one.
#[derive(Debug)]
pub struct NextRefreshToken {
    pub id: Uuid,
    pub hash: Vec<u8>,
    pub now: DateTime<Utc>,
}

record! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LoginFailures {
        pub failures: i64,
        pub window_started_at: DateTime<Utc>,
    }
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used, and the new one is stored.
    Rotated { user_id: Uuid, login_id: Uuid },
    /// The token had been used before: someone replayed it, so its login is ended.
    Reused,
    /// Unknown, expired, or its login has ended.
    Invalid,
}

pub async fn failures(
    r: &mut impl Read,
    email_key: String,
) -> Result<Option<LoginFailures>, StoreError> {
    r.fetch_optional(
        query("SELECT failures, window_started_at FROM login_failures WHERE email_key = $1")
            .bind(email_key),
    )
    .await
}

/// Counts a failure in the current window, or starts a new window if it has passed.
pub async fn record_failure(
    w: &mut Writer,
    email_key: String,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<LoginFailures, StoreError> {
    w.fetch_one(
        query(
            "INSERT INTO login_failures (email_key, failures, window_started_at) \
             VALUES ($1, 1, $2) \
             ON CONFLICT (email_key) DO UPDATE SET \
             failures = CASE WHEN login_failures.window_started_at <= $3 THEN 1 \
                        ELSE login_failures.failures + 1 END, \
             window_started_at = CASE WHEN login_failures.window_started_at <= $3 \
                        THEN $2 ELSE login_failures.window_started_at END \
             RETURNING failures, window_started_at",
        )
        .bind(email_key)
        .bind(now)
        .bind(now - window),
    )
    .await
}

pub async fn purge_failures(
    w: &mut Writer,
    started_before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    w.execute(query("DELETE FROM login_failures WHERE window_started_at < $1").bind(started_before))
        .await
}

record! {
    struct PrincipalRow {
        user: UserRow,
        expires_at: DateTime<Utc>,
    }
}

/// Whether login `l` (joined to its user `u`) is the login `$login` of user `$user` and live at
/// `$now`: not ended, not expired. SQL text, for statements that check a login along the way.
macro_rules! live_login {
    ($login:literal, $user:literal, $now:literal) => {
        concat!(
            "l.id = ",
            $login,
            " AND l.user_id = ",
            $user,
            " AND l.revoked_at IS NULL AND l.expires_at > ",
            $now,
            " "
        )
    };
}
pub(crate) use live_login;

/// The user behind a live login (not ended, not expired), with when the login expires. Callers
/// go through [`Store::principal`](super::Store::principal), which caches it where it may.
pub(crate) async fn principal(
    r: &mut impl Read,
    login_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(User, DateTime<Utc>)>, StoreError> {
    r.fetch_optional::<PrincipalRow>(
        query(concat!(
            "SELECT u.id, u.email, u.role, u.is_chirpy_red, u.email_notifications, \
                 u.created_at, u.updated_at, \
                 l.expires_at FROM logins l JOIN users u ON u.id = l.user_id WHERE ",
            live_login!("$1", "$2", "$3")
        ))
        .bind(login_id)
        .bind(user_id)
        .bind(now),
    )
    .await?
    .map(|row| Ok((row.user.value()?, row.expires_at)))
    .transpose()
}

/// Ends the login the token belongs to. False if no such token was ever issued.
pub async fn end_by_refresh_token(
    w: &mut Writer,
    presented_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let login = w
        .fetch_optional::<(Uuid,)>(
            query("SELECT login_id FROM refresh_tokens WHERE token_hash = $1").bind(presented_hash),
        )
        .await?;
    let Some((login_id,)) = login else {
        return Ok(false);
    };
    end(w, login_id, "revoked", now).await?;
    Ok(true)
}

/// Ends every login of the user; [`StoreError::NotFound`] if there is no such user.
pub async fn end_all_of(
    w: &mut Writer,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.fetch_optional::<(Uuid,)>(query("SELECT id FROM users WHERE id = $1").bind(user_id))
        .await?
        .ok_or(StoreError::NotFound)?;
    w.forget_cached_logins();
    w.execute(
        query(
            "UPDATE logins SET revoked_at = $2, revoked_reason = 'ended_by_admin' \
             WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Starts a login with its first refresh token, and clears the address's failed logins.
pub async fn start(w: &mut Writer, login: NewLogin) -> Result<(), StoreError> {
    w.execute(
        query(
            "INSERT INTO logins (id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(login.login_id)
        .bind(login.user_id)
        .bind(login.now)
        .bind(login.expires_at),
    )
    .await?;
    w.execute(
        query(
            "INSERT INTO refresh_tokens (id, login_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(login.refresh_token_id)
        .bind(login.login_id)
        .bind(login.refresh_token_hash)
        .bind(login.now),
    )
    .await?;
    w.execute(query("DELETE FROM login_failures WHERE email_key = $1").bind(login.email_key))
        .await?;
    Ok(())
}

record! {
    struct PresentedToken {
        id: Uuid,
        login_id: Uuid,
        used_at: Option<DateTime<Utc>>,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
        revoked_at: Option<DateTime<Utc>>,
    }
}

/// Exchanges a presented refresh token for the next one. A token presented a second time is
/// taken for a thief's replay: its whole login ends.
pub async fn rotate_refresh_token(
    w: &mut Writer,
    presented_hash: Vec<u8>,
    next: NextRefreshToken,
) -> Result<Rotation, StoreError> {
    let presented = w
        .fetch_optional::<PresentedToken>(
            query(
                "SELECT t.id, t.login_id, t.used_at, l.user_id, l.expires_at, l.revoked_at \
                 FROM refresh_tokens t JOIN logins l ON l.id = t.login_id \
                 WHERE t.token_hash = $1",
            )
            .bind(presented_hash),
        )
        .await?;
    let Some(token) = presented else {
        return Ok(Rotation::Invalid);
    };
    if token.revoked_at.is_some() || token.expires_at <= next.now {
        return Ok(Rotation::Invalid);
    }
    // The conditional update is the arbiter: of two requests presenting the same live token,
    // exactly one marks it used. The other sees a used token, like a thief replaying it would.
    let claimed = token.used_at.is_none()
        && w.execute(
            query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                .bind(token.id)
                .bind(next.now),
        )
        .await?
            == 1;
    if !claimed {
        end(w, token.login_id, "refresh_token_reused", next.now).await?;
        return Ok(Rotation::Reused);
    }
    w.execute(
        query(
            "INSERT INTO refresh_tokens (id, login_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(next.id)
        .bind(token.login_id)
        .bind(next.hash)
        .bind(next.now),
    )
    .await?;
    w.execute(
        query("UPDATE refresh_tokens SET replaced_by = $2 WHERE id = $1")
            .bind(token.id)
            .bind(next.id),
    )
    .await?;
    Ok(Rotation::Rotated {
        user_id: token.user_id,
        login_id: token.login_id,
    })
}

/// Ends one login (`reason` is kept: `logout`, `revoked`, `refresh_token_reused`).
pub async fn end(
    w: &mut Writer,
    login_id: Uuid,
    reason: &'static str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.forget_cached_logins();
    w.execute(
        query(
            "UPDATE logins SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(login_id)
        .bind(now)
        .bind(reason),
    )
    .await?;
    Ok(())
}
