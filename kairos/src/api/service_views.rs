//! Seeing services: a user's list (a provider's own with counts, a customer's subscriptions) and
//! one service's details as its provider or a customer sees it.

use axum::{
    Json,
    extract::{OriginalUri, State},
    response::Response,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    api::{
        access::{id_page, owned_service, path_user},
        docs::{AuthErrors, InputErrors, NotFound, Unavailable},
        extract::{AppPath, AppQuery},
        paged,
    },
    auth::AuthUser,
    domain::{
        booking::Booking,
        clock,
        id::PathId,
        page::{Page, PageQuery},
        service::{Service, ServiceStatus},
        session::Session,
        user::{Role, User},
    },
    error::ApiError,
    state::AppState,
    store::{BookingFilter, Perspective, ServiceCounts},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user_services))
        .routes(routes!(service_details))
}

/// A service in a list: a provider's own come with their counts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSummary {
    #[serde(flatten)]
    pub service: Service,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<ServiceCounts>,
}

/// A provider's own services (every status, with counts), or the services a customer is
/// subscribed to; newest first.
#[utoipa::path(
    get, path = "/api/user/{userID}/services", tag = "services",
    params(("userID" = Uuid, Path), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of services; a next page is in `Link`",
            body = Vec<ServiceSummary>),
        AuthErrors, InputErrors, NotFound, Unavailable,
    )
)]
async fn user_services(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath(PathId(user_id)): AppPath<PathId>,
    OriginalUri(uri): OriginalUri,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let (limit, after) = id_page(page.limit, page.cursor.as_deref())?;
    let rows = services_of(&state, &user, after, limit + 1).await?;
    let page = Page::from_overfetch(rows, limit, |s| s.service.id.simple().to_string());
    Ok(paged(&uri, page))
}

/// A user's services as their lists and home page show them.
pub async fn services_of(
    state: &AppState,
    user: &User,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ServiceSummary>, ApiError> {
    Ok(if user.role == Role::Provider {
        state
            .store
            .provider_services(user.id, after, limit, clock::now())
            .await?
            .into_iter()
            .map(|(service, counts)| ServiceSummary {
                service,
                counts: Some(counts),
            })
            .collect()
    } else {
        state
            .store
            .subscribed_services(user.id, after, limit)
            .await?
            .into_iter()
            .map(|service| ServiceSummary {
                service,
                counts: None,
            })
            .collect()
    })
}

/// A service as its provider or a customer sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetails {
    pub service: Service,
    /// Provider: what the service holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<ServiceCounts>,
    /// Provider: the next sessions (up to 50), cancelled ones included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upcoming_sessions: Option<Vec<Session>>,
    /// Customer: whether they are subscribed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<bool>,
    /// Customer: their bookings of this service, latest first (up to 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookings: Option<Vec<Booking>>,
}

const DETAIL_ITEMS: u32 = 50;

/// A provider's service with its sessions and counts; or, for a customer, a service they may
/// see (published, or one they are subscribed to) with their bookings of it.
#[utoipa::path(
    get, path = "/api/user/{userID}/services/{serviceID}", tag = "services",
    params(("userID" = Uuid, Path), ("serviceID" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ServiceDetails), AuthErrors, InputErrors, NotFound, Unavailable)
)]
async fn service_details(
    State(state): State<AppState>,
    caller: AuthUser,
    AppPath((PathId(user_id), PathId(service_id))): AppPath<(PathId, PathId)>,
) -> Result<Json<ServiceDetails>, ApiError> {
    let user = path_user(&state, &caller, user_id).await?;
    let now = clock::now();
    if user.role == Role::Provider {
        let service = owned_service(&state, &user, service_id).await?;
        let counts = state.store.service_counts(service.id, now).await?;
        let sessions = state
            .store
            .service_sessions(
                service.id,
                now,
                now + chrono::Duration::days(366),
                false,
                None,
                DETAIL_ITEMS,
            )
            .await?;
        return Ok(Json(ServiceDetails {
            service,
            counts: Some(counts),
            upcoming_sessions: Some(sessions),
            subscribed: None,
            bookings: None,
        }));
    }
    let service = state
        .store
        .service(service_id)
        .await?
        .ok_or(ApiError::NotFound("service"))?;
    let subscribed = state.store.is_subscribed(user.id, service.id).await?;
    if service.status != ServiceStatus::Published && !subscribed {
        return Err(ApiError::NotFound("service"));
    }
    let bookings = state
        .store
        .all_bookings(BookingFilter {
            user_id: user.id,
            perspective: Perspective::Customer,
            status: None,
            service_id: Some(service.id),
            from: None,
            to: None,
            after: None,
            limit: DETAIL_ITEMS,
        })
        .await?;
    Ok(Json(ServiceDetails {
        service,
        counts: None,
        upcoming_sessions: None,
        subscribed: Some(subscribed),
        bookings: Some(bookings),
    }))
}
