//! The rules, below HTTP: use cases on a real SQLite file with a stopped clock that the tests
//! move, so "later" is a call away and nothing sleeps. (What HTTP adds is tested over HTTP in
//! `tests/api`.)

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    AllBookings, App, AppError, BookRequest, Caller, Clock, NewSessions, PageRequest, ServiceDraft,
    Unauthenticated, passwords::PasswordHasher, tokens::TokenKeys,
};
use crate::{
    domain::{
        booking::{Booking, BookingStatus, CancelledBy},
        refusal::Refusal,
        service::ServiceStatus,
        user::Role,
    },
    store::{Location, Store},
};

const PASSWORD: &str = "a long enough passphrase";

struct World {
    app: App,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&Location::Sqlite(dir.path().join("kairos.db")), 2)
        .await
        .expect("store");
    let start: DateTime<Utc> = "2026-11-30T08:00:00Z".parse().expect("time");
    let app = App::new(
        store,
        Clock::stopped_at(start),
        PasswordHasher::new(1).await.expect("hasher"),
        TokenKeys::new(&[7; 32]),
        "http://kairos.test",
    );
    World { app, _dir: dir }
}

impl World {
    async fn signed_in(&self, role: Role) -> Caller {
        let email = format!("{}@example.org", Uuid::now_v7().simple());
        self.app
            .register(&email, PASSWORD.into(), role)
            .await
            .expect("register");
        let (_, issued) = self
            .app
            .log_in(&email, PASSWORD.into())
            .await
            .expect("log in");
        self.app
            .authenticate(&issued.access_token)
            .await
            .expect("authenticate")
    }

    /// A published service of `provider` with one session `hours` from now.
    async fn session(&self, provider: &Caller, hours: i64, notice_minutes: i64) -> Uuid {
        let draft = ServiceDraft {
            name: Some("Yoga".into()),
            booking_notice_minutes: Some(notice_minutes),
            cancellation_notice_minutes: Some(notice_minutes),
            ..ServiceDraft::default()
        };
        let (service, _) = self
            .app
            .save_service(provider, provider.id(), draft, ServiceStatus::Published)
            .await
            .expect("publish");
        let new = NewSessions {
            starts_at: self.app.now() + Duration::hours(hours),
            ends_at: None,
            capacity: Some(2),
            location: None,
            additional_information: None,
            repeat: None,
        };
        let sessions = self
            .app
            .add_sessions(provider, provider.id(), service.id, new)
            .await
            .expect("sessions");
        sessions[0].id
    }

    /// The same person logged in again (after the clock moved past their access token).
    async fn again(&self, caller: &Caller) -> Caller {
        let (_, issued) = self
            .app
            .log_in(&caller.user.email, PASSWORD.into())
            .await
            .expect("log in");
        self.app
            .authenticate(&issued.access_token)
            .await
            .expect("authenticate")
    }

    async fn book(&self, customer: &Caller, session_id: Uuid) -> Result<Booking, AppError> {
        let request = BookRequest {
            session_id,
            notes: None,
        };
        let booked = self
            .app
            .book(customer, customer.id(), request, None)
            .await?;
        Ok(booked.booking)
    }
}

/// A world with a provider, a customer (Ann), and a session of the provider's `hours` ahead
/// whose booking and cancellation notices are `notice_minutes`.
async fn story(hours: i64, notice_minutes: i64) -> (World, Caller, Caller, Uuid) {
    let w = world().await;
    let provider = w.signed_in(Role::Provider).await;
    let ann = w.signed_in(Role::Customer).await;
    let session = w.session(&provider, hours, notice_minutes).await;
    (w, provider, ann, session)
}

