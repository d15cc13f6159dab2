//! Our own extractors, so that even a request axum cannot read is answered as problem JSON; and
//! the caller, from a bearer token.

use axum::{
    body::Bytes,
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::{HttpState, error::ApiError};
use crate::{
    app::{AppError, Caller, require_admin, tokens::Claims},
    domain::FieldError,
};

/// The JSON API takes the access token only from `Authorization: Bearer`: never a cookie (so
/// no CSRF), never the query string. The use case checks it and that its login is still live.
impl FromRequestParts<HttpState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let Bearer(claims) = Bearer::from_request_parts(parts, state).await?;
        Ok(state.app.caller(&claims).await?)
    }
}

/// An access token that is ours and current, its login not checked yet: for a use case that
/// checks the login along with its own read (`App::current_bookings_for`). Anything else takes
/// a [`Caller`].
#[derive(Debug, Clone)]
pub struct Bearer(pub Claims);

impl FromRequestParts<HttpState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        bearer_token(&parts.headers)?
            .and_then(|token| state.app.verify_access_token(token))
            .map(Bearer)
            .ok_or_else(ApiError::invalid_token)
    }
}

/// A signed-in admin; anyone else signed in is refused before the request's body is read.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<HttpState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        require_admin(&caller)?;
        Ok(Admin(caller))
    }
}

/// The bearer token, if there is one. Two `Authorization` headers are refused outright, since
/// proxies and servers disagree about which of them counts.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "duplicate_authorization",
            "Send one Authorization header, not several.",
        ));
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty() && !token.contains(' '))
        .ok_or_else(ApiError::invalid_token)?;
    Ok(Some(token))
}

/// A JSON body: 415 without a JSON content type, 413 over the body limit, 400 when it is not
/// JSON, 422 (naming the field) when it is JSON of the wrong shape or has fields we do not take.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !has_json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let AppBytes(body) = AppBytes::from_request(req, state).await?;
        parse_json(&body).map(AppJson)
    }
}

/// A raw body: 413 over the body limit, 408 when the client is too slow sending it.
#[derive(Debug, Clone, Default)]
pub struct AppBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for AppBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(AppBytes)
            .map_err(|rejection| unreadable_body(&rejection, rejection.status()))
    }
}

/// Why a body could not be read, as the problem to answer.
pub fn unreadable_body(
    rejection: &(dyn std::error::Error + 'static),
    status: StatusCode,
) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    let mut cause = Some(rejection);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::RequestTimeout;
        }
        cause = err.source();
    }
    ApiError::bad_request("unreadable_body", rejection.to_string())
}

pub fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a request body, which is always a JSON object. (Serde would also read a struct from an
/// array of its fields in order; a body like `["a@b.co", "pw"]` is refused instead.)
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => ApiError::field("body", "must be a JSON object"),
                Err(err) => ApiError::bad_request(
                    "malformed_json",
                    format!("The body is not valid JSON: {err}."),
                ),
            },
        );
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut deserializer);
    let value = match parsed {
        Ok(value) => value,
        // JSON has one number type: `60.0` is the integer 60 (JSON Schema agrees), which serde
        // will not read into an integer. Rare, so only then is the body read a second time.
        Err(err)
            if err
                .inner()
                .to_string()
                .contains("invalid type: floating point") =>
        {
            let mut tree: serde_json::Value = serde_json::from_slice(body).map_err(|err| {
                ApiError::bad_request(
                    "malformed_json",
                    format!("The body is not valid JSON: {err}."),
                )
            })?;
            integral_floats_to_integers(&mut tree);
            return serde_path_to_error::deserialize(tree).map_err(json_error);
        }
        Err(err) => return Err(json_error(err)),
    };
    deserializer.end().map_err(|err| {
        ApiError::bad_request(
            "malformed_json",
            format!("The body is not valid JSON: {err}."),
        )
    })?;
    Ok(value)
}

/// Rewrites every number with no fractional part (`60.0`, `1e3`) as an integer, in place.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // In range and whole, so the conversion is exact.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *value = serde_json::Value::from(whole);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(integral_floats_to_integers);
        }
        _ => {}
    }
}

fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.classify() != Category::Data {
        return ApiError::bad_request(
            "malformed_json",
            format!("The body is not valid JSON: {inner}."),
        );
    }
    let message = inner.to_string();
    // serde_json ends its messages with the position; the field name says more here.
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at])
        .to_owned();
    // For a missing field the path is the enclosing object; name the field itself. (For an
    // unknown field the path already ends with it.)
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (named, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    AppError::Validation(vec![FieldError::new(field, message)]).into()
}

/// A JSON body that may be left out entirely (an empty body reads as the default).
pub fn optional_json<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    // The OpenAPI document marks an optional body nullable, so `null` means "left out" too.
    let text = body.trim_ascii();
    if text.is_empty() || text == b"null" {
        Ok(T::default())
    } else if has_json_content_type(headers) {
        parse_json(body)
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Path parameters; a value that does not parse (an id that is not a UUID) is a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", rejection.body_text())
    }
}

/// Query parameters; unknown or unparsable ones are a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct SignUp {
        email: String,
        password: String,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::App(AppError::Validation(errors)) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_at_fault() {
        let missing = parse_json::<SignUp>(br#"{"email": "a@b.co"}"#).expect_err("missing");
        assert_eq!(field_of(missing), "password");
        let unknown =
            parse_json::<SignUp>(br#"{"email": "a@b.co", "password": "x", "role": "admin"}"#)
                .expect_err("unknown");
        assert_eq!(field_of(unknown), "role");
        let wrong_type =
            parse_json::<SignUp>(br#"{"email": 7, "password": "x"}"#).expect_err("type");
        assert_eq!(field_of(wrong_type), "email");
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for body in [
            &b"{"[..],
            b"not json",
            b"{\"email\": \"a\", \"password\": \"b\"} trailing",
        ] {
            let err = parse_json::<SignUp>(body).expect_err("malformed");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{body:?}");
        }
    }
}
