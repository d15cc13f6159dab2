//! Bookings: book a session (idempotently, if asked), cancel, move, edit notes, complete. (Lists
//! and a single booking's details: [`super::booking_lists`].)

use chrono::Duration;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, AppError, Caller, access::acting_as};
use crate::{
    domain::{
        booking::{Booking, BookingStatus, CancelledBy, checked_notes, checked_reason},
        event::{BookingSource, Event},
        id::new_id,
        refusal::Refusal,
        session::Session,
    },
    store::{
        booking_changes::{self, BookingChange},
        bookings::{self, NewBooking},
        events,
        idempotency::{self, Claim},
        sessions,
    },
};

/// Which side of a booking someone is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Bookings the user made.
    Customer,
    /// Bookings on the user's services.
    Provider,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BookRequest {
    pub session_id: Uuid,
    /// For the provider (at most 2000 characters).
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// A booking made, or (for a retry with the same `Idempotency-Key`) the one made before.
#[derive(Debug)]
pub struct Booked {
    pub booking: Booking,
    pub replayed: bool,
}

/// A customer moves the booking (`sessionId`) and/or edits `notes`; the provider marks it
/// `status: "Completed"`. The document gives the two shapes as `oneOf`; the other side's
/// fields are refused (`provider_only`, `customer_only`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BookingUpdate {
    /// Customer: another session of the same service.
    pub session_id: Option<Uuid>,
    /// Customer: new notes (at most 2000 characters); an empty string clears them.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Provider: `Completed`.
    pub status: Option<BookingStatus>,
}

/// How far ahead a customer is offered sessions to move to.
const MOVE_DAYS: i64 = 60;
const MOVE_OPTIONS: u32 = 100;

