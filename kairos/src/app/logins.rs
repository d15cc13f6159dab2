//! Logins: checking an access token, logging in, refreshing and revoking tokens, logging out,
//! and an admin ending all of someone's logins.

use chrono::Duration;
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    App, AppError, Caller, Unauthenticated,
    access::require_admin,
    tokens::{Claims, hash_refresh_token, login_expiry, new_refresh_token},
};
use crate::{
    domain::{email, id::new_id, password, user::User},
    store::logins::{self, NewLogin, NextRefreshToken, Rotation},
};

/// Failed logins for one address within the window before further attempts wait it out.
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const FAILED_LOGIN_WINDOW: Duration = Duration::minutes(15);

/// Tokens for a login. The refresh token is shown once and never again.
#[derive(Debug)]
pub struct Issued {
    pub user_id: Uuid,
    pub login_id: Uuid,
    pub access_token: String,
    pub refresh_token: String,
}

impl App {
    /// The caller an access token names: well-formed, signed by us, current on our clock, and
    /// its login still live (so a logout or revocation takes effect on the very next request).
    pub async fn authenticate(&self, access_token: &str) -> Result<Caller, AppError> {
        let claims = self
            .verify_access_token(access_token)
            .ok_or(AppError::Unauthenticated(Unauthenticated::InvalidToken))?;
        self.caller(&claims).await
    }

    /// The caller a verified token names, if its login is still live.
    pub async fn caller(&self, claims: &Claims) -> Result<Caller, AppError> {
        let user = self
            .store
            .principal(claims.login, claims.sub, self.now())
            .await?
            .ok_or(AppError::Unauthenticated(Unauthenticated::InvalidToken))?;
        Ok(Caller {
            user,
            login_id: claims.login,
        })
    }

    /// Whether an access token is ours and current on our clock (not whether its login is still
    /// live: that takes [`App::authenticate`]).
    pub fn verify_access_token(&self, access_token: &str) -> Option<Claims> {
        self.tokens.verify(access_token, self.now())
    }

    /// Checks the credentials and starts a login.
    ///
    /// A wrong password and an unknown address take the same path: one password verification,
    /// one recorded failure, the same answer. After [`MAX_FAILED_LOGINS`] failures for an
    /// address within the window, every attempt for it is throttled until the window passes.
    pub async fn log_in(&self, email: &str, password: String) -> Result<(User, Issued), AppError> {
        let email_key = email::lookup_key(email);
        let now = self.now();
        let key = email_key.clone();
        let failures = self
            .store
            .read(move |r| logins::failures(r, key.clone()).boxed())
            .await?;
        if let Some(failures) = failures {
            let window_ends = failures.window_started_at + FAILED_LOGIN_WINDOW;
            if failures.failures >= MAX_FAILED_LOGINS && window_ends > now {
                let retry_after = (window_ends - now).to_std().unwrap_or_default();
                return Err(AppError::Throttled { retry_after });
            }
        }
        // No account has a password over the limit; refusing it unhashed costs an attacker
        // nothing and tells them nothing about the account.
        let plausible = password.chars().count() <= password::MAX_CHARS;
        let key = email_key.clone();
        let credentials = self
            .store
            .read(move |r| crate::store::accounts::credentials(r, key.clone()).boxed())
            .await?;
        let (user, stored_hash) = match credentials {
            Some(found) => (Some(found.user), Some(found.password_hash)),
            None => (None, None),
        };
        let verified = plausible
            && self
                .passwords
                .verify(password, stored_hash)
                .await
                .map_err(AppError::Internal)?;
        let user = match user {
            Some(user) if verified => user,
            _ => {
                self.store
                    .write(move |w| {
                        logins::record_failure(w, email_key, now, FAILED_LOGIN_WINDOW).boxed()
                    })
                    .await?;
                return Err(AppError::Unauthenticated(
                    Unauthenticated::InvalidCredentials,
                ));
            }
        };
        let login_id = new_id();
        let (refresh_token, refresh_token_hash) =
            new_refresh_token().map_err(AppError::Internal)?;
        let login = NewLogin {
            login_id,
            user_id: user.id,
            refresh_token_id: new_id(),
            refresh_token_hash,
            email_key,
            now,
            expires_at: login_expiry(now),
        };
        self.store
            .write(move |w| logins::start(w, login).boxed())
            .await?;
        let access_token = self
            .tokens
            .issue(user.id, login_id, now)
            .map_err(AppError::Internal)?;
        let issued = Issued {
            user_id: user.id,
            login_id,
            access_token,
            refresh_token,
        };
        Ok((user, issued))
    }

    /// Rotates a refresh token. A token presented a second time ends its whole login (that is
    /// committed even though the answer is a refusal).
    pub async fn refresh(&self, presented: &str) -> Result<Issued, AppError> {
        let (refresh_token, hash) = new_refresh_token().map_err(AppError::Internal)?;
        let now = self.now();
        let next = NextRefreshToken {
            id: new_id(),
            hash,
            now,
        };
        let presented = hash_refresh_token(presented);
        let rotation = self
            .store
            .write(move |w| logins::rotate_refresh_token(w, presented, next).boxed())
            .await?;
        match rotation {
            Rotation::Rotated { user_id, login_id } => {
                let access_token = self
                    .tokens
                    .issue(user_id, login_id, now)
                    .map_err(AppError::Internal)?;
                Ok(Issued {
                    user_id,
                    login_id,
                    access_token,
                    refresh_token,
                })
            }
            Rotation::Reused => Err(AppError::Unauthenticated(
                Unauthenticated::RefreshTokenReused,
            )),
            Rotation::Invalid => Err(AppError::Unauthenticated(
                Unauthenticated::InvalidRefreshToken,
            )),
        }
    }

    /// Ends the login a refresh token belongs to.
    pub async fn revoke(&self, presented: &str) -> Result<(), AppError> {
        let presented = hash_refresh_token(presented);
        let now = self.now();
        let ended = self
            .store
            .write(move |w| logins::end_by_refresh_token(w, presented, now).boxed())
            .await?;
        if ended {
            Ok(())
        } else {
            Err(AppError::Unauthenticated(
                Unauthenticated::InvalidRefreshToken,
            ))
        }
    }

    /// Ends the caller's own login, this access token included.
    pub async fn log_out(&self, caller: &Caller) -> Result<(), AppError> {
        let (login_id, now) = (caller.login_id, self.now());
        Ok(self
            .store
            .write(move |w| logins::end(w, login_id, "logout", now).boxed())
            .await?)
    }

    /// An admin ends every login of a user at once.
    pub async fn end_logins_of(&self, caller: &Caller, user_id: Uuid) -> Result<(), AppError> {
        require_admin(caller)?;
        let now = self.now();
        self.store
            .write(move |w| logins::end_all_of(w, user_id, now).boxed())
            .await
            .map_err(AppError::or_missing("user"))
    }

    /// Forgets old failed logins (housekeeping).
    pub(super) async fn purge_login_failures(&self) -> Result<u64, AppError> {
        let started_before = self.now() - FAILED_LOGIN_WINDOW;
        Ok(self
            .store
            .write(move |w| logins::purge_failures(w, started_before).boxed())
            .await?)
    }
}
