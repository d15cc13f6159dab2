//! `/`, `/login`, `/signup` and `/logout`: the seed's login page, and getting in and out.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{
    WebError,
    forms::{FormErrors, safe_next},
    see,
    session::{MaybeViewer, Nav, Viewer, WebForm, session_cookies, visitor_csrf, without_session},
};
use crate::{
    auth::{ClientIp, accounts::register, login},
    domain::{clock, user::Role},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/login", get(login_page).post(log_in))
        .route("/signup", get(signup_page).post(sign_up))
        .route("/logout", post(log_out))
}

/// To the home page when signed in, else to the login page.
async fn root(MaybeViewer(viewer): MaybeViewer) -> Response {
    match viewer {
        Some(viewer) => see(&format!("/user/{}", viewer.id())),
        None => see("/login"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    csrf: String,
    email: String,
    next: String,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignupPage {
    nav: Nav,
    csrf: String,
    email: String,
    errors: FormErrors,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    jar: CookieJar,
    Query(query): Query<NextQuery>,
) -> Result<Response, WebError> {
    if let Some(viewer) = viewer {
        return Ok(see(&format!("/user/{}", viewer.id())));
    }
    let (jar, csrf) = visitor_csrf(&state, jar)?;
    let page = LoginPage {
        nav: Nav::default(),
        csrf,
        email: String::new(),
        next: safe_next(query.next.as_deref()).unwrap_or_default(),
        errors: FormErrors::default(),
    };
    Ok((jar, page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// Logs in like `POST /api/login`, with the tokens in cookies; back to the page that asked.
async fn log_in(
    State(state): State<AppState>,
    client: ClientIp,
    jar: CookieJar,
    WebForm(form): WebForm<LoginForm>,
) -> Result<Response, WebError> {
    match login::log_in(&state, client, &form.email, form.password).await {
        Ok((user, issued)) => {
            let target =
                safe_next(form.next.as_deref()).unwrap_or_else(|| format!("/user/{}", user.id));
            Ok((session_cookies(&state, jar, &issued), see(&target)).into_response())
        }
        Err(error) => {
            let status = error.status();
            let errors = FormErrors::from_api(error)?;
            let (jar, csrf) = visitor_csrf(&state, jar)?;
            let page = LoginPage {
                nav: Nav::default(),
                csrf,
                email: form.email,
                next: safe_next(form.next.as_deref()).unwrap_or_default(),
                errors,
            };
            Ok((status, jar, page).into_response())
        }
    }
}

async fn signup_page(State(state): State<AppState>, jar: CookieJar) -> Result<Response, WebError> {
    let (jar, csrf) = visitor_csrf(&state, jar)?;
    let page = SignupPage {
        nav: Nav::default(),
        csrf,
        email: String::new(),
        errors: FormErrors::default(),
    };
    Ok((jar, page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupForm {
    email: String,
    password: String,
}

/// Signs up like `POST /api/users`, then logs straight in.
async fn sign_up(
    State(state): State<AppState>,
    client: ClientIp,
    jar: CookieJar,
    WebForm(form): WebForm<SignupForm>,
) -> Result<Response, WebError> {
    state.rate_limits.signup.admit(client)?;
    let registered = register(
        state.store.as_ref(),
        &state.passwords,
        &form.email,
        form.password.clone(),
        Role::Customer,
    )
    .await;
    if let Err(error) = registered {
        let status = error.status();
        let errors = FormErrors::from_api(error)?;
        let (jar, csrf) = visitor_csrf(&state, jar)?;
        let page = SignupPage {
            nav: Nav::default(),
            csrf,
            email: form.email,
            errors,
        };
        return Ok((status, jar, page).into_response());
    }
    let (user, issued) = login::log_in(&state, client, &form.email, form.password).await?;
    Ok((
        session_cookies(&state, jar, &issued),
        see(&format!("/user/{}", user.id)),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// Ends this login session on the server and forgets its cookies.
async fn log_out(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    WebForm(Empty {}): WebForm<Empty>,
) -> Result<Response, WebError> {
    state
        .store
        .end_login_session(viewer.auth.session_id, clock::now())
        .await?;
    Ok((without_session(jar), see("/login")).into_response())
}
