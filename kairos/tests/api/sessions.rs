//! A service's sessions: its defaults, weekly series in time zones and their limits, moving a
//! session, its capacity, cancelling it, and the public list of places left.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Class, TestApp, id_of, in_hours, on_both_backends, problem, session_path,
};

on_both_backends!(
    a_session_takes_the_services_defaults,
    a_weekly_series_keeps_local_time_across_dst,
    series_limits_are_checked,
    moving_a_session_moves_its_bookings,
    capacity_cannot_drop_below_the_places_booked,
    cancelling_a_session_cancels_its_pending_bookings,
    the_public_session_list_shows_places_left,
);

async fn a_session_takes_the_services_defaults(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(
            &provider,
            json!({ "durationMinutes": 45, "capacity": 7, "location": "Hall" }),
        )
        .await;
    let starts = in_hours(10);
    let sessions = app
        .add_sessions(
            &provider,
            &service,
            json!({ "startsAt": starts, "additionalInformation": ["Bring a mat"] }),
        )
        .await;
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    let ends: chrono::DateTime<chrono::Utc> = session["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(ends - starts, chrono::Duration::minutes(45));
    assert_eq!(
        (
            session["capacity"].as_i64(),
            session["location"].as_str(),
            session["spotsLeft"].as_i64()
        ),
        (Some(7), Some("Hall"), Some(7))
    );
    assert_eq!(session["additionalInformation"], json!(["Bring a mat"]));
    let own = app.add_sessions(&provider, &service, json!({ "startsAt": in_hours(12), "endsAt": in_hours(14), "capacity": 2, "location": "Park" })).await;
    assert_eq!(
        (own[0]["capacity"].as_i64(), own[0]["location"].as_str()),
        (Some(2), Some("Park"))
    );
    let bad = app
        .post(
            &format!(
                "/api/user/{}/services/{}/sessions",
                provider.id,
                id_of(&service)
            ),
            &provider.token,
            &json!({ "startsAt": in_hours(12), "endsAt": in_hours(11), "capacity": 0 }),
        )
        .await;
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

async fn a_weekly_series_keeps_local_time_across_dst(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(&provider, json!({ "timeZone": "Europe/Paris" }))
        .await;
    // Mondays at 09:00 in Paris from 15 March 2027; clocks go forward on Sunday 28 March.
    let sessions = app
        .add_sessions(
            &provider,
            &service,
            json!({
                "startsAt": "2027-03-15T09:00:00+01:00",
                "repeat": { "weekdays": ["monday"], "count": 3 }
            }),
        )
        .await;
    let starts: Vec<&str> = sessions
        .iter()
        .map(|s| s["startsAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-03-15T08:00:00Z",
            "2027-03-22T08:00:00Z",
            "2027-03-29T07:00:00Z"
        ]
    );
    let new_york = app
        .published_service(&provider, json!({ "timeZone": "America/New_York" }))
        .await;
    // Tuesdays and Thursdays at 18:30 until 11 November 2027; New York's clocks go back on
    // Sunday 7 November.
    let sessions = app
        .add_sessions(
            &provider,
            &new_york,
            json!({
                "startsAt": "2027-11-02T18:30:00-04:00",
                "repeat": { "weekdays": ["tuesday", "thursday"], "until": "2027-11-11" }
            }),
        )
        .await;
    let starts: Vec<&str> = sessions
        .iter()
        .map(|s| s["startsAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-11-02T22:30:00Z",
            "2027-11-04T22:30:00Z",
            "2027-11-09T23:30:00Z",
            "2027-11-11T23:30:00Z"
        ]
    );
    let stored = app
        .db
        .count(query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&new_york)))
        .await;
    assert_eq!(stored, 4);
}

async fn series_limits_are_checked(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    let path = format!(
        "/api/user/{}/services/{}/sessions",
        provider.id,
        id_of(&service)
    );
    for (repeat, field) in [
        (json!({ "weekdays": [], "count": 2 }), "repeat.weekdays"),
        (json!({ "weekdays": ["monday"] }), "repeat"),
        (
            json!({ "weekdays": ["monday"], "count": 2, "until": "2027-01-01" }),
            "repeat",
        ),
        (
            json!({ "weekdays": ["monday"], "count": 500 }),
            "repeat.count",
        ),
        (
            json!({ "weekdays": ["monday"], "until": "2030-01-01" }),
            "repeat.until",
        ),
    ] {
        let response = app
            .post(
                &path,
                &provider.token,
                &json!({ "startsAt": in_hours(24), "repeat": repeat }),
            )
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], field, "{repeat}");
    }
    let funday = app
        .post(
            &path,
            &provider.token,
            &json!({ "startsAt": in_hours(24), "repeat": { "weekdays": ["funday"], "count": 1 } }),
        )
        .await;
    problem(funday, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.db
            .count(
                query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&service))
            )
            .await,
        0
    );
}

