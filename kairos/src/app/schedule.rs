//! Schedules and the calendar feed: the answer to the seed's "Should we use the goog calender
//! API?" is an RFC 5545 feed that Google, Apple and Outlook calendars subscribe to by URL.

use std::collections::HashMap;

use chrono::Duration;
use futures_util::FutureExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    App, AppError, Caller, PageRequest, TimeRange,
    tokens::{hash_refresh_token, new_refresh_token},
};
use crate::{
    domain::{
        calendar::{CalendarEvent, describe, render_feed, session_uid},
        page::{Page, time_cursor},
        schedule::ScheduleEntry,
        user::Role,
    },
    store::{
        accounts,
        booking_lists::{self, BookingFilter, Perspective},
        schedule::{self, SessionEvent},
        services,
    },
};

/// How far back a feed reaches.
const FEED_HISTORY_DAYS: i64 = 180;

/// A calendar feed's text and the tag that changes when it does.
#[derive(Debug)]
pub struct CalendarFeed {
    pub body: String,
    /// A strong `ETag`, quoted.
    pub etag: String,
}

impl App {
    /// A user's schedule in the range (default now to 30 days on), in time order: a customer's
    /// booked sessions, or a provider's sessions with their attendees. With a service, only
    /// that one's (a provider's own; any service a customer names).
    pub async fn schedule(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Option<Uuid>,
        range: TimeRange,
        page: &PageRequest,
    ) -> Result<Page<ScheduleEntry>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        if let Some(service_id) = service_id {
            if user.role == Role::Provider {
                self.owned_service(&user, service_id).await?;
            } else if self.service(service_id).await?.is_none() {
                return Err(AppError::NotFound("service"));
            }
        }
        let (from, to) = range.checked(self.now())?;
        let (limit, after) = page.by_time()?;
        let user_id = user.id;
        if user.role == Role::Provider {
            let entries = self
                .store
                .read(move |r| {
                    schedule::provider_schedule(r, user_id, from, to, service_id, after, limit + 1)
                        .boxed()
                })
                .await?;
            return Ok(Page::from_overfetch(entries, limit, |e| {
                time_cursor(
                    e.starts_at,
                    e.session.as_ref().map_or(Uuid::nil(), |s| s.id),
                )
            }));
        }
        let filter = BookingFilter {
            service_id,
            from: Some(from),
            to: Some(to),
            after,
            limit: limit + 1,
            ..BookingFilter::of(user_id, Perspective::Customer)
        };
        let bookings = self
            .store
            .read(move |r| booking_lists::customer_schedule(r, filter.clone()).boxed())
            .await?;
        let entries = bookings
            .into_iter()
            .map(ScheduleEntry::of_booking)
            .collect();
        Ok(Page::from_overfetch(entries, limit, |e: &ScheduleEntry| {
            time_cursor(
                e.starts_at,
                e.booking.as_ref().map_or(Uuid::nil(), |b| b.id),
            )
        }))
    }

    /// Makes (or replaces) the user's private feed URL; the old one stops working.
    pub async fn new_feed_url(&self, caller: &Caller, user_id: Uuid) -> Result<String, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (token, hash) = new_refresh_token().map_err(AppError::Internal)?;
        let (user_id, now) = (user.id, self.now());
        self.store
            .write(move |w| schedule::set_feed(w, user_id, hash, now).boxed())
            .await?;
        Ok(format!(
            "{}/user/{}/schedule.ics?token={token}",
            self.public_url,
            user_id.simple()
        ))
    }

    /// The feed its secret opens: one event per booking for a customer (cancellations kept as
    /// cancelled), one per session for a provider. A wrong token is "not found".
    pub async fn calendar_feed(
        &self,
        user_id: Uuid,
        token: &str,
    ) -> Result<CalendarFeed, AppError> {
        let hash = hash_refresh_token(token);
        let since = self.now() - Duration::days(FEED_HISTORY_DAYS);
        // The owner's pages on this server, which each event links to.
        let pages = format!("{}/user/{}", self.public_url, user_id);
        let host = self.mail_host.clone();
        let events = self
            .store
            .read(move |r| {
                let (hash, pages, host) = (hash.clone(), pages.clone(), host.clone());
                async move {
                    if !schedule::is_feed(r, user_id, hash).await? {
                        return Ok(None);
                    }
                    let Some(user) = accounts::by_id(r, user_id).await? else {
                        return Ok(None);
                    };
                    let events: Vec<CalendarEvent> = if user.role == Role::Provider {
                        schedule::session_events(r, user.id, since)
                            .await?
                            .into_iter()
                            .map(|s| {
                                let url = format!("{pages}/services/{}", s.service_id);
                                session_event(s, &host, url)
                            })
                            .collect()
                    } else {
                        let bookings = schedule::booking_events(r, user.id, since).await?;
                        let mut service_ids: Vec<Uuid> =
                            bookings.iter().map(|b| b.service_id).collect();
                        service_ids.sort_unstable();
                        service_ids.dedup();
                        let described: HashMap<Uuid, String> = services::by_ids(r, &service_ids)
                            .await?
                            .into_iter()
                            .map(|s| (s.id, s.description))
                            .collect();
                        bookings
                            .iter()
                            .map(|b| {
                                let description =
                                    described.get(&b.service_id).map_or("", String::as_str);
                                let url = format!("{pages}/bookings/{}", b.id);
                                CalendarEvent::of_booking(b, description, &host, Some(url))
                            })
                            .collect()
                    };
                    Ok(Some(events))
                }
                .boxed()
            })
            .await?
            .ok_or(AppError::NotFound("calendar"))?;
        let body = render_feed("Kairos", &events);
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", &hex(&digest)[..32]);
        Ok(CalendarFeed { body, etag })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A feed row's information lines (JSON text as stored); unreadable text shows none.
fn lines(information: &str) -> Vec<String> {
    serde_json::from_str(information).unwrap_or_default()
}

fn session_event(s: SessionEvent, host: &str, url: String) -> CalendarEvent {
    CalendarEvent {
        uid: session_uid(s.id, host),
        summary: format!("{} ({}/{} booked)", s.service_name, s.booked, s.capacity),
        description: describe(
            &s.service_description,
            &lines(&s.additional_information),
            None,
            None,
        ),
        location: s.location,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        cancelled: s.status == "cancelled",
        sequence: s.sequence,
        last_modified: s.updated_at,
        url: Some(url),
    }
}
