//! A login ended on one instance is refused by the very next request on any other: logout,
//! revoke and an admin's forced logout, against the read the benchmark measures (a page of
//! one's bookings, which checks the login in the same statement when there are bookings to
//! show, and the long way when there are none). On PostgreSQL two servers share the database,
//! as behind a load balancer; on SQLite one process serves the file, so the second "instance"
//! is the same server.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, Backend, Login, TestApp, id_of, on_both_backends};

on_both_backends!(a_login_ended_on_one_instance_is_refused_next_on_another);

async fn bookings_status(app: &TestApp, login: &Login) -> StatusCode {
    app.get(&format!("/api/user/{}/bookings", login.id), &login.token)
        .await
        .status()
}

async fn bad_query_status(app: &TestApp, login: &Login) -> StatusCode {
    let path = format!("/api/user/{}/bookings?limit=many", login.id);
    app.get(&path, &login.token).await.status()
}

/// The ids of the bookings a login's own list shows.
async fn listed(app: &TestApp, login: &Login) -> Vec<Uuid> {
    let list: Value = app
        .get(&format!("/api/user/{}/bookings", login.id), &login.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    list.as_array().unwrap().iter().map(id_of).collect()
}

async fn a_login_ended_on_one_instance_is_refused_next_on_another(app: TestApp) {
    let second = match app.backend {
        Backend::Postgres => Some(app.another_instance().await),
        Backend::Sqlite => None,
    };
    let other = second.as_ref().unwrap_or(&app);
    let (ann, bob, cara) = (
        app.customer().await,
        app.customer().await,
        app.customer().await,
    );
    let admin = app.admin().await;
    // Ann and Cara hold a booking each (their lists are read with the login check in the same
    // statement); Bob holds none (his is read the long way).
    let class = app.class(json!({ "name": "Yoga" }), 48, 5).await;
    for person in [&ann, &cara] {
        let booking = app.booked(person, &class.session).await;
        assert_eq!(listed(other, person).await, [id_of(&booking)]);
    }
    // Each has just been served by the other instance, so anything it keeps is warm.
    for person in [&ann, &bob, &cara] {
        assert_eq!(bookings_status(other, person).await, StatusCode::OK);
    }

    let logout = app.log_out(&ann.token).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(bookings_status(other, &ann).await, StatusCode::UNAUTHORIZED);
    // The ended login is refused before anything about the request is looked at.
    assert_eq!(
        bad_query_status(other, &ann).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bad_query_status(other, &cara).await,
        StatusCode::BAD_REQUEST
    );

    let revoke = app
        .post_anonymous("/api/revoke", &json!({ "token": bob.refresh_token }))
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_eq!(bookings_status(other, &bob).await, StatusCode::UNAUTHORIZED);

    let forced = app
        .post(
            &format!("/api/logout/{}", cara.id),
            &admin.token,
            &json!({}),
        )
        .await;
    assert_eq!(forced.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        bookings_status(other, &cara).await,
        StatusCode::UNAUTHORIZED
    );
}
