//! Extractors for the caller: [`AuthUser`] (a live bearer token) and [`Admin`].

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use uuid::Uuid;

use crate::{
    domain::{
        clock,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
};

/// A caller with a valid access token whose login session is still live. The JSON API takes the
/// token only from `Authorization: Bearer`: never a cookie (so no CSRF), never the query string.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub session_id: Uuid,
}

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// `/api/user/{userID}/...` is about that user: only they, or an admin, may use it.
    pub fn may_act_for(&self, user_id: Uuid) -> Result<(), ApiError> {
        if self.user.id == user_id || self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Checks the token and then the session behind it, so a logout or revocation takes effect on
    /// the very next request.
    pub async fn from_token(state: &AppState, token: &str) -> Result<Self, ApiError> {
        let claims = state
            .tokens
            .verify(token)
            .ok_or_else(ApiError::invalid_token)?;
        let user = state
            .store
            .principal(claims.sid, claims.sub, clock::now())
            .await?
            .ok_or_else(ApiError::invalid_token)?;
        Ok(Self {
            user,
            session_id: claims.sid,
        })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?.ok_or_else(ApiError::invalid_token)?;
        Self::from_token(state, token).await
    }
}

/// The bearer token, if there is one. Two `Authorization` headers are refused outright, since
/// proxies and servers disagree about which of them counts.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "duplicate_authorization",
            "Send one Authorization header, not several.",
        ));
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty() && !token.contains(' '))
        .ok_or_else(ApiError::invalid_token)?;
    Ok(Some(token))
}

/// A signed-in admin; anyone else signed in gets 403.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = AuthUser::from_request_parts(parts, state).await?;
        if caller.role() == Role::Admin {
            Ok(Admin(caller))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
