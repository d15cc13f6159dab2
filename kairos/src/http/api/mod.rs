//! The JSON API under `/api`: one module per feature, each owning its routes and handlers (parse,
//! call one use case, shape the answer); this module assembles them with the OpenAPI document.

pub mod accounts;
pub mod admin;
pub mod availability;
pub mod booking_changes;
pub mod bookings;
pub mod catalogue;
pub mod docs;
pub mod home;
pub mod links;
pub mod outbox;
mod prelude;
pub mod schedule;
pub mod service_views;
pub mod services;
pub mod sessions;
pub mod text_rule;
pub mod tokens;
pub mod waitlist;
pub mod webhooks;

use axum::{
    Router,
    http::{HeaderValue, Uri, header},
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use serde::{Deserialize, Serialize};

use super::json::Json;
use utoipa::{
    IntoParams, OpenApi,
    openapi::{HttpMethod, OpenApi as Document, path::PathItem},
};
use utoipa_axum::router::OpenApiRouter;

use super::HttpState;
use crate::{app::PageRequest, domain::page::Page};

/// Every `/api` route, and the OpenAPI document generated from their annotations.
pub fn routes() -> (Router<HttpState>, Document) {
    let (router, mut doc) = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(accounts::router())
        .merge(tokens::router())
        .merge(admin::router())
        .merge(outbox::router())
        .merge(home::router())
        .merge(services::router())
        .merge(service_views::router())
        .merge(sessions::router())
        .merge(catalogue::router())
        .merge(bookings::router())
        .merge(booking_changes::router())
        .merge(schedule::router())
        .merge(webhooks::router())
        .merge(waitlist::router())
        .merge(availability::router())
        .split_for_parts();
    docs::finish(&mut doc);
    (router, doc)
}

/// Serves a documented operation at a second path by POST too (the seeds' `.../update` beside
/// `PATCH`, `.../delete` beside `DELETE`): one handler, and in the document a copy of the
/// operation under its own id.
pub fn alias(
    mut router: OpenApiRouter<HttpState>,
    (method, path): (HttpMethod, &str),
    alias_path: &'static str,
    operation_id: &str,
    handler: MethodRouter<HttpState>,
) -> OpenApiRouter<HttpState> {
    let paths = &mut router.get_openapi_mut().paths.paths;
    let operation = paths
        .get(path)
        .and_then(|item| operation(item, &method))
        .cloned();
    if let Some(mut operation) = operation {
        operation.operation_id = Some(operation_id.to_owned());
        let mut item = PathItem::new(HttpMethod::Post, operation);
        if let Some(original) = paths.get(path) {
            item.parameters.clone_from(&original.parameters);
        }
        paths.insert(alias_path.to_owned(), item);
    }
    router.route(alias_path, handler)
}

fn operation<'a>(
    item: &'a PathItem,
    method: &HttpMethod,
) -> Option<&'a utoipa::openapi::path::Operation> {
    match method {
        HttpMethod::Get => item.get.as_ref(),
        HttpMethod::Post => item.post.as_ref(),
        HttpMethod::Put => item.put.as_ref(),
        HttpMethod::Patch => item.patch.as_ref(),
        HttpMethod::Delete => item.delete.as_ref(),
        _ => None,
    }
}

/// The query parameters every list takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return: 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where to continue, as given in the previous page's `Link: <...>; rel="next"`.
    #[param(pattern = r"^[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

/// Paging of a list ordered by a time: the cursor names a time and an id.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimePageQuery {
    /// How many items to return: 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where to continue, as given in the previous page's `Link: <...>; rel="next"`.
    #[param(pattern = r"^-?[0-9]{1,18}\.[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

impl From<TimePageQuery> for PageRequest {
    fn from(query: TimePageQuery) -> Self {
        PageRequest {
            limit: query.limit,
            cursor: query.cursor,
        }
    }
}

impl From<PageQuery> for PageRequest {
    fn from(query: PageQuery) -> Self {
        PageRequest {
            limit: query.limit,
            cursor: query.cursor,
        }
    }
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
