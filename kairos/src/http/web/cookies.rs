//! Cookies: a login's tokens live in HttpOnly cookies, an expired access cookie is refreshed
//! from the refresh cookie on the way in, and every form is checked for its CSRF token and for
//! coming from this site.

use axum::{
    extract::{FromRequest, FromRequestParts, Request, State, rejection::FormRejection},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::WebError;
use crate::{
    app::{
        AppError, Caller, Issued, Unauthenticated,
        tokens::{ACCESS_TOKEN_SECONDS, LOGIN_DAYS, random_token},
    },
    domain::user::{Role, User},
    http::{HttpState, error::ApiError, extract::unreadable_body},
};

pub const ACCESS_COOKIE: &str = "kairos_access";
pub const REFRESH_COOKIE: &str = "kairos_refresh";
/// A random nonce for visitors who are not signed in, so the login and sign-up forms carry a
/// CSRF token too.
pub const VISITOR_COOKIE: &str = "kairos_visitor";

/// The access token of this request when the middleware had to refresh it.
#[derive(Debug, Clone)]
struct FreshAccess(String);

fn cookie(
    state: &HttpState,
    name: &'static str,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(state.app.public_url().starts_with("https://"))
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// The cookies of a login; the names stay, the values change at every login.
pub fn login_cookies(state: &HttpState, jar: CookieJar, issued: &Issued) -> CookieJar {
    jar.add(cookie(
        state,
        ACCESS_COOKIE,
        issued.access_token.clone(),
        ACCESS_TOKEN_SECONDS,
    ))
    .add(cookie(
        state,
        REFRESH_COOKIE,
        issued.refresh_token.clone(),
        LOGIN_DAYS * 24 * 3600,
    ))
    .add(expired(VISITOR_COOKIE))
}

pub fn without_login(jar: CookieJar) -> CookieJar {
    jar.add(expired(ACCESS_COOKIE)).add(expired(REFRESH_COOKIE))
}

/// A cookie that tells the browser to drop the one of that name, whether or not this request
/// carried it.
fn expired(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::ZERO)
        .build()
}

/// Middleware: when the access cookie no longer verifies but a refresh cookie is there, rotate
/// the refresh token and carry on with the new access token, setting both cookies on the answer.
pub async fn refresh_expired_access(
    State(state): State<HttpState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    let access_ok = jar
        .get(ACCESS_COOKIE)
        .is_some_and(|c| state.app.verify_access_token(c.value()).is_some());
    let refresh = jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned());
    let (Some(refresh), false) = (refresh, access_ok) else {
        return next.run(request).await;
    };
    match state.app.refresh(&refresh).await {
        Ok(issued) => {
            request
                .extensions_mut()
                .insert(FreshAccess(issued.access_token.clone()));
            let response = next.run(request).await;
            (login_cookies(&state, jar, &issued), response).into_response()
        }
        // The login is over: forget its cookies.
        Err(AppError::Unauthenticated(_)) => {
            let response = next.run(request).await;
            (without_login(jar), response).into_response()
        }
        // The database is down: keep the cookies for when it is back.
        Err(_) => next.run(request).await,
    }
}

fn access_token(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<FreshAccess>()
        .map(|fresh| fresh.0.clone())
        .or_else(|| {
            CookieJar::from_headers(&parts.headers)
                .get(ACCESS_COOKIE)
                .map(|c| c.value().to_owned())
        })
}

/// A signed-in person looking at pages. Anyone else is sent to `/login` (and back afterwards).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub csrf: String,
}

impl Viewer {
    pub fn user(&self) -> &User {
        &self.caller.user
    }

    pub fn id(&self) -> Uuid {
        self.caller.user.id
    }

    /// What the page header shows.
    pub fn nav(&self) -> Nav {
        let user = self.user();
        Nav {
            signed_in: true,
            id: user.id.to_string(),
            email: user.email.clone(),
            role: user.role.as_str(),
            is_provider: user.role == Role::Provider,
            is_admin: user.role == Role::Admin,
            csrf: self.csrf.clone(),
        }
    }
}

