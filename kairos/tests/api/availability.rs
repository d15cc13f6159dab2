//! Working hours through the API: the sessions a rule makes in four time zones across their
//! next DST nights (checked against `jiff`), exceptions and gaps, a rule changed under
//! bookings, removal, and the horizon moved by the clock with two instances extending at once.

use std::collections::HashSet;

use chrono::{DateTime, Duration as Span, Utc};
use jiff::{
    civil,
    tz::{AmbiguousOffset, TimeZone},
};
use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, Backend, Login, TestApp, id_of, on_both_backends};

on_both_backends!(
    sessions_follow_local_time_across_the_next_dst_nights,
    the_same_rule_twice_makes_nothing_and_a_change_keeps_booked_sessions,
    exceptions_gaps_and_a_window_shorter_than_a_slot,
    the_horizon_moves_with_the_clock_and_two_instances_extend_once,
);

fn path(provider: &Login, service: &Value) -> String {
    format!(
        "/api/user/{}/services/{}/availability",
        provider.id,
        id_of(service)
    )
}

async fn put(app: &TestApp, provider: &Login, service: &Value, rule: Value) -> Value {
    app.as_user(provider)
        .put(&path(provider, service), &rule)
        .await
        .ok_json(StatusCode::OK)
        .await
}

/// The starts of the service's scheduled sessions, soonest first.
async fn starts(app: &TestApp, service: &Value) -> Vec<DateTime<Utc>> {
    let rows: Vec<(DateTime<Utc>,)> = app
        .db
        .all(
            query(
                "SELECT starts_at FROM sessions WHERE service_id = $1 AND status = 'scheduled' \
                 ORDER BY starts_at",
            )
            .bind(id_of(service)),
        )
        .await;
    rows.into_iter().map(|(at,)| at).collect()
}

const EVERY_DAY: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What a person expects on a local date: a slot every 30 minutes from 01:00 to 03:30, each
/// at its instant; a time the zone skips has none, a time it repeats has the first.
fn expected(zone: &TimeZone, date: civil::Date) -> Vec<DateTime<Utc>> {
    let mut expected = Vec::new();
    for (hour, minute) in [(1, 0), (1, 30), (2, 0), (2, 30), (3, 0), (3, 30)] {
        let local = date.at(hour, minute, 0, 0);
        let ambiguous = zone.to_ambiguous_zoned(local);
        if matches!(ambiguous.offset(), AmbiguousOffset::Gap { .. }) {
            continue;
        }
        let zoned = ambiguous.earlier().expect("a fold's first instant");
        expected.push(DateTime::from_timestamp_micros(zoned.timestamp().as_microsecond()).unwrap());
    }
    expected
}

async fn sessions_follow_local_time_across_the_next_dst_nights(app: TestApp) {
    let provider = app.provider().await;
    for name in [
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
    ] {
        let service = app
            .published_service(
                &provider,
                json!({ "name": format!("Night class, {name}"), "timeZone": name }),
            )
            .await;
        let made = put(
            &app,
            &provider,
            &service,
            json!({
                "weekly": [{ "weekdays": EVERY_DAY, "from": "01:00", "to": "04:00" }],
                "slotMinutes": 30,
                "horizonDays": 365,
            }),
        )
        .await;
        let zone = TimeZone::get(name).unwrap();
        let now = jiff::Timestamp::from_microsecond(app.clock().now().timestamp_micros()).unwrap();
        // The dates to look at: the next two transitions' (none for Kolkata), and tomorrow.
        let mut dates: Vec<civil::Date> = zone
            .following(now)
            .take(2)
            .map(|t| t.timestamp().to_zoned(zone.clone()).date())
            .collect();
        dates.push(now.to_zoned(zone.clone()).date().tomorrow().unwrap());
        let made_starts = starts(&app, &service).await;
        assert_eq!(made["sessionsCreated"], json!(made_starts.len()), "{name}");
        for date in dates {
            let day: Vec<DateTime<Utc>> = made_starts
                .iter()
                .copied()
                .filter(|at| {
                    let local = jiff::Timestamp::from_microsecond(at.timestamp_micros())
                        .unwrap()
                        .to_zoned(zone.clone());
                    local.date() == date
                })
                .collect();
            assert_eq!(day, expected(&zone, date), "{name} on {date}");
        }
    }
}

