//! Logging in, refreshing and revoking: the procedures behind `/api/login`, `/api/refresh`,
//! `/api/revoke` and the web login form.

use chrono::Duration;
use uuid::Uuid;

use crate::{
    auth::{
        ClientIp,
        throttle::{FAILED_LOGIN_WINDOW, MAX_FAILED_LOGINS},
        tokens::{hash_refresh_token, login_session_expiry, new_refresh_token},
    },
    domain::{clock, email, id::new_id, password, user::User},
    error::ApiError,
    state::AppState,
    store::{NewLogin, NextRefreshToken, Rotation},
};

/// Tokens for a login session. The refresh token is shown once and never again.
#[derive(Debug)]
pub struct Issued {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub access_token: String,
    pub refresh_token: String,
}

/// Checks the credentials and starts a login session.
///
/// A wrong password and an unknown address take the same path: one password verification, one
/// recorded failure, the same 401. After [`MAX_FAILED_LOGINS`] failures for an address within
/// the window, every attempt for it answers 429 until the window passes.
pub async fn log_in(
    state: &AppState,
    client: ClientIp,
    email: &str,
    password: String,
) -> Result<(User, Issued), ApiError> {
    state.rate_limits.login.admit(client)?;
    let email_key = email::lookup_key(email);
    let now = clock::now();
    let window =
        Duration::from_std(FAILED_LOGIN_WINDOW).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(failures) = state.store.login_failures(email_key.clone()).await? {
        let window_ends = failures.window_started_at + window;
        if failures.failures >= MAX_FAILED_LOGINS && window_ends > now {
            let retry_after = (window_ends - now).to_std().unwrap_or_default();
            return Err(ApiError::TooManyRequests { retry_after });
        }
    }
    // No account has a password over the limit; refusing it unhashed costs an attacker nothing
    // and tells them nothing about the account.
    let plausible = password.chars().count() <= password::MAX_CHARS;
    let credentials = state.store.credentials(email_key.clone()).await?;
    let (user, stored_hash) = match credentials {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let verified = plausible
        && state
            .passwords
            .verify(password, stored_hash)
            .await
            .map_err(ApiError::Internal)?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state
                .store
                .record_login_failure(email_key, now, window)
                .await?;
            return Err(ApiError::invalid_credentials());
        }
    };
    let session_id = new_id();
    let (refresh_token, refresh_token_hash) = new_refresh_token().map_err(ApiError::Internal)?;
    state
        .store
        .start_login_session(NewLogin {
            session_id,
            user_id: user.id,
            refresh_token_id: new_id(),
            refresh_token_hash,
            email_key,
            now,
            expires_at: login_session_expiry(now),
        })
        .await?;
    let access_token = state
        .tokens
        .issue(user.id, session_id, now)
        .map_err(ApiError::Internal)?;
    let issued = Issued {
        user_id: user.id,
        session_id,
        access_token,
        refresh_token,
    };
    Ok((user, issued))
}

/// Rotates a refresh token. A token presented a second time ends its whole login session (the
/// revocation is committed even though the answer is 401).
pub async fn refresh(state: &AppState, presented: &str) -> Result<Issued, ApiError> {
    let (refresh_token, hash) = new_refresh_token().map_err(ApiError::Internal)?;
    let now = clock::now();
    let next = NextRefreshToken {
        id: new_id(),
        hash,
        now,
    };
    match state
        .store
        .rotate_refresh_token(hash_refresh_token(presented), next)
        .await?
    {
        Rotation::Rotated {
            user_id,
            session_id,
        } => {
            let access_token = state
                .tokens
                .issue(user_id, session_id, now)
                .map_err(ApiError::Internal)?;
            Ok(Issued {
                user_id,
                session_id,
                access_token,
                refresh_token,
            })
        }
        Rotation::Reused => Err(ApiError::Unauthorized {
            code: "refresh_token_reused",
            detail: "This refresh token was already used, so its login session has been ended. \
                     Log in again.",
        }),
        Rotation::Invalid => Err(invalid_refresh_token()),
    }
}

/// Ends the login session a refresh token belongs to.
pub async fn revoke(state: &AppState, presented: &str) -> Result<(), ApiError> {
    let known = state
        .store
        .revoke_by_refresh_token(hash_refresh_token(presented), clock::now())
        .await?;
    if known {
        Ok(())
    } else {
        Err(invalid_refresh_token())
    }
}

fn invalid_refresh_token() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_token",
        detail: "The refresh token is unknown, expired or revoked.",
    }
}
