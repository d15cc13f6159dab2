//! Every page for every role: each answers its owner with a heading, and the pages' half of the
//! authorization matrix (own and others' objects, signed out and as each role).

use kairos::store::query;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Class, Login, TestApp, id_of, on_both_backends},
    page_client::{Browser, signed_in_as},
};

on_both_backends!(
    every_page_answers_its_owner_with_a_heading,
    every_page_by_every_role_on_own_and_others_objects,
);

async fn every_page_answers_its_owner_with_a_heading(app: TestApp) {
    let Class {
        provider,
        service,
        session,
    } = app.class(json!({ "name": "Yoga" }), 24, 5).await;
    let ann = app.customer().await;
    let booking = app.booked(&ann, &session).await;
    let admin = app.admin().await;
    let (sid, bid) = (id_of(&service), id_of(&booking));
    for (login, paths) in [
        (
            &ann,
            vec![
                format!("/user/{}", ann.id),
                format!("/user/{}/bookings", ann.id),
                format!("/user/{}/bookings/all", ann.id),
                format!("/user/{}/bookings/{bid}", ann.id),
                format!("/user/{}/services", ann.id),
                format!("/user/{}/services/{sid}", ann.id),
                format!("/user/{}/schedule", ann.id),
                "/services".to_owned(),
                format!("/services/{sid}"),
            ],
        ),
        (
            &provider,
            vec![
                format!("/user/{}", provider.id),
                format!("/user/{}/bookings", provider.id),
                format!("/user/{}/bookings/{bid}", provider.id),
                format!("/user/{}/services", provider.id),
                format!("/user/{}/services/create", provider.id),
                format!("/user/{}/services/{sid}", provider.id),
                format!("/user/{}/schedule", provider.id),
            ],
        ),
        (
            &admin,
            vec![
                format!("/user/{}", admin.id),
                format!("/user/{}/users", admin.id),
                format!("/user/{}/create", admin.id),
            ],
        ),
    ] {
        let mut browser = signed_in_as(&app, login).await;
        for path in paths {
            let page = browser.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.body.contains("<h1"), "{path} has a heading");
            assert!(
                page.body
                    .contains(&format!("Signed in as <strong>{}</strong>", login.email)),
                "{path}"
            );
        }
    }
}