async fn moving_a_session_moves_its_bookings(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let new_start = in_hours(30);
    let moved = app
        .patch(
            &session_path(&provider, &service, &session),
            &provider.token,
            &json!({ "startsAt": new_start }),
        )
        .await;
    let moved: Value = moved.ok_json(StatusCode::OK).await;
    let ends: chrono::DateTime<chrono::Utc> = moved["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        ends - new_start,
        chrono::Duration::hours(1),
        "the length is kept"
    );
    let seen: Value = app.booking_of(&ann, &booking).await;
    assert_eq!(seen["sessionDetails"]["time"]["start"], moved["startsAt"]);
    assert_eq!(seen["status"], "Pending");
}

async fn capacity_cannot_drop_below_the_places_booked(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    app.booked(&app.customer().await, &session).await;
    app.booked(&app.customer().await, &session).await;
    let path = session_path(&provider, &service, &session);
    let refused = app
        .patch(&path, &provider.token, &json!({ "capacity": 1 }))
        .await;
    assert_eq!(
        problem(refused, StatusCode::CONFLICT).await["code"],
        "capacity_below_booked"
    );
    assert_eq!(
        app.patch(&path, &provider.token, &json!({ "capacity": 2 }))
            .await
            .status(),
        StatusCode::OK
    );
    let (capacity,): (i64,) = app
        .db
        .one(query("SELECT capacity FROM sessions WHERE id = $1").bind(id_of(&session)))
        .await;
    assert_eq!(capacity, 2);
    assert_eq!(
        problem(
            app.book(&app.customer().await, &session).await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_full"
    );
}

async fn cancelling_a_session_cancels_its_pending_bookings(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({}), 24, 3).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let path = session_path(&provider, &service, &session);
    let response = app
        .delete(&format!("{path}?reason=Teacher%20ill"), &provider.token)
        .await;
    let body: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            body["cancelledBookings"].as_i64(),
            body["session"]["status"].as_str()
        ),
        (Some(1), Some("cancelled"))
    );
    let seen: Value = app.booking_of(&ann, &booking).await;
    assert_eq!(
        (
            seen["status"].as_str(),
            seen["cancellationReason"].as_str(),
            seen["cancelledBy"].as_str()
        ),
        (Some("Cancelled"), Some("Teacher ill"), Some("provider"))
    );
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    assert_eq!(
        problem(
            app.book(&app.customer().await, &session).await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_cancelled"
    );
    assert_eq!(
        problem(
            app.patch(&path, &provider.token, &json!({ "capacity": 5 }))
                .await,
            StatusCode::CONFLICT
        )
        .await["code"],
        "session_cancelled"
    );
    // An ended session cannot be cancelled.
    let past = app.session(&provider, &service, -3, 3).await;
    let ended = app
        .delete(&session_path(&provider, &service, &past), &provider.token)
        .await;
    assert_eq!(
        problem(ended, StatusCode::CONFLICT).await["code"],
        "session_ended"
    );
}

async fn the_public_session_list_shows_places_left(app: TestApp) {
    let Class {
        provider,
        service,
        session: first,
    } = app.class(json!({}), 24, 3).await;
    let second = app.session(&provider, &service, 48, 3).await;
    let cancelled = app.session(&provider, &service, 36, 3).await;
    app.delete(
        &session_path(&provider, &service, &cancelled),
        &provider.token,
    )
    .await;
    app.booked(&app.customer().await, &first).await;
    let path = format!("/api/services/{}/sessions", id_of(&service));
    let listed: Vec<Value> = app.anonymous().get_json(&path).await;
    let ids: Vec<&Value> = listed.iter().map(|s| &s["id"]).collect();
    assert_eq!(
        ids,
        [&first["id"], &second["id"]],
        "soonest first, cancelled ones left out"
    );
    assert_eq!(
        (
            listed[0]["booked"].as_i64(),
            listed[0]["spotsLeft"].as_i64()
        ),
        (Some(1), Some(2))
    );
    let page: reqwest::Response = app
        .request(reqwest::Method::GET, &format!("{path}?limit=1"))
        .send()
        .await
        .unwrap();
    let link = page.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let rest: Vec<Value> = app.anonymous().get_json(&next).await;
    assert_eq!(rest[0]["id"], second["id"]);
    let narrow = format!(
        "{path}?from={}&to={}",
        in_hours(40).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        in_hours(60).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let narrow: Vec<Value> = app.anonymous().get_json(&narrow).await;
    assert_eq!(narrow.len(), 1);
    let backwards = app
        .request(
            reqwest::Method::GET,
            &format!("{path}?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z"),
        )
        .send()
        .await
        .unwrap();
    problem(backwards, StatusCode::UNPROCESSABLE_ENTITY).await;
}
