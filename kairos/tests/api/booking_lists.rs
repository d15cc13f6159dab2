//! Listing bookings: current and all, filtered and paged, for a customer and for the provider
//! whose services they are on.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    bookings::booking_path,
    helpers::{Answer, TestApp, on_both_backends},
};

on_both_backends!(
    current_and_all_bookings_are_listed_and_filtered,
    a_provider_sees_the_bookings_on_its_services,
);

async fn current_and_all_bookings_are_listed_and_filtered(app: TestApp) {
    let c = app.class(json!({}), 48, 5).await;
    let sooner = app.session(&c.provider, &c.service, 24, 5).await;
    let ann = app.customer().await;
    let later_booking = app.booked(&ann, &c.session).await;
    let sooner_booking = app.booked(&ann, &sooner).await;
    let cancelled_session = app.session(&c.provider, &c.service, 72, 5).await;
    let cancelled = app.booked(&ann, &cancelled_session).await;
    app.post(
        &format!("{}/cancel", booking_path(&ann, &cancelled)),
        &ann.token,
        &json!({}),
    )
    .await;

    let current: Vec<Value> = app
        .get(&format!("/api/user/{}/bookings", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = current.iter().map(|b| &b["id"]).collect();
    assert_eq!(
        ids,
        [&sooner_booking["id"], &later_booking["id"]],
        "pending only, soonest first"
    );

    let all: Vec<Value> = app
        .get(&format!("/api/user/{}/bookings/all", ann.id), &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = all.iter().map(|b| &b["id"]).collect();
    assert_eq!(
        ids,
        [
            &cancelled["id"],
            &later_booking["id"],
            &sooner_booking["id"]
        ],
        "everything, latest first"
    );
    let only_cancelled: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings/all?status=Cancelled", ann.id),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(only_cancelled.len(), 1);
    assert_eq!(only_cancelled[0]["id"], cancelled["id"]);
    let windowed: Vec<Value> = app
        .get(
            &format!(
                "/api/user/{}/bookings/all?from={}&to={}",
                ann.id,
                fmt(&c.session["startsAt"]),
                fmt(&cancelled_session["startsAt"])
            ),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(windowed.len(), 1);
    assert_eq!(windowed[0]["id"], later_booking["id"]);
    let elsewhere: Vec<Value> = app
        .get(
            &format!(
                "/api/user/{}/bookings/all?serviceId={}",
                ann.id,
                Uuid::now_v7()
            ),
            &ann.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert!(elsewhere.is_empty());
    let paged = app
        .get(
            &format!("/api/user/{}/bookings/all?limit=2", ann.id),
            &ann.token,
        )
        .await;
    let link = paged.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let rest: Vec<Value> = app
        .get(&next, &ann.token)
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["id"], sooner_booking["id"]);
    // Any cursor the documented pattern allows is a place, even where PostgreSQL cannot hold
    // the time it names: this list runs latest first, so nothing comes after the far past and
    // everything after the far future.
    let id = "0123456789abcdef0123456789abcdef";
    for (micros, expected) in [("-824180713532168707", 0), ("999999999999999999", 3)] {
        let response = app
            .get(
                &format!("/api/user/{}/bookings/all?cursor={micros}.{id}", ann.id),
                &ann.token,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "cursor at {micros}");
        let page: Vec<Value> = response.json().await.unwrap();
        assert_eq!(page.len(), expected, "cursor at {micros}");
    }
    for bad in ["status=Done", "limit=0", "cursor=nope", "from=yesterday"] {
        let response = app
            .get(
                &format!("/api/user/{}/bookings/all?{bad}", ann.id),
                &ann.token,
            )
            .await;
        assert!(
            matches!(
                response.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{bad}"
        );
    }
}

fn fmt(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

async fn a_provider_sees_the_bookings_on_its_services(app: TestApp) {
    let c = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &c.session).await;
    // The provider books someone else's class as a customer, too.
    let elsewhere = app.class(json!({}), 30, 5).await;
    let own_booking = app.booked(&c.provider, &elsewhere.session).await;
    let both: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    let ids: Vec<&Value> = both.iter().map(|b| &b["id"]).collect();
    assert_eq!(ids, [&booking["id"], &own_booking["id"]]);
    let as_provider: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings?as=provider", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(as_provider.len(), 1);
    assert_eq!(as_provider[0]["id"], booking["id"]);
    let as_customer: Vec<Value> = app
        .get(
            &format!("/api/user/{}/bookings?as=customer", c.provider.id),
            &c.provider.token,
        )
        .await
        .ok_json(StatusCode::OK)
        .await;
    assert_eq!(as_customer[0]["id"], own_booking["id"]);
    let details = app
        .get(&booking_path(&c.provider, &booking), &c.provider.token)
        .await;
    let details: Value = details.ok_json(StatusCode::OK).await;
    assert_eq!(details["service"]["id"], c.service["id"]);
    assert_eq!(details["provider"]["id"], c.provider.id.to_string());
    assert!(
        !details.to_string().contains(&ann.email),
        "the provider does not see the customer's address"
    );
}
