//! Login sessions and their tokens: log in, refresh, revoke, log out, and an admin's forced
//! logout of a user.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::{
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, RateLimited, Unavailable},
        extract::{AppBytes, AppJson, AppPath, optional_json},
        users::Credentials,
    },
    auth::{Admin, AuthUser, ClientIp, extract::bearer_token, login, tokens::ACCESS_TOKEN_SECONDS},
    domain::{clock, id::PathId, user::User},
    error::ApiError,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(log_in))
        .routes(routes!(refresh))
        .routes(routes!(revoke))
        .routes(routes!(log_out))
        .routes(routes!(log_out_user))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    #[serde(flatten)]
    pub user: User,
    /// The access token (a JWT): send it as `Authorization: Bearer`.
    pub token: String,
    /// Shown this once. Exchange it at `POST /api/refresh`; it lasts 60 days from login.
    pub refresh_token: String,
    /// Seconds the access token lasts.
    #[schema(example = 3600)]
    pub expires_in: i64,
}

/// Log in: starts a login session. A wrong address and a wrong password answer the same 401
/// in the same time; after 5 failures for an address in 15 minutes, it answers 429 until the
/// window passes (even for the right password).
#[utoipa::path(
    post, path = "/api/login", tag = "tokens",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong e-mail address or password (`invalid_credentials`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn log_in(
    State(state): State<AppState>,
    client: ClientIp,
    AppJson(body): AppJson<Credentials>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (user, issued) = login::log_in(&state, client, &body.email, body.password).await?;
    Ok(Json(LoginResponse {
        user,
        token: issued.access_token,
        refresh_token: issued.refresh_token,
        expires_in: ACCESS_TOKEN_SECONDS,
    }))
}

/// A refresh token in the body, for clients that do not send it as a bearer token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshResponse {
    pub token: String,
    /// The replacement refresh token; the one presented no longer works.
    pub refresh_token: String,
    #[schema(example = 3600)]
    pub expires_in: i64,
}

/// Exchange a refresh token for a new access token and a new refresh token (rotation).
/// Presenting a refresh token that was already exchanged ends its whole login session.
#[utoipa::path(
    post, path = "/api/refresh", tag = "tokens",
    request_body(content = Option<TokenBody>, description = "Or send the refresh token as \
        `Authorization: Bearer`"),
    security(("refreshToken" = []), ()),
    responses(
        (status = 200, description = "New tokens", body = RefreshResponse),
        (status = 401, description = "Unknown, expired or revoked refresh token \
            (`invalid_token`), or one already used (`refresh_token_reused`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn refresh(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<RefreshResponse>, ApiError> {
    state.rate_limits.refresh.admit(client)?;
    let presented = presented_refresh_token(&headers, &body)?;
    let issued = login::refresh(&state, &presented).await?;
    Ok(Json(RefreshResponse {
        token: issued.access_token,
        refresh_token: issued.refresh_token,
        expires_in: ACCESS_TOKEN_SECONDS,
    }))
}

/// End the login session a refresh token belongs to: its refresh and access tokens stop working.
#[utoipa::path(
    post, path = "/api/revoke", tag = "tokens",
    request_body(content = Option<TokenBody>, description = "Or send the refresh token as \
        `Authorization: Bearer`"),
    security(("refreshToken" = []), ()),
    responses(
        (status = 204, description = "The login session has ended"),
        (status = 401, description = "No such refresh token (`invalid_token`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, Unavailable,
    )
)]
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<StatusCode, ApiError> {
    let presented = presented_refresh_token(&headers, &body)?;
    login::revoke(&state, &presented).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The refresh token, from `Authorization: Bearer` or the body's `token`, not both.
fn presented_refresh_token(headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let from_header = bearer_token(headers)?;
    let from_body = optional_json::<Option<TokenBody>>(headers, body)?.map(|b| b.token);
    match (from_header, from_body) {
        (Some(token), None) => Ok(token.to_owned()),
        (None, Some(token)) => Ok(token),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "ambiguous_token",
            "Send the refresh token in the Authorization header or in the body, not both.",
        )),
        (None, None) => Err(ApiError::Unauthorized {
            code: "invalid_token",
            detail: "Send the refresh token as `Authorization: Bearer` or as `{\"token\"}`.",
        }),
    }
}

/// Log out: the caller's login session ends at once, this access token included.
#[utoipa::path(
    post, path = "/api/logout", tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        AuthErrors, Unavailable,
    )
)]
async fn log_out(State(state): State<AppState>, caller: AuthUser) -> Result<StatusCode, ApiError> {
    state
        .store
        .end_login_session(caller.session_id, clock::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every login session of a user at once (admins only).
#[utoipa::path(
    post, path = "/api/logout/{userID}", tag = "admin",
    params(("userID" = uuid::Uuid, Path, description = "The user to log out everywhere")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every login session of the user has ended"),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn log_out_user(
    State(state): State<AppState>,
    Admin(_): Admin,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .end_user_login_sessions(user_id, clock::now())
        .await
        .map_err(ApiError::or_missing("user"))?;
    Ok(StatusCode::NO_CONTENT)
}
