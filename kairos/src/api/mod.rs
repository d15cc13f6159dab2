//! The JSON API under `/api`: one module per feature, each owning its routes, request and
//! response types and handlers; this module assembles them with the OpenAPI document.

pub mod access;
pub mod admin;
pub mod booking_changes;
pub mod bookings;
pub mod catalogue;
pub mod docs;
pub mod extract;
pub mod home;
pub mod links;
pub mod schedule;
pub mod service_views;
pub mod services;
pub mod sessions;
pub mod tokens;
pub mod users;

use axum::{
    Json,
    http::{HeaderValue, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{domain::page::Page, state::AppState};

/// Every `/api` route, and the OpenAPI document generated from their annotations.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(users::router())
        .merge(tokens::router())
        .merge(admin::router())
        .merge(home::router())
        .merge(services::router())
        .merge(service_views::router())
        .merge(sessions::router())
        .merge(catalogue::router())
        .merge(bookings::router())
        .merge(booking_changes::router())
        .merge(schedule::router())
}

/// A list as a JSON array, with `Link: <...>; rel="next"` when there is a next page. The link
/// repeats the request's query with the new cursor, so filters carry over.
pub fn paged<T: Serialize>(uri: &Uri, page: Page<T>) -> Response {
    let mut response = Json(page.items).into_response();
    if let Some(cursor) = page.next {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
            if key != "cursor" {
                query.append_pair(&key, &value);
            }
        }
        query.append_pair("cursor", &cursor);
        let link = format!("<{}?{}>; rel=\"next\"", uri.path(), query.finish());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}