async fn the_same_rule_twice_makes_nothing_and_a_change_keeps_booked_sessions(app: TestApp) {
    let provider = app.provider().await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Tutoring", "durationMinutes": 60, "timeZone": "Europe/Paris" }),
        )
        .await;
    let rule = json!({
        "weekly": [{ "weekdays": EVERY_DAY, "from": "09:00", "to": "12:00" }],
        "horizonDays": 14,
    });
    let first = put(&app, &provider, &service, rule.clone()).await;
    let made = starts(&app, &service).await.len();
    assert!(made >= 13 * 3, "{first}");
    assert_eq!(first["sessionsCreated"], json!(made));
    assert_eq!(
        first["availability"]["slotMinutes"], 60,
        "the service's duration"
    );
    let again = put(&app, &provider, &service, rule).await;
    assert_eq!(
        (
            again["sessionsCreated"].clone(),
            again["sessionsRemoved"].clone()
        ),
        (json!(0), json!(0))
    );
    assert_eq!(starts(&app, &service).await.len(), made, "nothing new");

    // A customer books the last slot of a day; the hours then shrink to 09:00-10:00.
    let sessions: Vec<Value> = app
        .anonymous()
        .get_json(&format!("/api/services/{}/sessions", id_of(&service)))
        .await;
    let eleven = sessions
        .iter()
        .find(|s| {
            s["startsAt"]
                .as_str()
                .is_some_and(|at| at.ends_with("T10:00:00Z") || at.ends_with("T11:00:00Z"))
        })
        .expect("an 11:00 Paris session")
        .clone();
    let ann = app.customer().await;
    let booking = app.booked(&ann, &eleven).await;
    let changed = put(
        &app,
        &provider,
        &service,
        json!({
            "weekly": [{ "weekdays": EVERY_DAY, "from": "09:00", "to": "10:00" }],
            "horizonDays": 14,
        }),
    )
    .await;
    let kept: Vec<Uuid> = changed["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(kept, [id_of(&eleven)]);
    assert_eq!(changed["sessionsCreated"], 0);
    let left = starts(&app, &service).await.len();
    assert_eq!(
        changed["sessionsRemoved"],
        json!(made - left),
        "every unbooked 10:00 and 11:00 went"
    );
    assert_eq!(app.booking_of(&ann, &booking).await["status"], "Pending");
    let read: Value = app
        .as_user(&provider)
        .get_json(&path(&provider, &service))
        .await;
    assert_eq!(read["weekly"][0]["to"], "10:00");

    let removed: Value = app
        .as_user(&provider)
        .delete(&path(&provider, &service))
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(removed["kept"].as_array().unwrap().len(), 1);
    assert_eq!(
        starts(&app, &service).await,
        [
            DateTime::parse_from_rfc3339(eleven["startsAt"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        ]
    );
    let gone = app.as_user(&provider).get(&path(&provider, &service)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // Someone else's service is not found, and a customer may not set hours at all.
    let other = app.provider().await;
    let refused = app
        .as_user(&other)
        .put(
            &format!(
                "/api/user/{}/services/{}/availability",
                other.id,
                id_of(&service)
            ),
            &json!({ "weekly": [] }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
}

async fn exceptions_gaps_and_a_window_shorter_than_a_slot(app: TestApp) {
    let provider = app.provider().await;
    let service = app
        .published_service(&provider, json!({ "name": "Clinic", "timeZone": "UTC" }))
        .await;
    let today = app.clock().now().date_naive();
    let closed = today + Span::days(2);
    let short = today + Span::days(3);
    let made = put(
        &app,
        &provider,
        &service,
        json!({
            "weekly": [{ "weekdays": EVERY_DAY, "from": "09:00", "to": "11:00" }],
            "slotMinutes": 45,
            "gapMinutes": 15,
            "horizonDays": 5,
            "exceptions": [
                { "date": closed, "closed": true },
                { "date": short, "from": "14:00", "to": "14:30" },
            ],
        }),
    )
    .await;
    let all = starts(&app, &service).await;
    assert_eq!(made["sessionsCreated"], json!(all.len()));
    let on = |date: chrono::NaiveDate| -> Vec<String> {
        all.iter()
            .filter(|at| at.date_naive() == date)
            .map(|at| at.format("%H:%M").to_string())
            .collect()
    };
    assert_eq!(
        on(today + Span::days(1)),
        ["09:00", "10:00"],
        "45 minutes, then 15 off"
    );
    assert!(on(closed).is_empty(), "closed");
    assert!(
        on(short).is_empty(),
        "a 30-minute window holds no 45-minute slot"
    );
    let bad = app
        .as_user(&provider)
        .put(
            &path(&provider, &service),
            &json!({ "weekly": [{ "weekdays": ["monday"], "from": "18:00", "to": "09:00" }] }),
        )
        .await;
    let problem = crate::helpers::problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "weekly[0]");
    assert_eq!(
        starts(&app, &service).await,
        all,
        "a refused rule changes nothing"
    );
}

async fn the_horizon_moves_with_the_clock_and_two_instances_extend_once(app: TestApp) {
    let provider = app.provider().await;
    let service = app
        .published_service(&provider, json!({ "name": "Studio", "timeZone": "UTC" }))
        .await;
    put(
        &app,
        &provider,
        &service,
        json!({
            "weekly": [{ "weekdays": EVERY_DAY, "from": "10:00", "to": "12:00" }],
            "slotMinutes": 60,
            "horizonDays": 7,
        }),
    )
    .await;
    let before = starts(&app, &service).await;
    let last_day = |at: &[DateTime<Utc>]| at.last().map(DateTime::date_naive);
    let first_last = last_day(&before).unwrap();

    app.advance(Span::days(3));
    // Two instances on PostgreSQL; on SQLite (one process per file) two passes at once.
    let other = match app.backend {
        Backend::Postgres => Some(app.another_instance().await),
        Backend::Sqlite => None,
    };
    if let Some(other) = &other {
        other.advance(app.clock().now() - other.clock().now());
    }
    let second = other.as_ref().map_or(&app.app, |o| &o.app);
    let (one, two) = tokio::join!(app.app.housekeeping(), second.housekeeping());
    one.unwrap();
    two.unwrap();
    let after = starts(&app, &service).await;
    let distinct: HashSet<_> = after.iter().collect();
    assert_eq!(distinct.len(), after.len(), "no start made twice");
    assert_eq!(last_day(&after), Some(first_last + Span::days(3)));
    assert_eq!(
        after.len(),
        before.len() + 3 * 2,
        "two slots for each of three new days"
    );
}
