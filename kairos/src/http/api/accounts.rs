//! Your own account: sign up (`POST /api/users`) and change your e-mail or password
//! (`PUT /api/users`).

use super::prelude::*;
use crate::{app::AccountChanges, domain::user::User, http::client_ip::ClientIp};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(sign_up, update_account))
}

/// E-mail and password, as the seed's sign-up and login bodies have them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Trimmed and checked; unique without regard to case.
    #[schema(example = "ann@example.org", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 128 characters, taken exactly as typed; the most common passwords are refused.
    #[schema(example = "a long and unusual passphrase", format = Password, min_length = 8, max_length = 128)]
    pub password: String,
}

/// Sign up. The account is a customer; log in to get tokens.
#[utoipa::path(
    post, path = "/api/users", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "The account was created", body = User),
        (status = 409, description = "An account has this e-mail address (`email_taken`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn sign_up(
    State(state): State<HttpState>,
    client: ClientIp,
    AppJson(body): AppJson<Credentials>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    state.rate_limits.signup.admit(client)?;
    let user = state.app.sign_up(&body.email, body.password).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Change your e-mail address and/or password. A new password ends your other logins;
/// this one stays, and no new tokens are issued.
#[utoipa::path(
    put, path = "/api/users", tag = "accounts",
    request_body = AccountChanges,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account as it is now", body = User),
        (status = 409, description = "Another account has this e-mail address (`email_taken`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, Unavailable,
    )
)]
async fn update_account(
    State(state): State<HttpState>,
    caller: Caller,
    AppJson(body): AppJson<AccountChanges>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.app.change_account(&caller, body).await?))
}
