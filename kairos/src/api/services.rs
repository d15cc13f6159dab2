//! Changing services: a provider creates (draft or published), edits and withdraws its own; a
//! customer removes themselves from one.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{owned_service, path_user, provider_path},
        docs::{AuthErrors, BodyErrors, InputErrors, NotFound, Unavailable},
        extract::{AppJson, AppPath, AppQuery},
    },
    auth::AuthUser,
    domain::{
        booking::REASON_MAX,
        clock,
        id::{PathId, new_id},
        refusal::Refusal,
        service::{
            Service, ServiceChanges, ServiceSpec, ServiceStatus, TemplateField, template_fields,
        },
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::Withdrawal,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_template))
        .routes(routes!(save_draft))
        .routes(routes!(publish))
        .routes(routes!(update_service_patch, remove_service_delete))
        .routes(routes!(update_service_post))
        .routes(routes!(remove_service_post))
}

/// Declares a request body holding a service's fields (all optional), plus any leading fields
/// given, so the draft and the edit bodies cannot drift apart.
macro_rules! service_fields {
    ($(#[$meta:meta])* $name:ident { $($(#[$extra_meta:meta])* $extra:ident: $extra_type:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($(#[$extra_meta])* pub $extra: $extra_type,)*
            /// Required for a new service; trimmed, at most 120 characters.
            #[schema(example = "Morning yoga", max_length = 120, pattern = r"\S")]
            pub name: Option<String>,
            #[schema(max_length = 5000)]
            pub description: Option<String>,
            #[schema(minimum = 5, maximum = 1440)]
            pub duration_minutes: Option<i64>,
            #[schema(minimum = 1, maximum = 10000)]
            pub capacity: Option<i64>,
            #[schema(max_length = 200)]
            pub location: Option<String>,
            /// An IANA time zone name.
            #[schema(schema_with = crate::api::docs::time_zone_name)]
            pub time_zone: Option<String>,
            #[schema(minimum = 0, maximum = 527040)]
            pub booking_notice_minutes: Option<i64>,
            #[schema(minimum = 0, maximum = 527040)]
            pub cancellation_notice_minutes: Option<i64>,
        }

        impl $name {
            /// The service fields as changes to apply; the leading fields are not among them.
            pub fn changes(self) -> ServiceChanges {
                ServiceChanges {
                    name: self.name,
                    description: self.description,
                    duration_minutes: self.duration_minutes,
                    capacity: self.capacity,
                    location: self.location,
                    time_zone: self.time_zone,
                    booking_notice_minutes: self.booking_notice_minutes,
                    cancellation_notice_minutes: self.cancellation_notice_minutes,
                }
            }
        }
    };
}

service_fields!(
    /// A new service, or changes to the caller's draft named by `id`. A new service takes the
    /// template's defaults for what is left out and needs a `name`; so the body gives a `name`,
    /// an `id`, or both.
    ServiceDraft {
        /// The caller's draft to change instead of creating a service.
        id: Option<Uuid>,
    }
);

service_fields!(
    /// Changes to a service: absent fields keep their value.
    ServiceFields {}
);

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
    responses((status = 200, body = ServiceTemplate), AuthErrors, InputErrors, NotFound, Unavailable)
)]
async fn service_template(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
) -> Result<Json<ServiceTemplate>, ApiError> {
    let provider = provider_path(&state, &caller, user_id).await?;
    let base = format!("/api/user/{}/services/create", provider.id);
    Ok(Json(ServiceTemplate {
        fields: template_fields(),
        save_draft: format!("{base}/save"),
        publish: format!("{base}/publish"),
    }))
}

/// Save a draft: a new one (201), or the caller's draft named by `id` (200). Drafts are not in
/// the catalogue and cannot be booked.
#[utoipa::path(
    post, path = "/api/user/{userID}/services/create/save", tag = "services",
    params(("userID" = Uuid, Path)),
    request_body = ServiceDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new draft", body = Service),
        (status = 200, description = "The draft, changed", body = Service),
        (status = 409, description = "`id` names a service that is not a draft (`not_a_draft`), \
            or it changed meanwhile (`edit_conflict`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn save_draft(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<ServiceDraft>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let provider = provider_path(&state, &caller, user_id).await?;
    write_service(&state, &provider, body, ServiceStatus::Draft).await
}

/// Publish: a new service straight away (201), or the caller's draft named by `id` (200).
#[utoipa::path(
    post, path = "/api/user/{userID}/services/create/publish", tag = "services",
    params(("userID" = Uuid, Path)),
    request_body = ServiceDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new published service", body = Service),
        (status = 200, description = "The draft, now published", body = Service),
        (status = 409, description = "`id` names a service that is not a draft (`not_a_draft`), \
            or it changed meanwhile (`edit_conflict`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn publish(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    AppJson(body): AppJson<ServiceDraft>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let provider = provider_path(&state, &caller, user_id).await?;
    write_service(&state, &provider, body, ServiceStatus::Published).await
}

