//! Admin pages: the user list, creating a user of any role, role and membership, and ending
//! someone's logins (the seed's `/logout/<userID>`).

use super::{
    forms::{NotDone, answer},
    prelude::*,
};
use crate::{
    app::{AppError, NewAccount, UserChangesByAdmin},
    domain::user::Role,
};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/{userID}/users", get(users))
        .route("/user/{userID}/create", get(users).post(create))
        .route("/user/{userID}/users/{otherID}", post(change))
        .route("/logout/{otherID}", post(force_logout))
}

struct UserRow {
    id: Uuid,
    email: String,
    role: &'static str,
    is_chirpy_red: bool,
    is_self: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    nav: Nav,
    user_path: String,
    users: Vec<UserRow>,
    notice: Option<String>,
    email: String,
    role: String,
    errors: FormErrors,
}

/// Only admins, each on their own pages (the use cases check that the caller is an admin).
pub(super) fn admin_path(viewer: &Viewer, user_id: Uuid) -> Result<(), WebError> {
    if viewer.user().role == Role::Admin && viewer.id() == user_id {
        Ok(())
    } else {
        Err(AppError::Forbidden).or_page(viewer)
    }
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn users(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, WebError> {
    admin_path(&viewer, user_id)?;
    let notice = match query.done.as_deref() {
        Some("created") => Some("Account created."),
        Some("changed") => Some("Saved."),
        Some("logged-out") => Some("Every login of that user has ended."),
        _ => None,
    };
    render(
        &state,
        &viewer,
        notice.map(str::to_owned),
        String::new(),
        "customer".into(),
        FormErrors::default(),
    )
    .await
}

async fn render(
    state: &HttpState,
    viewer: &Viewer,
    notice: Option<String>,
    email: String,
    role: String,
    errors: FormErrors,
) -> Result<Response, WebError> {
    let users = state
        .app
        .users(&viewer.caller, &PageRequest::first(200))
        .await
        .or_page(viewer)?
        .items;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = UsersPage {
        nav: viewer.nav(),
        user_path: format!("/user/{}", viewer.id()),
        users: users
            .into_iter()
            .map(|u| UserRow {
                is_self: u.id == viewer.id(),
                id: u.id,
                email: u.email,
                role: u.role.as_str(),
                is_chirpy_red: u.is_chirpy_red,
            })
            .collect(),
        notice,
        email,
        role,
        errors,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateForm {
    email: String,
    password: String,
    role: String,
}

async fn create(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(user_id)): AppPath<PathId>,
    WebForm(form): WebForm<CreateForm>,
) -> Result<Response, WebError> {
    admin_path(&viewer, user_id)?;
    let created = match Role::parse(&form.role) {
        Some(role) => {
            let account = NewAccount {
                email: form.email.clone(),
                password: form.password,
                role,
            };
            state
                .app
                .create_account(&viewer.caller, user_id, account)
                .await
        }
        None => Err(AppError::field(
            "role",
            "choose customer, provider or admin",
        )),
    };
    let done = |_| format!("/user/{user_id}/users?done=created");
    answer(
        &viewer,
        created.map_err(NotDone::from),
        done,
        |_, errors| render(&state, &viewer, None, form.email, form.role, errors),
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeForm {
    role: String,
    is_chirpy_red: Option<String>,
}

async fn change(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath((PathId(user_id), PathId(other_id))): AppPath<(PathId, PathId)>,
    WebForm(form): WebForm<ChangeForm>,
) -> Result<Response, WebError> {
    admin_path(&viewer, user_id)?;
    let changes = UserChangesByAdmin {
        role: Role::parse(&form.role),
        is_chirpy_red: Some(form.is_chirpy_red.is_some()),
    };
    let changed = state
        .app
        .change_user(&viewer.caller, other_id, changes)
        .await
        .map_err(NotDone::from);
    let done = |_| format!("/user/{user_id}/users?done=changed");
    answer(&viewer, changed, done, |_, errors| {
        render(
            &state,
            &viewer,
            None,
            String::new(),
            "customer".into(),
            errors,
        )
    })
    .await
}

/// Ends every login of the user: their next click lands on the login page.
async fn force_logout(
    State(state): State<HttpState>,
    viewer: Viewer,
    AppPath(PathId(other_id)): AppPath<PathId>,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state
        .app
        .end_logins_of(&viewer.caller, other_id)
        .await
        .or_page(&viewer)?;
    Ok(see(&format!("/user/{}/users?done=logged-out", viewer.id())))
}
