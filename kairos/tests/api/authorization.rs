//! The authorization matrix: every booking-core route, called by anonymous, two customers, the
//! owning provider, another provider and an admin, on paths and objects that are and are not
//! theirs. Nobody gets a 2xx they should not, and refused calls change nothing.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, id_of, in_hours, on_both_backends};

on_both_backends!(every_route_by_every_role_on_own_and_others_objects);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    CustomerA,
    CustomerB,
    ProviderP,
    ProviderQ,
    Admin,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::CustomerA,
    Who::CustomerB,
    Who::ProviderP,
    Who::ProviderQ,
    Who::Admin,
];

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Who may get a 2xx; everyone else must get 401, 403 or 404.
    allowed: Vec<Who>,
    /// Changes something: only the refused callers are tried (the allowed ones are tested
    /// route by route elsewhere), so the fixture stays as it was.
    destructive: bool,
}

fn case(method: Method, path: String, body: Option<Value>, allowed: &[Who]) -> Case {
    Case {
        method,
        path,
        body,
        allowed: allowed.to_vec(),
        destructive: false,
    }
}

fn destructive(method: Method, path: String, body: Option<Value>, allowed: &[Who]) -> Case {
    Case {
        destructive: true,
        ..case(method, path, body, allowed)
    }
}

async fn every_route_by_every_role_on_own_and_others_objects(app: TestApp) {
    use Who::*;
    let p = app.user_with_role("provider").await;
    let q = app.user_with_role("provider").await;
    let a = app.customer().await;
    let b = app.customer().await;
    let admin = app.admin().await;
    let s = app
        .published_service(&p, json!({ "name": "P's class" }))
        .await;
    let sq = app
        .published_service(&q, json!({ "name": "Q's class" }))
        .await;
    let x = app.session(&p, &s, 24, 50).await;
    let x2 = app.session(&p, &s, 48, 50).await;
    let ba = app.booked(&a, &x).await;
    let bb = app.booked(&b, &x).await;
    let (pid, qid, aid, bid, adminid) = (p.id, q.id, a.id, b.id, admin.id);
    let (sid, sqid, xid, baid, bbid) = (id_of(&s), id_of(&sq), id_of(&x), id_of(&ba), id_of(&bb));
    let notes = Some(json!({ "notes": "hello" }));
    let cases = vec![
        // The public catalogue.
        case(Method::GET, "/api/services".into(), None, &EVERYONE),
        case(Method::GET, format!("/api/services/{sid}"), None, &EVERYONE),
        case(
            Method::GET,
            format!("/api/services/{sid}/sessions"),
            None,
            &EVERYONE,
        ),
        // Home, lists, schedule: the path's user and admins.
        case(
            Method::GET,
            format!("/api/user/{aid}"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/bookings"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/bookings/all"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/bookings"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/services"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/services"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/schedule"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/schedule/{sid}"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/schedule/{sid}"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{qid}/schedule/{sid}"),
            None,
            &[],
        ),
        case(
            Method::POST,
            format!("/api/user/{aid}/schedule/feed"),
            None,
            &[CustomerA, Admin],
        ),
        // One booking: its customer and its provider, each on their own path.
        case(
            Method::GET,
            format!("/api/user/{aid}/bookings/{baid}"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/bookings/{baid}"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{bid}/bookings/{baid}"),
            None,
            &[],
        ),
        case(
            Method::GET,
            format!("/api/user/{qid}/bookings/{baid}"),
            None,
            &[],
        ),
        case(
            Method::PATCH,
            format!("/api/user/{aid}/bookings/{baid}"),
            notes.clone(),
            &[CustomerA, Admin],
        ),
        case(
            Method::POST,
            format!("/api/user/{aid}/bookings/{baid}/update"),
            notes.clone(),
            &[CustomerA, Admin],
        ),
        case(
            Method::PATCH,
            format!("/api/user/{bid}/bookings/{baid}"),
            notes.clone(),
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{aid}/bookings/{baid}/cancel"),
            None,
            &[CustomerA, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{bid}/bookings/{baid}/cancel"),
            None,
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{qid}/bookings/{baid}/cancel"),
            None,
            &[],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{aid}/bookings/{baid}"),
            None,
            &[CustomerA, Admin],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{pid}/bookings/{bbid}"),
            None,
            &[ProviderP, Admin],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{pid}/bookings/{baid}"),
            Some(json!({ "status": "Completed" })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{qid}/bookings/{baid}"),
            Some(json!({ "status": "Completed" })),
            &[],
        ),
        // Booking: for the path's user.
        destructive(
            Method::POST,
            format!("/api/user/{aid}/book"),
            Some(json!({ "sessionId": x2["id"] })),
            &[CustomerA, Admin],
        ),
        // A provider's services: the owner on its own path, and admins.
        case(
            Method::GET,
            format!("/api/user/{pid}/services/create"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/services/create"),
            None,
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{pid}/services/create/save"),
            Some(json!({ "name": "x" })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{aid}/services/create/save"),
            Some(json!({ "name": "x" })),
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{pid}/services/create/publish"),
            Some(json!({ "name": "x" })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{aid}/services/create/publish"),
            Some(json!({ "name": "x" })),
            &[],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/services/{sid}"),
            None,
            &[ProviderP, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{qid}/services/{sid}"),
            None,
            &[],
        ),
        case(
            Method::GET,
            format!("/api/user/{aid}/services/{sid}"),
            None,
            &[CustomerA, Admin],
        ),
        case(
            Method::GET,
            format!("/api/user/{pid}/services/{sqid}"),
            None,
            &[],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{pid}/services/{sid}"),
            Some(json!({ "name": "Taken" })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{qid}/services/{sid}"),
            Some(json!({ "name": "Taken" })),
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{pid}/services/{sid}/update"),
            Some(json!({ "name": "Taken" })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{qid}/services/{sid}/update"),
            Some(json!({ "name": "Taken" })),
            &[],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{pid}/services/{sid}"),
            None,
            &[ProviderP, Admin],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{qid}/services/{sid}"),
            None,
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{pid}/services/{sid}/delete"),
            None,
            &[ProviderP, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{qid}/services/{sid}/delete"),
            None,
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{bid}/services/{sqid}/delete"),
            None,
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{pid}/services/{sid}/sessions"),
            Some(json!({ "startsAt": in_hours(5) })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{qid}/services/{sid}/sessions"),
            Some(json!({ "startsAt": in_hours(5) })),
            &[],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{aid}/services/{sid}/sessions"),
            Some(json!({ "startsAt": in_hours(5) })),
            &[],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{pid}/services/{sid}/sessions/{xid}"),
            Some(json!({ "capacity": 1 })),
            &[ProviderP, Admin],
        ),
        destructive(
            Method::PATCH,
            format!("/api/user/{qid}/services/{sqid}/sessions/{xid}"),
            Some(json!({ "capacity": 1 })),
            &[],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{pid}/services/{sid}/sessions/{xid}"),
            None,
            &[ProviderP, Admin],
        ),
        destructive(
            Method::DELETE,
            format!("/api/user/{qid}/services/{sqid}/sessions/{xid}"),
            None,
            &[],
        ),
        // Accounts: your own by token; the rest is for admins.
        destructive(
            Method::PUT,
            "/api/users".into(),
            Some(json!({ "email": "new@example.org" })),
            &[CustomerA, CustomerB, ProviderP, ProviderQ, Admin],
        ),
        case(Method::GET, "/api/users".into(), None, &[Admin]),
        destructive(
            Method::PATCH,
            format!("/api/users/{bid}"),
            Some(json!({ "role": "admin" })),
            &[Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{adminid}/create"),
            Some(json!({ "email": "made@example.org", "password": "a fine long passphrase" })),
            &[Admin],
        ),
        destructive(
            Method::POST,
            format!("/api/user/{aid}/create"),
            Some(json!({ "email": "made@example.org", "password": "a fine long passphrase" })),
            &[Admin],
        ),
        destructive(Method::POST, format!("/api/logout/{bid}"), None, &[Admin]),
        // The calendar feed takes its token, not a bearer token.
        case(
            Method::GET,
            format!("/user/{aid}/schedule.ics?token=guess"),
            None,
            &[],
        ),
    ];
    let logins: Vec<(Who, Option<&Login>)> = vec![
        (Anonymous, None),
        (CustomerA, Some(&a)),
        (CustomerB, Some(&b)),
        (ProviderP, Some(&p)),
        (ProviderQ, Some(&q)),
        (Admin, Some(&admin)),
    ];
    let mut cells = 0;
    for case in &cases {
        for (who, login) in &logins {
            let allowed = case.allowed.contains(who);
            if case.destructive && allowed {
                continue;
            }
            let mut request = app.request(case.method.clone(), &case.path);
            if let Some(login) = login {
                request = request.bearer_auth(&login.token);
            }
            if let Some(body) = &case.body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let headers = format!("{:?}", response.headers());
            let text = format!("{headers}\n{}", response.text().await.unwrap());
            assert_discloses_nothing(&text, *who, &logins, &case.path);
            cells += 1;
            let refused = matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            );
            if allowed {
                assert!(
                    !refused && !status.is_server_error(),
                    "{who:?} {} {}: {status}",
                    case.method,
                    case.path
                );
            } else {
                assert!(
                    refused,
                    "{who:?} {} {} should be refused, got {status}",
                    case.method, case.path
                );
                if *who == Anonymous && case.path.starts_with("/api/user/") {
                    assert_eq!(
                        status,
                        StatusCode::UNAUTHORIZED,
                        "{} {}",
                        case.method,
                        case.path
                    );
                }
            }
        }
    }
    println!("API authorization matrix: {cells} cells");
    assert!(cells > 250, "{cells} cells");
    // The refused calls changed nothing.
    let (status, name): (String, String) = app
        .db
        .one(query("SELECT status, name FROM services WHERE id = $1").bind(sid))
        .await;
    assert_eq!((status.as_str(), name.as_str()), ("published", "P's class"));
    let (session_status, capacity): (String, i64) = app
        .db
        .one(query("SELECT status, capacity FROM sessions WHERE id = $1").bind(xid))
        .await;
    assert_eq!((session_status.as_str(), capacity), ("scheduled", 50));
    for booking in [baid, bbid] {
        let (status,): (String,) = app
            .db
            .one(query("SELECT status FROM bookings WHERE id = $1").bind(booking))
            .await;
        assert_eq!(status, "Pending");
    }
    assert_eq!(app.seats(xid).await, (2, 2));
    let users = app.db.count(query("SELECT COUNT(*) FROM users")).await;
    assert_eq!(users, 5, "no account was made");
    let (role,): (String,) = app
        .db
        .one(query("SELECT role FROM users WHERE id = $1").bind(bid))
        .await;
    assert_eq!(role, "customer");
    let live = app
        .db
        .count(
            query("SELECT COUNT(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(bid),
        )
        .await;
    assert_eq!(live, 1, "only an admin can log B out");
    let services = app.db.count(query("SELECT COUNT(*) FROM services")).await;
    assert_eq!(services, 2);
    let sessions = app.db.count(query("SELECT COUNT(*) FROM sessions")).await;
    assert_eq!(sessions, 2);
    let (_, notes): (String, Option<String>) = app
        .db
        .one(query("SELECT status, notes FROM bookings WHERE id = $1").bind(baid))
        .await;
    assert_eq!(
        notes.as_deref(),
        Some("hello"),
        "only the allowed note edits landed"
    );
}

/// No answer holds a password hash, and only admins see other people's e-mail addresses.
fn assert_discloses_nothing(text: &str, who: Who, logins: &[(Who, Option<&Login>)], path: &str) {
    assert!(!text.contains("$argon2"), "{who:?} {path}: a password hash");
    if who == Who::Admin {
        return;
    }
    for (other, login) in logins {
        if let Some(login) = login
            && *other != who
        {
            assert!(
                !text.contains(&login.email),
                "{who:?} {path}: {other:?}'s e-mail address"
            );
        }
    }
}