fn refused(result: Result<impl std::fmt::Debug, AppError>) -> Refusal {
    match result {
        Err(AppError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_booking_notice_and_the_start_are_read_on_the_clock() {
    let (w, _provider, ann, session) = story(5, 180).await;
    w.app
        .clock()
        .advance(Duration::hours(2) + Duration::minutes(1));
    assert!(matches!(
        refused(w.book(&ann, session).await),
        Refusal::BookingNotice { minutes: 180 }
    ));
    w.app.clock().advance(Duration::hours(3));
    assert_eq!(
        refused(w.book(&ann, session).await),
        Refusal::SessionStarted
    );
}

#[tokio::test]
async fn customers_keep_the_cancellation_notice_and_providers_do_not() {
    let (w, provider, ann, session) = story(48, 24 * 60).await;
    let booking = w.book(&ann, session).await.expect("book");
    w.app.clock().advance(Duration::hours(30));
    let by_ann = w.app.cancel_booking(&ann, ann.id(), booking.id, None).await;
    assert!(matches!(
        refused(by_ann),
        Refusal::CancellationNotice { minutes: 1440 }
    ));
    let by_provider = w
        .app
        .cancel_booking(&provider, provider.id(), booking.id, Some(" Ill ".into()))
        .await
        .expect("the provider cancels");
    assert_eq!(by_provider.status, BookingStatus::Cancelled);
    assert_eq!(by_provider.cancelled_by, Some(CancelledBy::Provider));
    assert_eq!(by_provider.cancellation_reason.as_deref(), Some("Ill"));
}

#[tokio::test]
async fn housekeeping_completes_a_booking_once_its_session_has_ended() {
    let (w, _provider, ann, session) = story(24, 0).await;
    let booking = w.book(&ann, session).await.expect("book");
    assert_eq!(w.app.housekeeping().await.expect("sweep"), 0, "not yet");
    w.app.clock().advance(Duration::hours(25));
    assert_eq!(w.app.housekeeping().await.expect("sweep"), 1);
    assert_eq!(w.app.housekeeping().await.expect("sweep"), 0, "once");
    let ann = w.again(&ann).await;
    let all = w
        .app
        .all_bookings(
            &ann,
            ann.id(),
            AllBookings::default(),
            &PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(all.items.len(), 1);
    assert_eq!(all.items[0].id, booking.id);
    assert_eq!(all.items[0].status, BookingStatus::Completed);
}

#[tokio::test]
async fn an_access_token_expires_on_the_clock_and_a_refresh_token_after_sixty_days() {
    let w = world().await;
    let email = "ann@example.org";
    w.app
        .sign_up(email, PASSWORD.into())
        .await
        .expect("sign up");
    let (_, issued) = w.app.log_in(email, PASSWORD.into()).await.expect("log in");
    assert!(w.app.authenticate(&issued.access_token).await.is_ok());
    w.app.clock().advance(Duration::minutes(61));
    assert!(matches!(
        w.app.authenticate(&issued.access_token).await,
        Err(AppError::Unauthenticated(Unauthenticated::InvalidToken))
    ));
    let refreshed = w.app.refresh(&issued.refresh_token).await.expect("refresh");
    assert!(w.app.authenticate(&refreshed.access_token).await.is_ok());
    w.app.clock().advance(Duration::days(60));
    assert!(matches!(
        w.app.refresh(&refreshed.refresh_token).await,
        Err(AppError::Unauthenticated(
            Unauthenticated::InvalidRefreshToken
        ))
    ));
}

#[tokio::test]
async fn five_failed_logins_wait_out_the_window_on_the_clock() {
    let w = world().await;
    let email = "bob@example.org";
    w.app
        .sign_up(email, PASSWORD.into())
        .await
        .expect("sign up");
    for _ in 0..5 {
        let wrong = w.app.log_in(email, "not the password".into()).await;
        assert!(matches!(
            wrong,
            Err(AppError::Unauthenticated(
                Unauthenticated::InvalidCredentials
            ))
        ));
    }
    let throttled = w.app.log_in(email, PASSWORD.into()).await;
    assert!(matches!(throttled, Err(AppError::Throttled { .. })));
    w.app.clock().advance(Duration::minutes(15));
    assert!(w.app.log_in(email, PASSWORD.into()).await.is_ok());
}

#[tokio::test]
async fn an_idempotent_retry_gets_the_first_booking_and_books_once() {
    let (w, _provider, ann, session) = story(24, 0).await;
    let request = || BookRequest {
        session_id: session,
        notes: Some("first".into()),
    };
    let key = Some("order-1".to_owned());
    let first = w
        .app
        .book(&ann, ann.id(), request(), key.clone())
        .await
        .expect("book");
    w.app.clock().advance(Duration::minutes(5));
    let again = w
        .app
        .book(&ann, ann.id(), request(), key.clone())
        .await
        .expect("retry");
    assert!(!first.replayed && again.replayed);
    assert_eq!(again.booking, first.booking);
    let other = BookRequest {
        notes: None,
        ..request()
    };
    assert_eq!(
        refused(w.app.book(&ann, ann.id(), other, key).await),
        Refusal::IdempotencyKeyReused
    );
}

#[tokio::test]
async fn notes_over_the_limit_are_refused_not_cut() {
    let (w, _provider, ann, session) = story(24, 0).await;
    let request = BookRequest {
        session_id: session,
        notes: Some("x".repeat(2001)),
    };
    match w.app.book(&ann, ann.id(), request, None).await {
        Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "notes"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn housekeeping_ends_the_lists_of_sessions_closed_for_booking() {
    let (w, _provider, ann, session) = story(3, 60).await;
    let bea = w.signed_in(Role::Customer).await;
    let cid = w.signed_in(Role::Customer).await;
    w.book(&ann, session).await.expect("book");
    w.book(&bea, session).await.expect("book");
    let request = super::JoinRequest {
        session_id: session,
    };
    let entry = w
        .app
        .join_waitlist(&cid, cid.id(), request)
        .await
        .expect("join");
    assert_eq!(entry.position, 1);
    let entries = || async {
        let count = || crate::store::query("SELECT COUNT(*) FROM waitlist_entries");
        let (n,): (i64,) = w
            .app
            .store
            .read(move |r| Box::pin(async move { crate::store::Read::fetch_one(r, count()).await }))
            .await
            .expect("count");
        n
    };
    w.app.housekeeping().await.expect("sweep");
    assert_eq!(entries().await, 1, "still open: the list stays");

    // Bookings close an hour before the start: the list is no longer shown, and the pass ends it.
    w.app.clock().advance(Duration::minutes(121));
    let cid = w.again(&cid).await;
    let shown = w
        .app
        .waitlist(&cid, cid.id(), &PageRequest::default())
        .await
        .expect("list");
    assert!(shown.items.is_empty());
    w.app.housekeeping().await.expect("sweep");
    assert_eq!(entries().await, 0, "ended");
    // The one still waiting is told why, with the place they had.
    let ended = || crate::store::query("SELECT data FROM events WHERE type = 'waitlist.ended'");
    let told: Vec<(String,)> = w
        .app
        .store
        .read(move |r| Box::pin(async move { crate::store::Read::fetch_all(r, ended()).await }))
        .await
        .expect("events");
    assert_eq!(told.len(), 1);
    let data: serde_json::Value = serde_json::from_str(&told[0].0).expect("JSON");
    assert_eq!(data["userId"], serde_json::json!(cid.id()));
    assert_eq!(data["sessionId"], serde_json::json!(session));
    assert_eq!(data["position"], 1);
    assert_eq!(data["reason"], "booking_closed");
}
