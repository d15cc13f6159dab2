//! Login sessions, their rotating refresh tokens, and the count of failed logins per address.

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    StoreError,
    accounts::UserRow,
    backend::{Backend, SqlStore},
    sql::{Conn, query},
};
use crate::domain::user::User;

/// A successful login: the session row and its first refresh token.
#[derive(Debug)]
pub struct NewLogin {
    pub session_id: Uuid,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginFailures {
    pub failures: i64,
    pub window_started_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used, and the new one is stored.
    Rotated { user_id: Uuid, session_id: Uuid },
    /// The token had been used before: someone replayed it, so its login session is revoked.
    Reused,
    /// Unknown, expired, or its session has ended.
    Invalid,
}

#[async_trait::async_trait]
pub trait LoginStore: Send + Sync {
    async fn login_failures(&self, email_key: String) -> Result<Option<LoginFailures>, StoreError>;
    /// Counts a failure in the current window, or starts a new window if it has passed.
    async fn record_login_failure(
        &self,
        email_key: String,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<LoginFailures, StoreError>;
    async fn purge_login_failures(&self, started_before: DateTime<Utc>) -> Result<u64, StoreError>;

    async fn start_login_session(&self, login: NewLogin) -> Result<(), StoreError>;
    /// The user behind a live login session, if it is live: not revoked and not expired.
    async fn principal(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;
    async fn rotate_refresh_token(
        &self,
        presented_hash: Vec<u8>,
        next: NextRefreshToken,
    ) -> Result<Rotation, StoreError>;
    /// Ends the login session the token belongs to. False if no such token was ever issued.
    async fn revoke_by_refresh_token(
        &self,
        presented_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn end_login_session(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Ends every login session of the user; [`StoreError::NotFound`] if there is no such user.
    async fn end_user_login_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait::async_trait]
impl<B: Backend> LoginStore for SqlStore<B> {
    async fn login_failures(&self, email_key: String) -> Result<Option<LoginFailures>, StoreError> {
        self.backend
            .read(move |c| login_failures(c, email_key).boxed())
            .await
    }

    async fn record_login_failure(
        &self,
        email_key: String,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<LoginFailures, StoreError> {
        self.backend
            .write(move |c| record_login_failure(c, email_key, now, window).boxed())
            .await
    }

    async fn purge_login_failures(&self, started_before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.backend
            .write(move |c| purge_login_failures(c, started_before).boxed())
            .await
    }

    async fn start_login_session(&self, login: NewLogin) -> Result<(), StoreError> {
        self.backend
            .write(move |c| start_login_session(c, login).boxed())
            .await
    }

    async fn principal(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.principals.get(session_id, user_id, now) {
            return Ok(Some(user));
        }
        let generation = self.principals.generation();
        let found = self
            .backend
            .read(move |c| principal(c, session_id, user_id, now).boxed())
            .await?;
        Ok(found.map(|(user, expires_at)| {
            self.principals
                .put(generation, session_id, user.clone(), expires_at);
            user
        }))
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: Vec<u8>,
        next: NextRefreshToken,
    ) -> Result<Rotation, StoreError> {
        let rotation = self
            .backend
            .write(move |c| rotate_refresh_token(c, presented_hash, next).boxed())
            .await;
        if matches!(rotation, Ok(Rotation::Reused)) {
            self.principals.clear();
        }
        rotation
    }

    async fn revoke_by_refresh_token(
        &self,
        presented_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .backend
            .write(move |c| revoke_by_refresh_token(c, presented_hash, now).boxed())
            .await;
        self.principals.clear();
        revoked
    }

    async fn end_login_session(
        &self,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ended = self
            .backend
            .write(move |c| revoke_session(c, session_id, "logout", now).boxed())
            .await;
        self.principals.clear();
        ended
    }

    async fn end_user_login_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ended = self
            .backend
            .write(move |c| end_user_login_sessions(c, user_id, now).boxed())
            .await;
        self.principals.clear();
        ended
    }
}

async fn login_failures<C: Conn>(
    c: &mut C,
    email_key: String,
) -> Result<Option<LoginFailures>, StoreError> {
    c.fetch_optional(
        query("SELECT failures, window_started_at FROM login_failures WHERE email_key = $1")
            .bind(email_key),
    )
    .await
}

async fn record_login_failure<C: Conn>(
    c: &mut C,
    email_key: String,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<LoginFailures, StoreError> {
    c.fetch_one(
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

async fn purge_login_failures<C: Conn>(
    c: &mut C,
    started_before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    c.execute(query("DELETE FROM login_failures WHERE window_started_at < $1").bind(started_before))
        .await
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    #[sqlx(flatten)]
    user: UserRow,
    expires_at: DateTime<Utc>,
}

async fn principal<C: Conn>(
    c: &mut C,
    session_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(User, DateTime<Utc>)>, StoreError> {
    c.fetch_optional::<PrincipalRow>(
        query(
            "SELECT u.id, u.email, u.role, u.is_chirpy_red, u.created_at, u.updated_at, \
             s.expires_at FROM login_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3",
        )
        .bind(session_id)
        .bind(user_id)
        .bind(now),
    )
    .await?
    .map(|row| Ok((row.user.into_user()?, row.expires_at)))
    .transpose()
}

async fn revoke_by_refresh_token<C: Conn>(
    c: &mut C,
    presented_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let session = c
        .fetch_optional::<(Uuid,)>(
            query("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
                .bind(presented_hash),
        )
        .await?;
    let Some((session_id,)) = session else {
        return Ok(false);
    };
    revoke_session(c, session_id, "revoked", now).await?;
    Ok(true)
}

async fn end_user_login_sessions<C: Conn>(
    c: &mut C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.fetch_optional::<(Uuid,)>(query("SELECT id FROM users WHERE id = $1").bind(user_id))
        .await?
        .ok_or(StoreError::NotFound)?;
    c.execute(
        query(
            "UPDATE login_sessions SET revoked_at = $2, revoked_reason = 'ended_by_admin' \
             WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(now),
    )
    .await?;
    Ok(())
}

async fn start_login_session<C: Conn>(c: &mut C, login: NewLogin) -> Result<(), StoreError> {
    c.execute(
        query(
            "INSERT INTO login_sessions (id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(login.session_id)
        .bind(login.user_id)
        .bind(login.now)
        .bind(login.expires_at),
    )
    .await?;
    c.execute(
        query(
            "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(login.refresh_token_id)
        .bind(login.session_id)
        .bind(login.refresh_token_hash)
        .bind(login.now),
    )
    .await?;
    c.execute(query("DELETE FROM login_failures WHERE email_key = $1").bind(login.email_key))
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PresentedToken {
    id: Uuid,
    session_id: Uuid,
    used_at: Option<DateTime<Utc>>,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

async fn rotate_refresh_token<C: Conn>(
    c: &mut C,
    presented_hash: Vec<u8>,
    next: NextRefreshToken,
) -> Result<Rotation, StoreError> {
    let presented = c
        .fetch_optional::<PresentedToken>(
            query(
                "SELECT t.id, t.session_id, t.used_at, s.user_id, s.expires_at, s.revoked_at \
                 FROM refresh_tokens t JOIN login_sessions s ON s.id = t.session_id \
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
        && c.execute(
            query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                .bind(token.id)
                .bind(next.now),
        )
        .await?
            == 1;
    if !claimed {
        revoke_session(c, token.session_id, "refresh_token_reused", next.now).await?;
        return Ok(Rotation::Reused);
    }
    c.execute(
        query(
            "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(next.id)
        .bind(token.session_id)
        .bind(next.hash)
        .bind(next.now),
    )
    .await?;
    c.execute(
        query("UPDATE refresh_tokens SET replaced_by = $2 WHERE id = $1")
            .bind(token.id)
            .bind(next.id),
    )
    .await?;
    Ok(Rotation::Rotated {
        user_id: token.user_id,
        session_id: token.session_id,
    })
}

async fn revoke_session<C: Conn>(
    c: &mut C,
    session_id: Uuid,
    reason: &'static str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        query(
            "UPDATE login_sessions SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(session_id)
        .bind(now)
        .bind(reason),
    )
    .await?;
    Ok(())
}