pub async fn write_service(
    state: &AppState,
    provider: &User,
    body: ServiceDraft,
    status: ServiceStatus,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let id = body.id;
    let changes = body.changes();
    let now = clock::now();
    let Some(id) = id else {
        let spec = ServiceSpec::defaults()
            .apply(changes)
            .map_err(ApiError::Validation)?;
        let service = state
            .store
            .create_service(new_id(), provider.id, spec, status, now)
            .await?;
        return Ok((StatusCode::CREATED, Json(service)));
    };
    let current = owned_service(state, provider, id).await?;
    if current.status != ServiceStatus::Draft {
        return Err(Refusal::NotADraft.into());
    }
    let spec = ServiceSpec::of(&current)
        .apply(changes)
        .map_err(ApiError::Validation)?;
    let publishing = (status == ServiceStatus::Published).then_some(status);
    let service = state
        .store
        .update_service(id, spec, publishing, current.updated_at, now)
        .await
        .map_err(ApiError::or_missing("service"))?;
    Ok((StatusCode::OK, Json(service)))
}

/// Edit a service (its provider only). Absent fields keep their value.
#[utoipa::path(
    patch, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    request_body = ServiceFields,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The service as it is now", body = Service),
        (status = 409, description = "Archived (`service_archived`) or changed meanwhile \
            (`edit_conflict`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn update_service_patch(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<ServiceFields>,
) -> Result<Json<Service>, ApiError> {
    update_service(&state, &caller, user_id, service_id, body.changes()).await
}

/// The seed's form of the same edit.
#[utoipa::path(
    post, path = "/api/user/{userID}/services/{serviceID}/update", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    request_body = ServiceFields,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The service as it is now", body = Service),
        (status = 409, description = "Archived (`service_archived`) or changed meanwhile \
            (`edit_conflict`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        BodyErrors, AuthErrors, NotFound, Unavailable,
    )
)]
async fn update_service_post(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppJson(body): AppJson<ServiceFields>,
) -> Result<Json<Service>, ApiError> {
    update_service(&state, &caller, user_id, service_id, body.changes()).await
}

pub async fn update_service(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    service_id: Uuid,
    changes: ServiceChanges,
) -> Result<Json<Service>, ApiError> {
    let provider = provider_path(state, caller, user_id).await?;
    let current = owned_service(state, &provider, service_id).await?;
    if current.status == ServiceStatus::Archived {
        return Err(Refusal::ServiceArchived.into());
    }
    let spec = ServiceSpec::of(&current)
        .apply(changes)
        .map_err(ApiError::Validation)?;
    let service = state
        .store
        .update_service(service_id, spec, None, current.updated_at, clock::now())
        .await
        .map_err(ApiError::or_missing("service"))?;
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

impl ReasonQuery {
    /// The reason given, checked, or the default.
    pub fn reason_or(self, default: &str) -> Result<String, ApiError> {
        let reason = self
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        match reason {
            Some(r) if r.chars().count() > REASON_MAX => {
                Err(ApiError::field("reason", "must be at most 500 characters"))
            }
            Some(r) => Ok(r),
            None => Ok(default.to_owned()),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemovalResult {
    /// It had bookings: archived, its pending bookings cancelled.
    Archived,
    /// It had none: gone.
    Deleted,
    /// The customer is no longer subscribed; their pending bookings there are cancelled.
    Unsubscribed,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    pub service_id: Uuid,
    pub result: RemovalResult,
    pub cancelled_bookings: u64,
}

/// A provider withdraws its service: archived if it has bookings (their pending bookings are
/// cancelled with the reason), deleted if not. A customer removes themselves: unsubscribed, and
/// their pending bookings there cancelled (all or nothing, within the cancellation notice).
#[utoipa::path(
    delete, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Removal),
        (status = 422, description = "A booking to cancel is inside the cancellation notice \
            (`cancellation_notice`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn remove_service_delete(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<Json<Removal>, ApiError> {
    remove_service(&state, &caller, user_id, service_id, query).await
}

/// The seed's form of the same removal ("remove yourself from this service").
#[utoipa::path(
    post, path = "/api/user/{userID}/services/{serviceID}/delete", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path), ReasonQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Removal),
        (status = 422, description = "A booking to cancel is inside the cancellation notice \
            (`cancellation_notice`)", body = crate::error::Problem,
            content_type = "application/problem+json"),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn remove_service_post(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
    AppQuery(query): AppQuery<ReasonQuery>,
) -> Result<Json<Removal>, ApiError> {
    remove_service(&state, &caller, user_id, service_id, query).await
}

pub async fn remove_service(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    service_id: Uuid,
    query: ReasonQuery,
) -> Result<Json<Removal>, ApiError> {
    let user = path_user(state, caller, user_id).await?;
    let now = clock::now();
    if user.role == Role::Provider {
        let service = owned_service(state, &user, service_id).await?;
        let reason = query.reason_or("The provider withdrew this service.")?;
        let outcome = state
            .store
            .withdraw_service(service.id, reason, now)
            .await
            .map_err(ApiError::or_missing("service"))?;
        let (result, cancelled_bookings) = match outcome {
            Withdrawal::Archived { cancelled_bookings } => {
                (RemovalResult::Archived, cancelled_bookings)
            }
            Withdrawal::Deleted => (RemovalResult::Deleted, 0),
        };
        return Ok(Json(Removal {
            service_id,
            result,
            cancelled_bookings,
        }));
    }
    if !state.store.is_subscribed(user.id, service_id).await? {
        return Err(ApiError::NotFound("service"));
    }
    let reason = query.reason_or("The customer removed themselves from this service.")?;
    let cancelled_bookings = state
        .store
        .unsubscribe(user.id, service_id, reason, now)
        .await?;
    Ok(Json(Removal {
        service_id,
        result: RemovalResult::Unsubscribed,
        cancelled_bookings,
    }))
}
