//! The authorization matrix: every booking-core route, called by anonymous, two customers, the
//! owning provider, another provider and an admin, on paths and objects that are and are not
//! theirs. Nobody gets a 2xx they should not, and refused calls change nothing.

use kairos::store::query;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, Login, TestApp, id_of, in_hours, on_both_backends};
use Kind::{Changes, Looks};
use Who::*;

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

/// Whether a call changes something. A change is tried only by the callers who must be refused
/// (the allowed ones are tested route by route elsewhere), so the fixture stays as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Looks,
    Changes,
}

/// Every route once per object it can be about: the method, the path and body (with `{p}` and
/// `{q}` the providers, `{a}` and `{b}` the customers, `{admin}`, `{s}` P's service, `{sq}` Q's,
/// `{x}` and `{x2}` sessions of `{s}`, `{ba}` and `{bb}` A's and B's bookings in `{x}`, `{x3}`
/// a full session of `{s}` and `{e}` A's place in its list), and who
/// may get a 2xx; everyone else must get 401, 403 or 404. A new route joins with one line.
#[rustfmt::skip]
const CASES: &[(&str, &str, &str, &[Who], Kind)] = &[
    // The public catalogue.
    ("GET", "/api/services", "", &EVERYONE, Looks),
    ("GET", "/api/services/{s}", "", &EVERYONE, Looks),
    ("GET", "/api/services/{s}/sessions", "", &EVERYONE, Looks),
    // Home, lists, schedule: the path's user and admins.
    ("GET", "/api/user/{a}", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{a}/bookings", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{a}/bookings/all", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}/bookings", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{a}/services", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}/services", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{a}/schedule", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{a}/schedule/{s}", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}/schedule/{s}", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{q}/schedule/{s}", "", &[], Looks),
    ("POST", "/api/user/{a}/schedule/feed", "", &[CustomerA, Admin], Looks),
    // One booking: its customer and its provider, each on their own path.
    ("GET", "/api/user/{a}/bookings/{ba}", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}/bookings/{ba}", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{b}/bookings/{ba}", "", &[], Looks),
    ("GET", "/api/user/{q}/bookings/{ba}", "", &[], Looks),
    ("PATCH", "/api/user/{a}/bookings/{ba}", NOTES, &[CustomerA, Admin], Looks),
    ("POST", "/api/user/{a}/bookings/{ba}/update", NOTES, &[CustomerA, Admin], Looks),
    ("PATCH", "/api/user/{b}/bookings/{ba}", NOTES, &[], Looks),
    ("POST", "/api/user/{a}/bookings/{ba}/cancel", "", &[CustomerA, Admin], Changes),
    ("POST", "/api/user/{b}/bookings/{ba}/cancel", "", &[], Changes),
    ("POST", "/api/user/{q}/bookings/{ba}/cancel", "", &[], Changes),
    ("DELETE", "/api/user/{a}/bookings/{ba}", "", &[CustomerA, Admin], Changes),
    ("DELETE", "/api/user/{p}/bookings/{bb}", "", &[ProviderP, Admin], Changes),
    ("PATCH", "/api/user/{p}/bookings/{ba}", COMPLETED, &[ProviderP, Admin], Changes),
    ("PATCH", "/api/user/{q}/bookings/{ba}", COMPLETED, &[], Changes),
    // Booking: for the path's user.
    ("POST", "/api/user/{a}/book", r#"{"sessionId": "{x2}"}"#, &[CustomerA, Admin], Changes),
    // A provider's services: the owner on its own path, and admins.
    ("GET", "/api/user/{p}/services/create", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{a}/services/create", "", &[], Looks),
    ("POST", "/api/user/{p}/services/create/save", NAME_X, &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{a}/services/create/save", NAME_X, &[], Changes),
    ("POST", "/api/user/{p}/services/create/publish", NAME_X, &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{a}/services/create/publish", NAME_X, &[], Changes),
    ("GET", "/api/user/{p}/services/{s}", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{q}/services/{s}", "", &[], Looks),
    ("GET", "/api/user/{a}/services/{s}", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{p}/services/{sq}", "", &[], Looks),
    ("PATCH", "/api/user/{p}/services/{s}", TAKEN, &[ProviderP, Admin], Changes),
    ("PATCH", "/api/user/{q}/services/{s}", TAKEN, &[], Changes),
    ("POST", "/api/user/{p}/services/{s}/update", TAKEN, &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{q}/services/{s}/update", TAKEN, &[], Changes),
    ("DELETE", "/api/user/{p}/services/{s}", "", &[ProviderP, Admin], Changes),
    ("DELETE", "/api/user/{q}/services/{s}", "", &[], Changes),
    ("POST", "/api/user/{p}/services/{s}/delete", "", &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{q}/services/{s}/delete", "", &[], Changes),
    ("POST", "/api/user/{b}/services/{sq}/delete", "", &[], Changes),
    ("POST", "/api/user/{p}/services/{s}/sessions", SOON, &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{q}/services/{s}/sessions", SOON, &[], Changes),
    ("POST", "/api/user/{a}/services/{s}/sessions", SOON, &[], Changes),
    ("PATCH", "/api/user/{p}/services/{s}/sessions/{x}", ONE_PLACE, &[ProviderP, Admin], Changes),
    ("PATCH", "/api/user/{q}/services/{sq}/sessions/{x}", ONE_PLACE, &[], Changes),
    ("DELETE", "/api/user/{p}/services/{s}/sessions/{x}", "", &[ProviderP, Admin], Changes),
    ("DELETE", "/api/user/{q}/services/{sq}/sessions/{x}", "", &[], Changes),
    // Accounts: your own by token; the rest is for admins.
    ("PUT", "/api/users", r#"{"email": "new@example.org"}"#, &[CustomerA, CustomerB, ProviderP, ProviderQ, Admin], Changes),
    ("GET", "/api/users", "", &[Admin], Looks),
    ("PATCH", "/api/users/{b}", r#"{"role": "admin"}"#, &[Admin], Changes),
    ("POST", "/api/user/{admin}/create", NEW_ACCOUNT, &[Admin], Changes),
    ("POST", "/api/user/{a}/create", NEW_ACCOUNT, &[Admin], Changes),
    ("POST", "/api/logout/{b}", "", &[Admin], Changes),
    // The outbox: admins only.
    ("GET", "/api/admin/outbox", "", &[Admin], Looks),
    ("GET", "/api/admin/outbox?status=sent", "", &[Admin], Looks),
    ("POST", "/api/admin/outbox/{m}/retry", "", &[Admin], Changes),
    // Webhooks: a provider's and an admin's, each on its own path; customers have none.
    ("POST", "/api/user/{p}/webhooks", HOOK, &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{a}/webhooks", HOOK, &[], Changes),
    ("GET", "/api/user/{p}/webhooks", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{a}/webhooks", "", &[], Looks),
    ("GET", "/api/user/{p}/webhooks/{w}", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{q}/webhooks/{w}", "", &[], Looks),
    ("PATCH", "/api/user/{p}/webhooks/{w}", DESCRIBED, &[ProviderP, Admin], Looks),
    ("PATCH", "/api/user/{q}/webhooks/{w}", DESCRIBED, &[], Looks),
    ("DELETE", "/api/user/{p}/webhooks/{w}", "", &[ProviderP, Admin], Changes),
    ("DELETE", "/api/user/{q}/webhooks/{w}", "", &[], Changes),
    ("POST", "/api/user/{p}/webhooks/{w}/rotate-secret", "", &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{q}/webhooks/{w}/rotate-secret", "", &[], Changes),
    ("POST", "/api/user/{p}/webhooks/{w}/test", "", &[ProviderP, Admin], Changes),
    ("POST", "/api/user/{q}/webhooks/{w}/test", "", &[], Changes),
    ("GET", "/api/user/{p}/webhooks/{w}/deliveries", "", &[ProviderP, Admin], Looks),
    ("GET", "/api/user/{q}/webhooks/{w}/deliveries", "", &[], Looks),
    ("POST", "/api/user/{p}/webhooks/{w}/deliveries/{m}/redeliver", "", &[], Changes),
    // The waitlist: the path's user and admins; an entry only on its owner's path.
    ("POST", "/api/user/{a}/waitlist", r#"{"sessionId": "{x3}"}"#, &[CustomerA, Admin], Changes),
    ("POST", "/api/user/{b}/waitlist", r#"{"sessionId": "{x3}"}"#, &[CustomerB, Admin], Changes),
    ("GET", "/api/user/{a}/waitlist", "", &[CustomerA, Admin], Looks),
    ("GET", "/api/user/{b}/waitlist", "", &[CustomerB, Admin], Looks),
    ("DELETE", "/api/user/{a}/waitlist/{e}", "", &[CustomerA, Admin], Changes),
    ("DELETE", "/api/user/{b}/waitlist/{e}", "", &[], Changes),
    ("DELETE", "/api/user/{p}/waitlist/{e}", "", &[], Changes),
    // Working hours: the service's provider on its own path, and admins.
    ("PUT", "/api/user/{p}/services/{s}/availability", HOURS, &[ProviderP, Admin], Changes),
    ("PUT", "/api/user/{q}/services/{s}/availability", HOURS, &[], Changes),
    ("PUT", "/api/user/{a}/services/{s}/availability", HOURS, &[], Changes),
    ("GET", "/api/user/{p}/services/{s}/availability", "", &[], Looks),
    ("GET", "/api/user/{q}/services/{sq}/availability", "", &[], Looks),
    ("DELETE", "/api/user/{p}/services/{s}/availability", "", &[ProviderP, Admin], Changes),
    ("DELETE", "/api/user/{q}/services/{s}/availability", "", &[], Changes),
    // The calendar feed takes its token, not a bearer token.
    ("GET", "/user/{a}/schedule.ics?token=guess", "", &[], Looks),
];

const NOTES: &str = r#"{"notes": "hello"}"#;
const COMPLETED: &str = r#"{"status": "Completed"}"#;
const NAME_X: &str = r#"{"name": "x"}"#;
const TAKEN: &str = r#"{"name": "Taken"}"#;
const SOON: &str = r#"{"startsAt": "{soon}"}"#;
const ONE_PLACE: &str = r#"{"capacity": 1}"#;
/// A name for loopback: without the allow setting, never connected to.
const HOOK: &str = r#"{"url": "http://localhost:9/k", "events": ["*"]}"#;
const HOURS: &str = r#"{"weekly": [{"weekdays": ["monday"], "from": "09:00", "to": "10:00"}]}"#;
const DESCRIBED: &str = r#"{"description": "CRM"}"#;
const NEW_ACCOUNT: &str = r#"{"email": "made@example.org", "password": "a fine long passphrase"}"#;

async fn every_route_by_every_role_on_own_and_others_objects(app: TestApp) {
    let p = app.provider().await;
    let q = app.provider().await;
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
    // A full session A waits for: `{e}` is A's place in its list.
    let x3 = app.session(&p, &s, 72, 1).await;
    app.booked(&b, &x3).await;
    let e: Value = app
        .as_user(&a)
        .post(
            &format!("/api/user/{}/waitlist", a.id),
            &json!({ "sessionId": id_of(&x3) }),
        )
        .await
        .ok_json(StatusCode::CREATED)
        .await;
    let (sid, xid, baid, bbid) = (id_of(&s), id_of(&x), id_of(&ba), id_of(&bb));
    // A's confirmation, sent: the message the outbox routes are tried on.
    app.mail.expect_mails_to(&a.email, 1).await;
    let confirmation =
        || query("SELECT id, status FROM messages WHERE recipient = $1").bind(a.email.clone());
    let mut sent: (uuid::Uuid, String) = app.db.one(confirmation()).await;
    for _ in 0..100 {
        if sent.1 == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sent = app.db.one(confirmation()).await;
    }
    let m = sent.0;
    assert_eq!(sent.1, "sent", "A's confirmation went out");
    let w: Value = app
        .as_user(&p)
        .post(
            &format!("/api/user/{}/webhooks", p.id),
            &serde_json::from_str::<Value>(HOOK).unwrap(),
        )
        .await
        .ok_json(StatusCode::CREATED)
        .await;
    let names = [
        ("{p}", p.id.to_string()),
        ("{q}", q.id.to_string()),
        ("{a}", a.id.to_string()),
        ("{b}", b.id.to_string()),
        ("{admin}", admin.id.to_string()),
        ("{sq}", id_of(&sq).to_string()),
        ("{s}", sid.to_string()),
        ("{x2}", id_of(&x2).to_string()),
        ("{x3}", id_of(&x3).to_string()),
        ("{e}", id_of(&e).to_string()),
        ("{x}", xid.to_string()),
        ("{ba}", baid.to_string()),
        ("{bb}", bbid.to_string()),
        ("{m}", m.to_string()),
        ("{w}", id_of(&w).to_string()),
        ("{soon}", in_hours(5).to_rfc3339()),
    ];
    let named = |text: &str| {
        names
            .iter()
            .fold(text.to_owned(), |text, (name, id)| text.replace(name, id))
    };
    let logins: Vec<(Who, Option<&Login>)> = vec![
        (Anonymous, None),
        (CustomerA, Some(&a)),
        (CustomerB, Some(&b)),
        (ProviderP, Some(&p)),
        (ProviderQ, Some(&q)),
        (Admin, Some(&admin)),
    ];
    let mut cells = 0;
    for &(method, path, body, allowed, kind) in CASES {
        let (method, path) = (Method::from_bytes(method.as_bytes()).unwrap(), named(path));
        for (who, login) in &logins {
            let allowed = allowed.contains(who);
            if kind == Changes && allowed {
                continue;
            }
            let mut request = app.request(method.clone(), &path);
            if let Some(login) = login {
                request = request.bearer_auth(&login.token);
            }
            if !body.is_empty() {
                let body: Value = serde_json::from_str(&named(body)).unwrap();
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let headers = format!("{:?}", response.headers());
            let text = format!("{headers}\n{}", response.text().await.unwrap());
            assert_discloses_nothing(&text, *who, &logins, &path);
            cells += 1;
            let refused = matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            );
            if allowed {
                assert!(
                    !refused && !status.is_server_error(),
                    "{who:?} {method} {path}: {status}"
                );
            } else {
                assert!(
                    refused,
                    "{who:?} {method} {path} should be refused, got {status}"
                );
                if *who == Anonymous && path.starts_with("/api/user/") {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
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
        .one(query("SELECT role FROM users WHERE id = $1").bind(b.id))
        .await;
    assert_eq!(role, "customer");
    let live = app
        .db
        .count(
            query("SELECT COUNT(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(b.id),
        )
        .await;
    assert_eq!(live, 1, "only an admin can log B out");
    let services = app.db.count(query("SELECT COUNT(*) FROM services")).await;
    assert_eq!(services, 2);
    let sessions = app.db.count(query("SELECT COUNT(*) FROM sessions")).await;
    assert_eq!(sessions, 3);
    let waiting = app
        .db
        .count(query("SELECT COUNT(*) FROM waitlist_entries WHERE user_id = $1").bind(a.id))
        .await;
    assert_eq!(waiting, 1, "A still waits: no one else took A off the list");
    let (_, notes): (String, Option<String>) = app
        .db
        .one(query("SELECT status, notes FROM bookings WHERE id = $1").bind(baid))
        .await;
    assert_eq!(
        notes.as_deref(),
        Some("hello"),
        "only the allowed note edits landed"
    );
    let (message_status,): (String,) = app
        .db
        .one(query("SELECT status FROM messages WHERE id = $1").bind(m))
        .await;
    assert_eq!(
        message_status, "sent",
        "no one but an admin touched the outbox"
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