impl FromRequestParts<HttpState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, WebError> {
        let sign_in = || WebError::SignIn {
            next: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
        };
        let Some(token) = access_token(parts) else {
            return Err(sign_in());
        };
        let caller = match state.app.authenticate(&token).await {
            Ok(caller) => caller,
            Err(AppError::Unauthenticated(Unauthenticated::InvalidToken)) => return Err(sign_in()),
            Err(other) => return Err(other.into()),
        };
        let csrf = state.csrf.for_login(caller.login_id);
        Ok(Self { caller, csrf })
    }
}

/// A viewer if someone is signed in: the catalogue is for everyone.
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequestParts<HttpState> for MaybeViewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, WebError> {
        match Viewer::from_request_parts(parts, state).await {
            Ok(viewer) => Ok(Self(Some(viewer))),
            Err(WebError::SignIn { .. }) => Ok(Self(None)),
            Err(other) => Err(other),
        }
    }
}

/// The page header's view of who is signed in.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub signed_in: bool,
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub is_provider: bool,
    pub is_admin: bool,
    pub csrf: String,
}

impl Nav {
    pub fn of(viewer: Option<&Viewer>) -> Self {
        viewer.map(Viewer::nav).unwrap_or_default()
    }
}

/// A visitor's CSRF token, and the cookie that goes with it (a new one if they had none).
pub fn visitor_csrf(state: &HttpState, jar: CookieJar) -> Result<(CookieJar, String), ApiError> {
    let nonce = match jar.get(VISITOR_COOKIE) {
        Some(c) => c.value().to_owned(),
        None => random_token().map_err(AppError::Internal)?,
    };
    let token = state.csrf.for_visitor(&nonce);
    Ok((
        jar.add(cookie(state, VISITOR_COOKIE, nonce, 24 * 3600)),
        token,
    ))
}

/// A submitted form: refused with 403 when it comes from another site or lacks the CSRF token
/// of the login (or, before login, of the visitor cookie). The `csrf` field is taken
/// out; the rest must be exactly the fields `T` has.
#[derive(Debug)]
pub struct WebForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<HttpState> for WebForm<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &HttpState) -> Result<Self, WebError> {
        if !same_site(request.headers()) {
            return Err(WebError::CrossSite);
        }
        let (parts, body) = request.into_parts();
        let login = access_token(&parts)
            .and_then(|t| state.app.verify_access_token(&t))
            .map(|c| c.login);
        let visitor = CookieJar::from_headers(&parts.headers)
            .get(VISITOR_COOKIE)
            .map(|c| c.value().to_owned());
        let request = Request::from_parts(parts, body);
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|rejection| {
                WebError::from(match &rejection {
                    FormRejection::BytesRejection(bytes) => unreadable_body(bytes, bytes.status()),
                    other => ApiError::bad_request("bad_form", other.body_text()),
                })
            })?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let valid = match (login, visitor) {
            (Some(login), _) => state.csrf.check_login(login, token),
            (None, Some(nonce)) => state.csrf.check_visitor(&nonce, token),
            (None, None) => false,
        };
        if !valid {
            return Err(WebError::CrossSite);
        }
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "csrf").collect();
        let encoded = serde_urlencoded::to_string(&rest).unwrap_or_default();
        let value = serde_urlencoded::from_str(&encoded)
            .map_err(|err| WebError::from(ApiError::bad_request("bad_form", err.to_string())))?;
        Ok(Self(value))
    }
}

/// False when the browser says the request comes from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` whose host is not the one the request was sent to.
pub fn same_site(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let origin_host = origin
        .split_once("://")
        .map(|(_, host)| host.trim_end_matches('/'));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().expect("header"));
        }
        headers
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(same_site(&headers(&[("host", "book.example.org")])));
        assert!(same_site(&headers(&[
            ("host", "book.example.org"),
            ("origin", "https://book.example.org")
        ])));
        assert!(same_site(&headers(&[
            ("host", "book.example.org"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_site(&headers(&[
            ("host", "book.example.org"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_site(&headers(&[
            ("host", "book.example.org"),
            ("origin", "null")
        ])));
        assert!(!same_site(&headers(&[
            ("host", "book.example.org"),
            ("sec-fetch-site", "cross-site")
        ])));
    }
}
