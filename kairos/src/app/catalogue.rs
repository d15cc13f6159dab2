//! The public catalogue: published services, and their sessions with the places left. No
//! sign-in needed.

use futures_util::FutureExt;
use uuid::Uuid;

use super::{App, AppError, PageRequest, TimeRange};
use crate::{
    domain::{
        page::{Page, time_cursor},
        service::{Service, ServiceStatus},
        session::Session,
    },
    store::{catalogue, sessions},
};

/// The longest search the catalogue takes.
pub const SEARCH_MAX: usize = 100;

impl App {
    /// Published services, newest first: those matching `search` (in the name or description,
    /// case-insensitive), of one provider if given.
    pub async fn catalogue(
        &self,
        search: Option<String>,
        provider_id: Option<Uuid>,
        page: &PageRequest,
    ) -> Result<Page<Service>, AppError> {
        let (limit, after) = page.by_id()?;
        let search = search
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if search
            .as_ref()
            .is_some_and(|q| q.chars().count() > SEARCH_MAX)
        {
            return Err(AppError::field("q", "must be at most 100 characters"));
        }
        if search.as_deref().is_some_and(crate::domain::has_nul) {
            return Err(AppError::field("q", crate::domain::NUL_MESSAGE));
        }
        let rows = self
            .store
            .read(move |r| {
                catalogue::published(r, search.clone(), provider_id, after, limit + 1).boxed()
            })
            .await?;
        Ok(Page::from_overfetch(rows, limit, |s| {
            s.id.simple().to_string()
        }))
    }

    /// A published service; any other is not found.
    pub async fn published_service(&self, service_id: Uuid) -> Result<Service, AppError> {
        match self.service(service_id).await? {
            Some(service) if service.status == ServiceStatus::Published => Ok(service),
            _ => Err(AppError::NotFound("service")),
        }
    }

    /// A published service's scheduled sessions starting in the range, soonest first.
    pub async fn published_sessions(
        &self,
        service_id: Uuid,
        range: TimeRange,
        page: &PageRequest,
    ) -> Result<Page<Session>, AppError> {
        let service = self.published_service(service_id).await?;
        let window = range.checked(self.now())?;
        let (limit, after) = page.by_time()?;
        let rows = self
            .store
            .read(move |r| {
                sessions::of_service(r, service.id, window, true, after, limit + 1).boxed()
            })
            .await?;
        Ok(Page::from_overfetch(rows, limit, |s| {
            time_cursor(s.starts_at, s.id)
        }))
    }
}

impl App {
    /// The service a session is of, whatever either's state (a page that shows why booking the
    /// session failed shows it on its service's page).
    pub async fn session_service(&self, session_id: Uuid) -> Result<Uuid, AppError> {
        self.store
            .read(move |r| sessions::by_id(r, session_id).boxed())
            .await?
            .map(|session| session.service_id)
            .ok_or(AppError::NotFound("session"))
    }
}
