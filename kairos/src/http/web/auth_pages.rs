//! `/`, `/login`, `/signup` and `/logout`: the seed's login page, and getting in and out.

use axum_extra::extract::CookieJar;

use super::{
    cookies::{login_cookies, visitor_csrf, without_login},
    forms::safe_next,
    prelude::*,
};
use crate::http::client_ip::ClientIp;

pub fn router() -> Router<HttpState> {
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
    State(state): State<HttpState>,
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

/// Logs in like `POST /api/login` (the same limits), with the tokens in cookies; back to the
/// page that asked.
async fn log_in(
    State(state): State<HttpState>,
    client: ClientIp,
    jar: CookieJar,
    WebForm(form): WebForm<LoginForm>,
) -> Result<Response, WebError> {
    let logged_in = match state.rate_limits.login.admit(client) {
        Ok(()) => state
            .app
            .log_in(&form.email, form.password)
            .await
            .map_err(Into::into),
        Err(limited) => Err(limited),
    };
    match logged_in {
        Ok((user, issued)) => {
            let target =
                safe_next(form.next.as_deref()).unwrap_or_else(|| format!("/user/{}", user.id));
            Ok((login_cookies(&state, jar, &issued), see(&target)).into_response())
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

async fn signup_page(State(state): State<HttpState>, jar: CookieJar) -> Result<Response, WebError> {
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
    State(state): State<HttpState>,
    client: ClientIp,
    jar: CookieJar,
    WebForm(form): WebForm<SignupForm>,
) -> Result<Response, WebError> {
    state.rate_limits.signup.admit(client)?;
    let registered = state
        .app
        .sign_up(&form.email, form.password.clone())
        .await
        .map_err(ApiError::from);
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
    state.rate_limits.login.admit(client)?;
    let (user, issued) = state.app.log_in(&form.email, form.password).await?;
    Ok((
        login_cookies(&state, jar, &issued),
        see(&format!("/user/{}", user.id)),
    )
        .into_response())
}

/// Ends this login on the server and forgets its cookies.
async fn log_out(
    State(state): State<HttpState>,
    viewer: Viewer,
    jar: CookieJar,
    WebForm(EmptyForm {}): WebForm<EmptyForm>,
) -> Result<Response, WebError> {
    state.app.log_out(&viewer.caller).await?;
    Ok((without_login(jar), see("/login")).into_response())
}
