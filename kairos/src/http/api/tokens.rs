//! Logins and their tokens: log in, refresh, revoke, log out.

use super::{accounts::Credentials, prelude::*};
use crate::{
    app::tokens::ACCESS_TOKEN_SECONDS,
    domain::user::User,
    http::{
        client_ip::ClientIp,
        extract::{AppBytes, bearer_token, optional_json},
    },
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(log_in))
        .routes(routes!(refresh))
        .routes(routes!(revoke))
        .routes(routes!(log_out))
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

/// Log in: starts a login. A wrong address and a wrong password answer the same 401
/// in the same time; after 5 failures for an address in 15 minutes, it answers 429 until the
/// window passes (even for the right password).
#[utoipa::path(
    post, path = "/api/login", tag = "tokens",
    request_body = Credentials,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong e-mail address or password (`invalid_credentials`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn log_in(
    State(state): State<HttpState>,
    client: ClientIp,
    AppJson(body): AppJson<Credentials>,
) -> Result<Json<LoginResponse>, ApiError> {
    state.rate_limits.login.admit(client)?;
    let (user, issued) = state.app.log_in(&body.email, body.password).await?;
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
/// Presenting a refresh token that was already exchanged ends its whole login.
#[utoipa::path(
    post, path = "/api/refresh", tag = "tokens",
    request_body(content = Option<TokenBody>, description = "Or send the refresh token as \
        `Authorization: Bearer`"),
    security(("refreshToken" = []), ()),
    responses(
        (status = 200, description = "New tokens", body = RefreshResponse),
        (status = 401, description = "Unknown, expired or revoked refresh token \
            (`invalid_token`), or one already used (`refresh_token_reused`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn refresh(
    State(state): State<HttpState>,
    client: ClientIp,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Json<RefreshResponse>, ApiError> {
    state.rate_limits.refresh.admit(client)?;
    let presented = presented_refresh_token(&headers, &body)?;
    let issued = state.app.refresh(&presented).await?;
    Ok(Json(RefreshResponse {
        token: issued.access_token,
        refresh_token: issued.refresh_token,
        expires_in: ACCESS_TOKEN_SECONDS,
    }))
}

/// End the login a refresh token belongs to: its refresh and access tokens stop working.
#[utoipa::path(
    post, path = "/api/revoke", tag = "tokens",
    request_body(content = Option<TokenBody>, description = "Or send the refresh token as \
        `Authorization: Bearer`"),
    security(("refreshToken" = []), ()),
    responses(
        (status = 204, description = "The login has ended"),
        (status = 401, description = "No such refresh token (`invalid_token`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, Unavailable,
    )
)]
async fn revoke(
    State(state): State<HttpState>,
    headers: HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<StatusCode, ApiError> {
    let presented = presented_refresh_token(&headers, &body)?;
    state.app.revoke(&presented).await?;
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
        (None, None) => Err(ApiError::NoRefreshToken),
    }
}

/// Log out: the caller's login ends at once, this access token included.
#[utoipa::path(
    post, path = "/api/logout", tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        AuthErrors, Unavailable,
    )
)]
async fn log_out(State(state): State<HttpState>, caller: Caller) -> Result<StatusCode, ApiError> {
    state.app.log_out(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
