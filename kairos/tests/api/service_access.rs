//! Who reaches a service and how it ends: its owner only, withdrawal, customers leaving it, and
//! the lists and details providers and customers see.

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, Class, TestApp, id_of, in_hours, on_both_backends, problem};

on_both_backends!(
    only_the_owner_reaches_a_service_and_customers_no_provider_route,
    withdrawing_a_service_deletes_it_or_archives_it_cancelling_bookings,
    a_customer_removes_themselves_from_a_service,
    service_lists_and_details_for_providers_and_customers,
);

async fn only_the_owner_reaches_a_service_and_customers_no_provider_route(app: TestApp) {
    let owner = app.user_with_role("provider").await;
    let other = app.user_with_role("provider").await;
    let customer = app.customer().await;
    let service = app.published_service(&owner, json!({})).await;
    let theirs = format!("/api/user/{}/services/{}", other.id, id_of(&service));
    problem(
        app.patch(&theirs, &other.token, &json!({ "name": "mine" }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(
            &format!("{theirs}/sessions"),
            &other.token,
            &json!({ "startsAt": in_hours(5) }),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete(&theirs, &other.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for path in [format!("/api/user/{}/services/create", customer.id)] {
        problem(app.get(&path, &customer.token).await, StatusCode::FORBIDDEN).await;
    }
    let publish = app
        .post(
            &format!("/api/user/{}/services/create/publish", customer.id),
            &customer.token,
            &json!({ "name": "x" }),
        )
        .await;
    problem(publish, StatusCode::FORBIDDEN).await;
    let sessions = app
        .post(
            &format!(
                "/api/user/{}/services/{}/sessions",
                customer.id,
                id_of(&service)
            ),
            &customer.token,
            &json!({ "startsAt": in_hours(5) }),
        )
        .await;
    problem(sessions, StatusCode::FORBIDDEN).await;
    // Another user's path is 403 whatever the object.
    let owners = format!("/api/user/{}/services/{}", owner.id, id_of(&service));
    problem(
        app.patch(&owners, &other.token, &json!({ "name": "mine" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // An admin acts for the owner.
    let admin = app.admin().await;
    assert_eq!(
        app.patch(&owners, &admin.token, &json!({ "name": "Fixed by admin" }))
            .await
            .status(),
        StatusCode::OK
    );
    let (name,): (String,) = app
        .db
        .one(query("SELECT name FROM services WHERE id = $1").bind(id_of(&service)))
        .await;
    assert_eq!(name, "Fixed by admin");
}

async fn withdrawing_a_service_deletes_it_or_archives_it_cancelling_bookings(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let unused = app.published_service(&provider, json!({})).await;
    app.session(&provider, &unused, 24, 3).await;
    let deleted = app
        .delete(
            &format!("/api/user/{}/services/{}", provider.id, id_of(&unused)),
            &provider.token,
        )
        .await;
    let deleted: Value = deleted.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            deleted["result"].as_str(),
            deleted["cancelledBookings"].as_i64()
        ),
        (Some("deleted"), Some(0))
    );
    assert_eq!(
        app.db
            .count(query("SELECT COUNT(*) FROM services WHERE id = $1").bind(id_of(&unused)))
            .await,
        0
    );
    assert_eq!(
        app.db
            .count(
                query("SELECT COUNT(*) FROM sessions WHERE service_id = $1").bind(id_of(&unused))
            )
            .await,
        0
    );

    let used = app.published_service(&provider, json!({})).await;
    let session = app.session(&provider, &used, 24, 3).await;
    let ann = app.customer().await;
    let bob = app.customer().await;
    let ann_booking = app.booked(&ann, &session).await;
    let bob_booking = app.booked(&bob, &session).await;
    app.post(
        &format!(
            "/api/user/{}/bookings/{}/cancel",
            bob.id,
            id_of(&bob_booking)
        ),
        &bob.token,
        &json!({}),
    )
    .await;
    let response = app
        .post(
            &format!(
                "/api/user/{}/services/{}/delete?reason=Studio%20closed",
                provider.id,
                id_of(&used)
            ),
            &provider.token,
            &json!({}),
        )
        .await;
    let archived: Value = response.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            archived["result"].as_str(),
            archived["cancelledBookings"].as_i64()
        ),
        (Some("archived"), Some(1))
    );
    let booking: Value = app.booking_of(&ann, &ann_booking).await;
    assert_eq!(
        (
            booking["status"].as_str(),
            booking["cancellationReason"].as_str(),
            booking["cancelledBy"].as_str()
        ),
        (Some("Cancelled"), Some("Studio closed"), Some("provider"))
    );
    let bob_after: Value = app.booking_of(&bob, &bob_booking).await;
    assert_eq!(
        bob_after["cancelledBy"], "customer",
        "an earlier cancellation stays as it was"
    );
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    let (status,): (String,) = app
        .db
        .one(query("SELECT status FROM services WHERE id = $1").bind(id_of(&used)))
        .await;
    assert_eq!(status, "archived");
    let catalogue: Vec<Value> = app.anonymous().get_json("/api/services").await;
    assert!(
        catalogue.iter().all(|s| s["id"] != used["id"]),
        "archived services are not in the catalogue"
    );
    let edit = app
        .patch(
            &format!("/api/user/{}/services/{}", provider.id, id_of(&used)),
            &provider.token,
            &json!({ "name": "x" }),
        )
        .await;
    assert_eq!(
        problem(edit, StatusCode::CONFLICT).await["code"],
        "service_archived"
    );
}

async fn a_customer_removes_themselves_from_a_service(app: TestApp) {
    let Class {
        provider,
        service,
        session: soon,
    } = app
        .class(json!({ "cancellationNoticeMinutes": 60 }), 24, 5)
        .await;
    let later = app.session(&provider, &service, 48, 5).await;
    let ann = app.customer().await;
    app.booked(&ann, &soon).await;
    app.booked(&ann, &later).await;
    let services: Vec<Value> = app
        .get(&format!("/api/user/{}/services", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(services.len(), 1, "booking subscribed her");
    assert_eq!(services[0]["id"], service["id"]);
    let removed = app
        .delete(
            &format!("/api/user/{}/services/{}", ann.id, id_of(&service)),
            &ann.token,
        )
        .await;
    let removed: Value = removed.ok_json(StatusCode::OK).await;
    assert_eq!(
        (
            removed["result"].as_str(),
            removed["cancelledBookings"].as_i64()
        ),
        (Some("unsubscribed"), Some(2))
    );
    assert_eq!(app.seats(id_of(&soon)).await, (0, 0));
    assert_eq!(app.seats(id_of(&later)).await, (0, 0));
    let services: Vec<Value> = app
        .get(&format!("/api/user/{}/services", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert!(services.is_empty());
    problem(
        app.delete(
            &format!("/api/user/{}/services/{}", ann.id, id_of(&service)),
            &ann.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Inside the cancellation notice the whole removal is refused and nothing changes.
    let soon = app.clock().now() + chrono::Duration::minutes(90);
    let close = app
        .add_sessions(
            &provider,
            &service,
            json!({ "startsAt": soon, "capacity": 5 }),
        )
        .await
        .remove(0);
    let bob = app.customer().await;
    app.booked(&bob, &close).await;
    app.booked(&bob, &later).await;
    // An hour on, the close session starts in half an hour.
    app.advance(chrono::Duration::hours(1));
    let bob = app.again(&bob).await;
    let refused = app
        .delete(
            &format!("/api/user/{}/services/{}", bob.id, id_of(&service)),
            &bob.token,
        )
        .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "cancellation_notice"
    );
    assert_eq!(app.seats(id_of(&later)).await, (1, 1));
}

async fn service_lists_and_details_for_providers_and_customers(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app.published_service(&provider, json!({})).await;
    app.post(
        &format!("/api/user/{}/services/create/save", provider.id),
        &provider.token,
        &json!({ "name": "Draft" }),
    )
    .await;
    let session = app.session(&provider, &service, 30, 4).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;

    let own: Vec<Value> = app
        .get(
            &format!("/api/user/{}/services", provider.id),
            &provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(own.len(), 2, "every status");
    let listed = own.iter().find(|s| s["id"] == service["id"]).unwrap();
    assert_eq!(
        listed["counts"],
        json!({ "upcomingSessions": 1, "pendingBookings": 1, "completedBookings": 0, "cancelledBookings": 0 })
    );

    let details: Value = app.service_of(&provider, &service).await;
    assert_eq!(details["upcomingSessions"][0]["booked"], 1);
    assert_eq!(details["counts"]["pendingBookings"], 1);
    let mine: Value = app.service_of(&ann, &service).await;
    assert_eq!(mine["subscribed"], true);
    assert_eq!(mine["bookings"][0]["id"], booking["id"]);
    assert!(mine.get("counts").is_none());
    // A customer sees a published service they have not booked, but not someone's draft.
    let bob = app.customer().await;
    let seen: Value = app.service_of(&bob, &service).await;
    assert_eq!(seen["subscribed"], false);
    let draft_id = own.iter().find(|s| s["status"] == "draft").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    problem(
        app.get(
            &format!("/api/user/{}/services/{draft_id}", bob.id),
            &bob.token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