/// The pages' half of the authorization matrix: every page and form, signed out and signed in as
/// each role, on paths that are and are not the visitor's. Refused forms change nothing.
async fn every_page_by_every_role_on_own_and_others_objects(app: TestApp) {
    let p = app.user_with_role("provider").await;
    let q = app.user_with_role("provider").await;
    let a = app.customer().await;
    let b = app.customer().await;
    let admin = app.admin().await;
    let service = app.published_service(&p, json!({ "name": "Yoga" })).await;
    let session = app.session(&p, &service, 24, 5).await;
    let booking = app.booked(&a, &session).await;
    let (sid, xid, bid) = (id_of(&service), id_of(&session), id_of(&booking));
    let (pid, aid, adid) = (p.id, a.id, admin.id);
    // (path, who may see it): everyone else signed in gets 403 or 404, signed-out visitors go
    // to the login page.
    let pages: Vec<(String, Vec<&Login>)> = vec![
        (format!("/user/{aid}"), vec![&a, &admin]),
        (format!("/user/{pid}"), vec![&p, &admin]),
        (format!("/user/{aid}/bookings"), vec![&a, &admin]),
        (format!("/user/{aid}/bookings/all"), vec![&a, &admin]),
        (format!("/user/{aid}/bookings/{bid}"), vec![&a, &admin]),
        (format!("/user/{pid}/bookings/{bid}"), vec![&p, &admin]),
        (format!("/user/{aid}/services"), vec![&a, &admin]),
        (format!("/user/{pid}/services"), vec![&p, &admin]),
        (format!("/user/{pid}/services/create"), vec![&p, &admin]),
        (format!("/user/{pid}/services/{sid}"), vec![&p, &admin]),
        (format!("/user/{aid}/schedule"), vec![&a, &admin]),
        (format!("/user/{pid}/schedule"), vec![&p, &admin]),
        (format!("/user/{adid}/users"), vec![&admin]),
        (format!("/user/{adid}/create"), vec![&admin]),
        (format!("/user/{aid}/users"), vec![]),
        (format!("/user/{aid}/create"), vec![]),
        (format!("/user/{adid}/outbox"), vec![&admin]),
        (format!("/user/{aid}/outbox"), vec![]),
    ];
    // Forms that change something, posted by those who may not.
    let service_form = |name: &'static str| {
        vec![
            ("name", name),
            ("description", ""),
            ("duration_minutes", "60"),
            ("capacity", "5"),
            ("location", ""),
            ("time_zone", "UTC"),
            ("booking_notice_minutes", "0"),
            ("cancellation_notice_minutes", "0"),
        ]
    };
    let xid_text = xid.to_string();
    let new_admin = vec![
        ("email", "made@example.org"),
        ("password", "a fine long passphrase"),
        ("role", "admin"),
    ];
    #[rustfmt::skip]
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("/user/{aid}/bookings/{bid}/cancel"), vec![]),
        (format!("/user/{aid}/bookings/{bid}/update"), vec![("notes", "hi")]),
        (format!("/user/{pid}/bookings/{bid}/update"), vec![("status", "Completed")]),
        (format!("/user/{pid}/services/{sid}/delete"), vec![]),
        (format!("/user/{pid}/services/{sid}/update"), service_form("Taken")),
        (format!("/user/{pid}/services/{sid}/sessions/{xid}/cancel"), vec![]),
        (format!("/user/{pid}/services/create/publish"), service_form("New")),
        (format!("/user/{aid}/book"), vec![("session_id", &xid_text)]),
        (format!("/user/{adid}/create"), new_admin),
        (format!("/user/{adid}/users/{aid}"), vec![("role", "admin")]),
        (format!("/logout/{aid}"), vec![]),
        (format!("/user/{aid}/notifications"), vec![]),
        (format!("/user/{adid}/outbox/{bid}/retry"), vec![]),
    ];
    let mut cells = 0;
    let mut anonymous = Browser::new(&app);
    for (path, _) in &pages {
        let page = anonymous.get(path).await;
        cells += 1;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "signed out {path}");
        assert!(page.location.unwrap().starts_with("/login"), "{path}");
    }
    for (path, fields) in &forms {
        let page = anonymous.post(path, fields).await;
        cells += 1;
        assert!(
            matches!(page.status, StatusCode::SEE_OTHER | StatusCode::FORBIDDEN),
            "signed out POST {path}: {}",
            page.status
        );
        if page.status == StatusCode::SEE_OTHER {
            assert!(page.location.unwrap().starts_with("/login"), "{path}");
        }
    }
    for visitor in [&a, &b, &p, &q, &admin] {
        let mut browser = signed_in_as(&app, visitor).await;
        for (path, allowed) in &pages {
            let page = browser.get(path).await;
            cells += 1;
            assert!(!page.body.contains("$argon2"), "{path}: a password hash");
            if visitor.id != admin.id {
                for other in [&a, &b, &p, &q, &admin] {
                    assert!(
                        other.id == visitor.id || !page.body.contains(&other.email),
                        "{} {path}: {}'s e-mail address",
                        visitor.email,
                        other.email
                    );
                }
            }
            if allowed.iter().any(|l| l.id == visitor.id) {
                assert_eq!(page.status, StatusCode::OK, "{} {path}", visitor.email);
            } else {
                assert!(
                    matches!(page.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{} {path}: {}",
                    visitor.email,
                    page.status
                );
            }
        }
        // A page of the visitor's own first, so the forms carry a valid CSRF token.
        browser.get(&format!("/user/{}", visitor.id)).await;
        for (path, fields) in &forms {
            let owner = path.starts_with(&format!("/user/{}/", visitor.id));
            if owner || visitor.id == admin.id {
                continue;
            }
            let page = browser.post(path, fields).await;
            cells += 1;
            assert!(
                matches!(page.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{} POST {path}: {}",
                visitor.email,
                page.status
            );
        }
    }
    println!("pages authorization matrix: {cells} cells");
    assert!(cells > 100, "{cells} cells");
    // The refused forms changed nothing.
    let (status, notes): (String, Option<String>) = app
        .db
        .one(query("SELECT status, notes FROM bookings WHERE id = $1").bind(bid))
        .await;
    assert_eq!((status.as_str(), notes), ("Pending", None));
    let (service_status, name): (String, String) = app
        .db
        .one(query("SELECT status, name FROM services WHERE id = $1").bind(sid))
        .await;
    assert_eq!(
        (service_status.as_str(), name.as_str()),
        ("published", "Yoga")
    );
    let (session_status,): (String,) = app
        .db
        .one(query("SELECT status FROM sessions WHERE id = $1").bind(xid))
        .await;
    assert_eq!(session_status, "scheduled");
    let (role,): (String,) = app
        .db
        .one(query("SELECT role FROM users WHERE id = $1").bind(aid))
        .await;
    assert_eq!(role, "customer");
    let users = app.db.count(query("SELECT COUNT(*) FROM users")).await;
    assert_eq!(users, 5);
    let live = app
        .db
        .count(
            query("SELECT COUNT(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(aid),
        )
        .await;
    assert!(live >= 1, "nobody but an admin logged Ann out");
}