impl App {
    /// Books a place for the path's user, who is then subscribed to the service. With an
    /// idempotency key, a retry with the same key and request within 24 hours gets the first
    /// booking again instead of a second one; refusals are not kept, so a retry is a new try.
    pub async fn book(
        &self,
        caller: &Caller,
        user_id: Uuid,
        request: BookRequest,
        idempotency_key: Option<String>,
    ) -> Result<Booked, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let notes = checked_notes(request.notes.clone())?;
        let (user_id, now) = (user.id, self.now());
        if let Some(key) = idempotency_key.clone() {
            let request_hash =
                Sha256::digest(serde_json::to_vec(&request).map_err(AppError::internal)?).to_vec();
            let claim = self
                .store
                .write(move |w| idempotency::claim(w, user_id, key, request_hash, now).boxed())
                .await?;
            match claim {
                Claim::Claimed => {}
                Claim::Replay(booking) => {
                    return Ok(Booked {
                        booking: *booking,
                        replayed: true,
                    });
                }
                Claim::InFlight => return Err(Refusal::IdempotencyKeyInUse.into()),
                Claim::Mismatch => return Err(Refusal::IdempotencyKeyReused.into()),
            }
        }
        let new = NewBooking {
            id: new_id(),
            user_id,
            session_id: request.session_id,
            notes,
            now,
        };
        let key = idempotency_key.clone();
        let booked = self
            .store
            .write(move |w| {
                async move {
                    let booking = bookings::book(w, new).await?;
                    let created = Event::booking_created(&booking, BookingSource::Customer, now);
                    events::record(w, created);
                    if let Some(key) = key {
                        idempotency::record(w, user_id, key, &booking, now).await?;
                    }
                    Ok(booking)
                }
                .boxed()
            })
            .await;
        match booked {
            Ok(booking) => Ok(Booked {
                booking,
                replayed: false,
            }),
            Err(err) => {
                if let Some(key) = idempotency_key {
                    // Let a retry try again; if even this fails, the claim lapses in a minute.
                    let _ = self
                        .store
                        .write(move |w| idempotency::release(w, user_id, key).boxed())
                        .await;
                }
                Err(AppError::or_missing("session")(err))
            }
        }
    }

    /// The sessions a customer may move a pending booking to: the service's others with room,
    /// soonest first. None for a provider or a booking that is over.
    pub async fn move_options(
        &self,
        caller: &Caller,
        user_id: Uuid,
        booking_id: Uuid,
    ) -> Result<Vec<Session>, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (booking, side) = self.visible_booking(&user, booking_id).await?;
        if side != Side::Customer || booking.status != BookingStatus::Pending {
            return Ok(Vec::new());
        }
        let now = self.now();
        let window = (now, now + Duration::days(MOVE_DAYS));
        let service_id = booking.service_id;
        let sessions = self
            .store
            .read(move |r| {
                sessions::of_service(r, service_id, window, true, None, MOVE_OPTIONS).boxed()
            })
            .await?;
        Ok(sessions
            .into_iter()
            .filter(|s| s.id != booking.session_id && s.spots_left > 0)
            .collect())
    }

    /// Cancels a booking; its place is free again at once. Customers must respect the
    /// service's cancellation notice; the provider may cancel any pending booking. Cancelling a
    /// cancelled booking changes nothing.
    pub async fn cancel_booking(
        &self,
        caller: &Caller,
        user_id: Uuid,
        booking_id: Uuid,
        reason: Option<String>,
    ) -> Result<Booking, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (booking, side) = self.visible_booking(&user, booking_id).await?;
        let reason = checked_reason(reason)?;
        let by = acting_as(caller, &user, side);
        let (id, now) = (booking.id, self.now());
        let hold_to_notice = by == CancelledBy::Customer;
        self.store
            .write(move |w| {
                async move {
                    let cancel = bookings::cancel(w, id, by, reason, hold_to_notice, now).await?;
                    if cancel.changed {
                        events::record(w, Event::booking_cancelled(&cancel.value, now));
                    }
                    Ok(cancel.value)
                }
                .boxed()
            })
            .await
            .map_err(AppError::or_missing("booking"))
    }

    /// A customer moves the booking to another session of the same service (the new place is
    /// taken and the old one freed, or nothing changes) and/or edits its notes; a provider
    /// marks it Completed.
    pub async fn update_booking(
        &self,
        caller: &Caller,
        user_id: Uuid,
        booking_id: Uuid,
        update: BookingUpdate,
    ) -> Result<Booking, AppError> {
        let user = self.path_user(caller, user_id).await?;
        let (booking, side) = self.visible_booking(&user, booking_id).await?;
        let (id, now) = (booking.id, self.now());
        let updated = match side {
            Side::Customer => {
                if update.status.is_some() {
                    return Err(Refusal::ProviderOnly.into());
                }
                if update.session_id.is_none() && update.notes.is_none() {
                    return Err(AppError::field(
                        "body",
                        "give a `sessionId`, `notes`, or both",
                    ));
                }
                let notes = update.notes.map(|n| checked_notes(Some(n))).transpose()?;
                let change = BookingChange {
                    session_id: update.session_id,
                    notes,
                    hold_to_notice: acting_as(caller, &user, side) == CancelledBy::Customer,
                };
                self.store
                    .write(move |w| {
                        async move {
                            let changed = booking_changes::change(w, id, change, now).await?;
                            if let Some(before) = &changed.moved_from {
                                let time = &before.session_details.time;
                                let moved = Event::booking_moved(
                                    &changed.booking,
                                    before.session_id,
                                    time,
                                    now,
                                );
                                events::record(w, moved);
                            }
                            Ok(changed.booking)
                        }
                        .boxed()
                    })
                    .await
            }
            Side::Provider => {
                if update.session_id.is_some() || update.notes.is_some() {
                    return Err(Refusal::CustomerOnly.into());
                }
                if update.status != Some(BookingStatus::Completed) {
                    return Err(AppError::field(
                        "status",
                        "a provider can set it to Completed only; to cancel, use cancel",
                    ));
                }
                self.store
                    .write(move |w| {
                        async move {
                            let complete = booking_changes::complete(w, id, now).await?;
                            if complete.changed {
                                let completed = Event::booking_completed(&complete.value, now);
                                events::record(w, completed);
                            }
                            Ok(complete.value)
                        }
                        .boxed()
                    })
                    .await
            }
        };
        // Like booking an unknown session: the session named is not there.
        updated.map_err(AppError::or_missing("session"))
    }
}
