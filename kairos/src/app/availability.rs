//! Working hours: a provider sets, reads or removes a service's rule, and the ordinary sessions
//! it makes follow in the same transaction; the housekeeping pass extends every rule's horizon.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use jiff::{ToSpan, civil, tz::TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller};
use crate::{
    domain::{
        availability::{Availability, DateException, HORIZON_DEFAULT, SESSIONS_MAX, WeeklyHours},
        refusal::Refusal,
        service::{Service, ServiceStatus},
        session::Session,
    },
    store::{
        StoreError,
        availability::{self, Slots, StoredRule},
    },
};

/// Working hours as a provider sends them; left-out fields take their defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AvailabilityInput {
    #[schema(max_items = 50)]
    pub weekly: Vec<WeeklyHours>,
    /// Default: the service's duration.
    #[schema(minimum = 5, maximum = 1440)]
    pub slot_minutes: Option<i64>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1440)]
    pub gap_minutes: Option<i64>,
    /// Default 28.
    #[schema(minimum = 1, maximum = 365)]
    pub horizon_days: Option<i64>,
    #[schema(max_items = 400)]
    pub exceptions: Option<Vec<DateException>>,
}

/// What a change of working hours did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityChange {
    /// The rule now in force (none after a removal).
    pub availability: Option<Availability>,
    pub sessions_created: u64,
    pub sessions_removed: u64,
    /// Sessions that no longer fit but hold live bookings, so they stay.
    pub kept: Vec<Session>,
}

/// The rule's sessions from `first` (today in the service's zone, if not given) to the end of
/// its horizon.
fn slots_of(
    rule: &Availability,
    time_zone: &str,
    capacity: i64,
    location: &str,
    now: DateTime<Utc>,
    first: Option<civil::Date>,
) -> Result<Slots, AppError> {
    let zone = TimeZone::get(time_zone).map_err(AppError::internal)?;
    let today = jiff::Timestamp::from_microsecond(now.timestamp_micros())
        .map_err(AppError::internal)?
        .to_zoned(zone.clone())
        .date();
    let last = today
        .checked_add((rule.horizon_days - 1).days())
        .map_err(AppError::internal)?;
    let times = match first.unwrap_or(today) {
        first if first <= last => rule.slots(&zone, first, last),
        _ => Vec::new(),
    };
    Ok(Slots {
        times,
        capacity,
        location: location.to_owned(),
        until: last.to_string(),
    })
}

impl App {
    /// Sets the service's working hours: the sessions of the new rule that do not exist yet are
    /// made, and future sessions of the old one that no longer fit go (unless they hold live
    /// bookings: those stay, listed as `kept`). Putting the same rule twice makes nothing new.
    pub async fn put_availability(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
        input: AvailabilityInput,
    ) -> Result<AvailabilityChange, AppError> {
        let service = self.rule_service(caller, user_id, service_id).await?;
        let rule = Availability {
            weekly: input.weekly,
            slot_minutes: input.slot_minutes.unwrap_or(service.duration_minutes),
            gap_minutes: input.gap_minutes.unwrap_or(0),
            horizon_days: input.horizon_days.unwrap_or(HORIZON_DEFAULT),
            exceptions: input.exceptions.unwrap_or_default(),
        }
        .checked()
        .map_err(AppError::Validation)?;
        let too_many = || {
            AppError::field(
                "weekly",
                format!("makes more than {SESSIONS_MAX} sessions; use longer slots or fewer days"),
            )
        };
        if rule.most_sessions() > SESSIONS_MAX * 2 {
            return Err(too_many());
        }
        let now = self.now();
        let slots = slots_of(
            &rule,
            &service.time_zone,
            service.capacity,
            &service.location,
            now,
            None,
        )?;
        if slots.times.len() > SESSIONS_MAX {
            return Err(too_many());
        }
        let stored = serde_json::to_string(&rule).map_err(AppError::internal)?;
        let generated = self
            .store
            .write(move |w| availability::put(w, service_id, stored, slots, now).boxed())
            .await?;
        Ok(AvailabilityChange {
            availability: Some(rule),
            sessions_created: generated.created,
            sessions_removed: generated.removed,
            kept: generated.kept,
        })
    }

    /// The service's working hours, if it has any.
    pub async fn availability(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
    ) -> Result<Availability, AppError> {
        self.own_service(caller, user_id, service_id).await?;
        let stored = self
            .store
            .read(move |r| availability::rule(r, service_id).boxed())
            .await?
            .ok_or(AppError::NotFound("availability"))?;
        parsed(&stored)
    }

    /// Removes the working hours, and the future sessions they made that hold no live booking.
    pub async fn remove_availability(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
    ) -> Result<AvailabilityChange, AppError> {
        self.own_service(caller, user_id, service_id).await?;
        let now = self.now();
        let generated = self
            .store
            .write(move |w| availability::remove(w, service_id, now).boxed())
            .await
            .map_err(AppError::or_missing("availability"))?;
        Ok(AvailabilityChange {
            availability: None,
            sessions_created: 0,
            sessions_removed: generated.removed,
            kept: generated.kept,
        })
    }

    /// Makes the sessions each rule reaches as days pass (the housekeeping pass). Safe on
    /// several instances at once: a start is made once. Answers how many it made.
    pub async fn extend_availability(&self) -> Result<u64, AppError> {
        let rules = self
            .store
            .read(|r| availability::live_rules(r).boxed())
            .await?;
        let now = self.now();
        let mut created = 0;
        for stored in rules {
            let rule = parsed(&stored)?;
            let after = stored
                .generated_until
                .parse::<civil::Date>()
                .ok()
                .and_then(|d| d.tomorrow().ok());
            let slots = slots_of(
                &rule,
                &stored.time_zone,
                stored.capacity,
                &stored.location,
                now,
                after,
            )?;
            if slots.times.is_empty() {
                continue;
            }
            let service_id = stored.service_id;
            created += self
                .store
                .write(move |w| availability::extend(w, service_id, slots, now).boxed())
                .await?;
        }
        Ok(created)
    }

    /// The path provider's own service, open to a rule (not archived).
    async fn rule_service(
        &self,
        caller: &Caller,
        user_id: Uuid,
        service_id: Uuid,
    ) -> Result<Service, AppError> {
        let service = self.own_service(caller, user_id, service_id).await?;
        if service.status == ServiceStatus::Archived {
            return Err(Refusal::ServiceArchived.into());
        }
        Ok(service)
    }
}

fn parsed(stored: &StoredRule) -> Result<Availability, AppError> {
    serde_json::from_str(&stored.rule)
        .map_err(|_| AppError::internal(StoreError::missing("a readable availability rule")))
}
