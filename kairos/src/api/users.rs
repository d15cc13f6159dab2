//! Your own account: sign up (`POST /api/users`) and change your e-mail or password
//! (`PUT /api/users`).

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::{
        docs::{AuthErrors, BodyErrors, RateLimited, Unavailable},
        extract::AppJson,
    },
    auth::{AuthUser, ClientIp, accounts::register},
    domain::{
        FieldError, clock,
        email::Email,
        password::NewPassword,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::UserChanges,
};

pub fn router() -> OpenApiRouter<AppState> {
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
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, RateLimited, Unavailable,
    )
)]
async fn sign_up(
    State(state): State<AppState>,
    client: ClientIp,
    AppJson(body): AppJson<Credentials>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    state.rate_limits.signup.admit(client)?;
    let user = register(
        state.store.as_ref(),
        &state.passwords,
        &body.email,
        body.password,
        Role::Customer,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// A new e-mail address, a new password, or both: at least one of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    #[schema(example = "ann@example.org", format = Email, max_length = 254)]
    pub email: Option<String>,
    /// 8 to 128 characters; the most common passwords are refused.
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

/// Change your e-mail address and/or password. A new password ends your other login sessions;
/// this one stays, and no new tokens are issued.
#[utoipa::path(
    put, path = "/api/users", tag = "accounts",
    request_body = AccountChanges,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account as it is now", body = User),
        (status = 409, description = "Another account has this e-mail address (`email_taken`)",
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, Unavailable,
    )
)]
async fn update_account(
    State(state): State<AppState>,
    caller: AuthUser,
    AppJson(body): AppJson<AccountChanges>,
) -> Result<Json<User>, ApiError> {
    if body.email.is_none() && body.password.is_none() {
        return Err(ApiError::field(
            "body",
            "give a new `email`, a new `password`, or both",
        ));
    }
    let mut errors = Vec::new();
    let email = body
        .email
        .map(|raw| Email::parse(&raw))
        .transpose()
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok()
        .flatten();
    let password = body
        .password
        .map(NewPassword::parse)
        .transpose()
        .map_err(|message| errors.push(FieldError::new("password", message)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let password_hash = match password {
        Some(password) => Some(
            state
                .passwords
                .hash(password)
                .await
                .map_err(ApiError::Internal)?,
        ),
        None => None,
    };
    let user = state
        .store
        .update_user(UserChanges {
            user_id: caller.id(),
            email: email.map(|email| (email.as_str().to_owned(), email.key())),
            password_hash,
            current_session: caller.session_id,
            now: clock::now(),
        })
        .await?;
    Ok(Json(user))
}
