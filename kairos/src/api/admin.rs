//! Accounts as an admin sees them: create any role, list users, change role and membership.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::id_page,
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, Unavailable},
        extract::{AppJson, AppPath, AppQuery},
        paged,
    },
    auth::{Admin, AuthUser, accounts::register},
    domain::{
        clock,
        id::PathId,
        page::{Page, PageQuery},
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::AdminChanges,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(list_users))
        .routes(routes!(change_user))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(example = "clinic@example.org", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 128 characters; the most common passwords are refused.
    #[schema(format = Password, min_length = 8, max_length = 128)]
    pub password: String,
    pub role: Role,
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
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn create_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath(PathId(admin_id)): AppPath<PathId>,
    AppJson(body): AppJson<NewAccount>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    // The path names the admin acting; an admin may act under another admin's path, but the
    // path must name an admin.
    if admin_id != caller.id() {
        match state.store.user(admin_id).await? {
            Some(user) if user.role == Role::Admin => {}
            Some(_) => return Err(ApiError::Forbidden),
            None => return Err(ApiError::NotFound("user")),
        }
    }
    let user = register(
        state.store.as_ref(),
        &state.passwords,
        &body.email,
        body.password,
        body.role,
    )
    .await?;
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
    State(state): State<AppState>,
    Admin(_): Admin,
    OriginalUri(uri): OriginalUri,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let (limit, after) = id_page(page.limit, page.cursor.as_deref())?;
    let rows = state.store.list_users(after, limit + 1).await?;
    let page = Page::from_overfetch(rows, limit, |user| user.id.simple().to_string());
    Ok(paged(&uri, page))
}

/// A new role, a new membership flag, or both: at least one of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserChangesByAdmin {
    pub role: Option<Role>,
    pub is_chirpy_red: Option<bool>,
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
            body = crate::error::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn change_user(
    State(state): State<AppState>,
    Admin(caller): Admin,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<UserChangesByAdmin>,
) -> Result<Json<User>, ApiError> {
    change_user_as_admin(&state, &caller, user_id, body)
        .await
        .map(Json)
}

/// An admin's change to someone's role or membership flag.
pub async fn change_user_as_admin(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    body: UserChangesByAdmin,
) -> Result<User, ApiError> {
    if body.role.is_none() && body.is_chirpy_red.is_none() {
        return Err(ApiError::field(
            "body",
            "give a `role`, an `isChirpyRed`, or both",
        ));
    }
    if user_id == caller.id() && body.role.is_some_and(|role| role != Role::Admin) {
        return Err(ApiError::Conflict {
            code: "cannot_demote_self",
            detail: "An admin cannot take away their own admin role; ask another admin.".to_owned(),
        });
    }
    let changes = AdminChanges {
        role: body.role,
        is_chirpy_red: body.is_chirpy_red,
    };
    let user = state
        .store
        .admin_update_user(user_id, changes, clock::now())
        .await
        .map_err(ApiError::or_missing("user"))?;
    Ok(user)
}
