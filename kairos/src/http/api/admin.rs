//! Accounts as an admin sees them: create any role, list users, change role and membership,
//! end all of someone's logins.

use super::prelude::*;
use crate::{
    app::{NewAccount, UserChangesByAdmin},
    domain::user::User,
};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(list_users))
        .routes(routes!(change_user))
        .routes(routes!(log_out_user))
}

/// Create an account with any role (the seed's `/user/<userID>/create`, for admins only).
#[utoipa::path(
    post, path = "/api/user/{adminID}/create", tag = "admin",
    params(("adminID" = uuid::Uuid, Path, description = "The admin creating the account")),
    request_body = NewAccount,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The account was created", body = User),
        (status = 409, description = "An account has this e-mail address (`email_taken`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn create_user(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    AppPath(PathId(admin_id)): AppPath<PathId>,
    AppJson(body): AppJson<NewAccount>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = state.app.create_account(&caller, admin_id, body).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Every account, newest first.
#[utoipa::path(
    get, path = "/api/users", tag = "admin",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users; a next page is in `Link`",
            body = Vec<User>),
        AuthErrors, InputErrors, Unavailable,
    )
)]
async fn list_users(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    OriginalUri(uri): OriginalUri,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let users = state.app.users(&caller, &page.into()).await?;
    Ok(paged(&uri, users))
}

/// Change a user's role or membership flag. Admins cannot demote themselves, so an instance
/// is never left without the admin who was using it.
#[utoipa::path(
    patch, path = "/api/users/{userID}", tag = "admin",
    params(("userID" = uuid::Uuid, Path)),
    request_body = UserChangesByAdmin,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user as they are now", body = User),
        (status = 409, description = "An admin tried to demote themselves \
            (`cannot_demote_self`)",
            body = crate::http::problem::Problem, content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn change_user(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<UserChangesByAdmin>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.app.change_user(&caller, user_id, body).await?))
}

/// End every login of a user at once (admins only).
#[utoipa::path(
    post, path = "/api/logout/{userID}", tag = "admin",
    params(("userID" = uuid::Uuid, Path, description = "The user to log out everywhere")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every login of the user has ended"),
        ReadErrors,
    )
)]
async fn log_out_user(
    State(state): State<HttpState>,
    Admin(caller): Admin,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<StatusCode, ApiError> {
    state.app.end_logins_of(&caller, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
