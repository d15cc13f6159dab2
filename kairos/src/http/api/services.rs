//! Changing services: a provider creates (draft or published), edits and withdraws its own; a
//! customer removes themselves from one.

use axum::{extract::MatchedPath, routing::post};
use utoipa::openapi::HttpMethod;

use super::{alias, prelude::*};
use crate::{
    app::{Removal, ServiceDraft, ServiceFields},
    domain::service::{Service, ServiceStatus, TemplateField},
};

const SERVICE: &str = "/api/user/{userID}/services/{serviceID}";

pub fn router() -> OpenApiRouter<HttpState> {
    let router = OpenApiRouter::new()
        .routes(routes!(service_template))
        .routes(routes!(save_service))
        .routes(routes!(edit_service, remove_service));
    let router = alias(
        router,
        (
            HttpMethod::Post,
            "/api/user/{userID}/services/create/publish",
        ),
        "/api/user/{userID}/services/create/save",
        "save_draft",
        post(save_service),
    );
    let router = alias(
        router,
        (HttpMethod::Patch, SERVICE),
        "/api/user/{userID}/services/{serviceID}/update",
        "update_service_post",
        post(edit_service),
    );
    alias(
        router,
        (HttpMethod::Delete, SERVICE),
        "/api/user/{userID}/services/{serviceID}/delete",
        "remove_service_post",
        post(remove_service),
    )
}

/// "The tools to create a service": every field with its default and limits, and where to send it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTemplate {
    pub fields: Vec<TemplateField>,
    pub save_draft: String,
    pub publish: String,
}

/// The template for a new service (providers only).
#[utoipa::path(
    get, path = "/api/user/{userID}/services/create", tag = "services",
    params(("userID" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every field with its default and limits", body = ServiceTemplate),
        ReadErrors,
    )
)]
async fn service_template(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<ServiceTemplate>, ApiError> {
    let fields = state.app.service_template(&caller, user_id).await?;
    let base = format!("/api/user/{user_id}/services/create");
    Ok(Json(ServiceTemplate {
        fields,
        save_draft: format!("{base}/save"),
        publish: format!("{base}/publish"),
    }))
}

/// Publish (`.../publish`) or save as a draft (`.../save`, not in the catalogue, not bookable):
/// a new service (201), or the caller's draft named by `id` (200).
#[utoipa::path(
    post, path = "/api/user/{userID}/services/create/publish", tag = "services",
    operation_id = "publish",
    params(("userID" = Uuid, Path)),
    request_body = ServiceDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new service: published, or a draft when saved",
            body = Service),
        (status = 200, description = "The draft, changed (and published, when published)",
            body = Service),
        (status = 409, description = "`id` names a service that is not a draft (`not_a_draft`), \
            or it changed meanwhile (`edit_conflict`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn save_service(
    State(state): State<HttpState>,
    caller: Caller,
    route: MatchedPath,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<ServiceDraft>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let status = if route.as_str().ends_with("/save") {
        ServiceStatus::Draft
    } else {
        ServiceStatus::Published
    };
    let (service, created) = state
        .app
        .save_service(&caller, user_id, body, status)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(service)))
}

/// Edit a service (its provider only); absent fields keep their value. `POST .../update` is
/// the seed's form of the same.
#[utoipa::path(
    patch, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    operation_id = "update_service_patch",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    request_body = ServiceFields,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The service as it is now", body = Service),
        (status = 409, description = "Archived (`service_archived`) or changed meanwhile \
            (`edit_conflict`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        WriteErrors,
    )
)]
async fn edit_service(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<ServiceFields>,
) -> Result<Json<Service>, ApiError> {
    let service = state
        .app
        .edit_service(&caller, user_id, service_id, body.changes())
        .await?;
    Ok(Json(service))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Why; kept on every booking this cancels (at most 500 characters).
    #[param(max_length = 500)]
    pub reason: Option<String>,
}

/// A provider withdraws its service: archived if it has bookings (their pending bookings are
/// cancelled with the reason), deleted if not. A customer removes themselves: unsubscribed, and
/// their pending bookings there cancelled (all or nothing, within the cancellation notice).
/// `POST .../delete` is the seed's form of the same ("remove yourself from this service").
#[utoipa::path(
    delete, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    operation_id = "remove_service_delete",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What became of it", body = Removal),
        (status = 422, description = "A booking to cancel is inside the cancellation notice \
            (`cancellation_notice`)", body = crate::http::problem::Problem,
            content_type = "application/problem+json"),
        ReadErrors,
    )
)]
async fn remove_service(
    State(state): State<HttpState>,
    caller: Caller,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<Json<Removal>, ApiError> {
    let removal = state
        .app
        .remove_service(&caller, user_id, service_id, query.reason)
        .await?;
    Ok(Json(removal))
}
