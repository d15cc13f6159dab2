//! The web pages over HTTP: content, redirects, 403s, CSRF, escaping, headers, cookies.

use kairos::store::query;
use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{Class, Login, PASSWORD, TestApp, id_of, on_both_backends, unique_email},
    page_client::{Browser, signed_in_as},
};

on_both_backends!(
    signed_out_visitors_are_sent_to_the_login_page,
    login_sets_fresh_http_only_cookies_and_goes_back_where_it_was_asked,
    a_wrong_password_shows_in_words_and_keeps_the_address,
    sign_up_errors_show_next_to_their_fields,
    forms_without_the_csrf_token_or_from_another_site_are_refused,
    pages_carry_the_security_headers,
    what_users_typed_is_escaped,
    another_users_page_is_403_and_still_says_who_is_signed_in,
    the_json_api_does_not_take_the_cookie,
    an_expired_access_cookie_is_refreshed_from_the_refresh_cookie,
    logging_out_ends_the_login_session_on_the_server,
    a_forced_logout_sends_the_next_click_to_the_login_page,
    a_customer_books_sees_and_cancels_through_the_pages,
    a_provider_drafts_publishes_adds_a_series_and_completes_a_booking,
    an_admin_creates_users_and_changes_roles,
    the_week_view_and_the_feed_link,
    every_page_answers_its_owner_with_a_heading,
    every_page_by_every_role_on_own_and_others_objects,
);

async fn signed_out_visitors_are_sent_to_the_login_page(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/login"));
    for path in [
        format!("/user/{}", ann.id),
        format!("/user/{}/bookings", ann.id),
        format!("/user/{}/schedule", ann.id),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let target = page.location.unwrap();
        assert!(target.starts_with("/login?next=%2Fuser%2F"), "{target}");
    }
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("<h1>Log in</h1>") && login.body.contains("Not signed in"));
    let catalogue = browser.get("/services").await;
    assert_eq!(catalogue.status, StatusCode::OK, "the catalogue is public");
}

async fn login_sets_fresh_http_only_cookies_and_goes_back_where_it_was_asked(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = Browser::new(&app);
    let bookings = format!("/user/{}/bookings", ann.id);
    let bounced = browser.get(&bookings).await;
    let next = bounced.location.unwrap();
    let form = browser.get(&next).await;
    assert!(
        form.body.contains(&format!("value=\"{bookings}\"")),
        "the form keeps where to go back to"
    );
    let page = browser
        .post(
            "/login",
            &[
                ("email", &ann.email),
                ("password", PASSWORD),
                ("next", &bookings),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some(bookings.as_str()));
    let set: Vec<&str> = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    for name in ["kairos_access=", "kairos_refresh="] {
        let cookie = set
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("{name} {set:?}"));
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(
            !cookie.contains("Secure"),
            "plain HTTP here; Secure comes with an https public URL"
        );
    }
    let first = browser.cookies["kairos_access"].clone();
    assert_eq!(browser.get(&bookings).await.status, StatusCode::OK);
    let sessions = || {
        app.db
            .count(query("SELECT COUNT(*) FROM logins WHERE user_id = $1").bind(ann.id))
    };
    let before = sessions().await;
    // Logging in again gives other cookie values: a session cannot be fixed in advance.
    let mut again = Browser::new(&app);
    again.log_in(&ann.email, PASSWORD).await;
    assert_ne!(again.cookies["kairos_access"], first);
    assert_eq!(
        sessions().await,
        before + 1,
        "each login is a login of its own, as with /api/login"
    );
    // A `next` elsewhere is ignored.
    let mut elsewhere = Browser::new(&app);
    elsewhere.get("/login").await;
    let page = elsewhere
        .post(
            "/login",
            &[
                ("email", &ann.email),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location, Some(format!("/user/{}", ann.id)));
}

async fn a_wrong_password_shows_in_words_and_keeps_the_address(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = Browser::new(&app);
    let page = browser.log_in(&ann.email, "not my passphrase").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.body
            .contains("The e-mail address or password is wrong.")
    );
    assert!(page.body.contains(&format!("value=\"{}\"", ann.email)));
    assert!(!browser.cookies.contains_key("kairos_access"));
}

async fn sign_up_errors_show_next_to_their_fields(app: TestApp) {
    let taken = app.customer().await;
    let mut browser = Browser::new(&app);
    browser.get("/signup").await;
    let page = browser
        .post(
            "/signup",
            &[("email", "not-an-address"), ("password", "short")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("id=\"email-error\">is not a valid e-mail address")
    );
    assert!(
        page.body
            .contains("id=\"password-error\">must be at least 8 characters")
    );
    assert!(
        page.body.contains("value=\"not-an-address\""),
        "what was typed stays"
    );
    let page = browser
        .post(
            "/signup",
            &[("email", &taken.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body
            .contains("An account with this e-mail address exists.")
    );
    let email = unique_email("web");
    let page = browser
        .post("/signup", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "signed up and logged in"
    );
    let home = browser.get(page.location.as_deref().unwrap()).await;
    assert!(
        home.body
            .contains(&format!("Signed in as <strong>{email}</strong> (customer)"))
    );
}

async fn forms_without_the_csrf_token_or_from_another_site_are_refused(app: TestApp) {
    let Class {
        service, session, ..
    } = app.class(json!({}), 24, 5).await;
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    browser.get(&format!("/services/{}", id_of(&service))).await;
    let book = format!("/user/{}/book", ann.id);
    let session_id = session["id"].as_str().unwrap();
    // No token.
    let request = app
        .request(Method::POST, &book)
        .form(&[("session_id", session_id)]);
    assert_eq!(browser.send(request).await.status, StatusCode::FORBIDDEN);
    // Another session's token.
    let bob = app.customer().await;
    let mut bobs = signed_in_as(&app, &bob).await;
    bobs.get("/services").await;
    let request = app
        .request(Method::POST, &book)
        .form(&[("session_id", session_id), ("csrf", &bobs.csrf)]);
    assert_eq!(browser.send(request).await.status, StatusCode::FORBIDDEN);
    // The right token, from another site.
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let request = app
            .request(Method::POST, &book)
            .header(name, value)
            .form(&[("session_id", session_id), ("csrf", &browser.csrf)]);
        assert_eq!(
            browser.send(request).await.status,
            StatusCode::FORBIDDEN,
            "{name}"
        );
    }
    assert_eq!(
        app.seats(id_of(&session)).await,
        (0, 0),
        "nothing was booked"
    );
    // The same form done right books.
    let page = browser
        .post(&book, &[("session_id", session_id), ("notes", "")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.seats(id_of(&session)).await, (1, 1));
    // Logging out is a form too: a GET does nothing.
    assert_eq!(
        browser.get("/logout").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

async fn pages_carry_the_security_headers(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let mut visitor = Browser::new(&app);
    let login = visitor.get("/login").await;
    for (path, page) in [
        ("/login".to_owned(), login),
        (
            format!("/user/{}", ann.id),
            browser.get(&format!("/user/{}", ann.id)).await,
        ),
        ("/services".to_owned(), browser.get("/services").await),
    ] {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert_eq!(
            page.headers["referrer-policy"],
            "strict-origin-when-cross-origin"
        );
        assert_eq!(page.headers["cache-control"], "no-store");
        assert!(page.body.contains("<meta name=\"viewport\""), "phone width");
    }
    let css = browser.get("/static/kairos.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

async fn what_users_typed_is_escaped(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(&provider, json!({ "name": "<script>alert(1)</script>", "description": "\"><img src=x onerror=alert(2)>" }))
        .await;
    let mut browser = Browser::new(&app);
    for path in [
        "/services".to_owned(),
        format!("/services/{}", id_of(&service)),
    ] {
        let page = browser.get(&path).await;
        assert!(!page.body.contains("<script>alert(1)</script>"), "{path}");
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}"
        );
        assert!(!page.body.contains("<img src=x"), "{path}");
    }
}

async fn another_users_page_is_403_and_still_says_who_is_signed_in(app: TestApp) {
    let ann = app.customer().await;
    let bob = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    for path in [
        format!("/user/{}", bob.id),
        format!("/user/{}/bookings/all", bob.id),
        format!("/user/{}/schedule", bob.id),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            page.body
                .contains(&format!("Signed in as <strong>{}</strong>", ann.email))
        );
        assert!(page.body.contains("belongs to someone else"));
    }
    let page = browser.get(&format!("/user/{}/users", ann.id)).await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "customers have no admin pages"
    );
}

async fn the_json_api_does_not_take_the_cookie(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let request = app.request(Method::GET, &format!("/api/user/{}", ann.id));
    assert_eq!(browser.send(request).await.status, StatusCode::UNAUTHORIZED);
}

async fn an_expired_access_cookie_is_refreshed_from_the_refresh_cookie(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let old_refresh = browser.cookies["kairos_refresh"].clone();
    browser
        .cookies
        .insert("kairos_access".into(), "expired.or.garbage".into());
    let page = browser.get(&format!("/user/{}", ann.id)).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "served without a trip to the login page"
    );
    assert_ne!(browser.cookies["kairos_refresh"], old_refresh, "rotated");
    assert_ne!(browser.cookies["kairos_access"], "expired.or.garbage");
    assert_eq!(
        browser.get(&format!("/user/{}", ann.id)).await.status,
        StatusCode::OK
    );
    // Only the refresh cookie: the same.
    browser.cookies.remove("kairos_access");
    assert_eq!(
        browser
            .get(&format!("/user/{}/bookings", ann.id))
            .await
            .status,
        StatusCode::OK
    );
}

async fn logging_out_ends_the_login_session_on_the_server(app: TestApp) {
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    browser.get(&format!("/user/{}", ann.id)).await;
    let access = browser.cookies["kairos_access"].clone();
    let page = browser.post("/logout", &[]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    assert!(!browser.cookies.contains_key("kairos_access"));
    // The token that was in the cookie is dead everywhere, not only forgotten by this browser.
    let api = app.get(&format!("/api/user/{}", ann.id), &access).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let page = browser.get(&format!("/user/{}", ann.id)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

async fn a_forced_logout_sends_the_next_click_to_the_login_page(app: TestApp) {
    let ann = app.customer().await;
    let admin = app.admin().await;
    let mut browser = signed_in_as(&app, &ann).await;
    assert_eq!(
        browser.get(&format!("/user/{}", ann.id)).await.status,
        StatusCode::OK
    );
    let mut admins = signed_in_as(&app, &admin).await;
    admins.get(&format!("/user/{}/users", admin.id)).await;
    let page = admins.post(&format!("/logout/{}", ann.id), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let next = browser.get(&format!("/user/{}/bookings", ann.id)).await;
    assert!(next.location.unwrap().starts_with("/login"));
    assert!(
        !browser.cookies.contains_key("kairos_refresh"),
        "the dead session's cookies are dropped"
    );
}

async fn a_customer_books_sees_and_cancels_through_the_pages(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Morning yoga", "cancellationNoticeMinutes": 60 }),
        )
        .await;
    let session = app.session(&provider, &service, 48, 1).await;
    let other = app.session(&provider, &service, 72, 3).await;
    let ann = app.customer().await;
    let mut browser = signed_in_as(&app, &ann).await;
    let service_page = browser.get(&format!("/services/{}", id_of(&service))).await;
    assert!(service_page.body.contains("1 of 1 places left"));
    let page = browser
        .post(
            &format!("/user/{}/book", ann.id),
            &[
                ("session_id", session["id"].as_str().unwrap()),
                ("notes", "First time"),
            ],
        )
        .await;
    let booking_path = page.location.unwrap();
    let booking = browser.get(&booking_path).await;
    assert!(booking.body.contains("Booked.") && booking.body.contains("First time"));
    assert!(booking.body.contains("id=\"booking-status\">Pending"));
    let home = browser.get(&format!("/user/{}", ann.id)).await;
    assert!(home.body.contains("Morning yoga") && home.body.contains("id=\"count-pending\">1<"));
    // A second customer finds it full, in words, on the service's page.
    let bob = app.customer().await;
    let mut bobs = signed_in_as(&app, &bob).await;
    bobs.get(&format!("/services/{}", id_of(&service))).await;
    let full = bobs
        .post(
            &format!("/user/{}/book", bob.id),
            &[
                ("session_id", session["id"].as_str().unwrap()),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("The session is full."));
    // Move, then cancel.
    browser.get(&booking_path).await;
    let base = booking_path.split('?').next().unwrap().to_owned();
    let moved = browser
        .post(
            &format!("{base}/update"),
            &[("session_id", other["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    assert_eq!(app.seats(id_of(&other)).await, (1, 1));
    browser.get(&base).await;
    let cancelled = browser
        .post(&format!("{base}/cancel"), &[("reason", "Ill")])
        .await;
    let page = browser.get(cancelled.location.as_deref().unwrap()).await;
    assert!(
        page.body.contains("id=\"booking-status\">Cancelled")
            && page.body.contains("Cancelled by the customer: Ill")
    );
    let all = browser
        .get(&format!("/user/{}/bookings/all?status=Cancelled", ann.id))
        .await;
    assert!(all.body.contains("Morning yoga"));
    let none = browser
        .get(&format!("/user/{}/bookings/all?status=Completed", ann.id))
        .await;
    assert!(none.body.contains("No bookings here."));
    // Remove yourself from the service.
    let services = browser.get(&format!("/user/{}/services", ann.id)).await;
    assert!(services.body.contains("Remove yourself"));
    let removed = browser
        .post(
            &format!("/user/{}/services/{}/delete", ann.id, id_of(&service)),
            &[],
        )
        .await;
    assert_eq!(
        removed.location,
        Some(format!("/user/{}/services?done=removed", ann.id))
    );
}

async fn a_provider_drafts_publishes_adds_a_series_and_completes_a_booking(app: TestApp) {
    let provider = app.user_with_role("provider").await;
    let mut browser = signed_in_as(&app, &provider).await;
    let form = browser
        .get(&format!("/user/{}/services/create", provider.id))
        .await;
    assert!(form.body.contains("Save draft") && form.body.contains("Publish"));
    let fields = |name: &'static str, capacity: &'static str| {
        vec![
            ("id", ""),
            ("name", name),
            ("description", "Gentle"),
            ("duration_minutes", "60"),
            ("capacity", capacity),
            ("location", "Hall"),
            ("time_zone", "Europe/Paris"),
            ("booking_notice_minutes", "0"),
            ("cancellation_notice_minutes", "0"),
        ]
    };
    // A bad number comes back next to its field, with what was typed.
    let bad = browser
        .post(
            &format!("/user/{}/services/create/save", provider.id),
            &fields("Stretch", "lots"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("id=\"capacity-error\">must be a whole number")
            && bad.body.contains("value=\"lots\"")
    );
    let saved = browser
        .post(
            &format!("/user/{}/services/create/save", provider.id),
            &fields("Stretch", "4"),
        )
        .await;
    let service_path = saved.location.unwrap();
    let page = browser.get(&service_path).await;
    assert!(page.body.contains("id=\"service-status\">draft"));
    let service_id = service_path.rsplit('/').next().unwrap().to_owned();
    let mut publish = fields("Stretch", "4");
    publish[0] = ("id", &service_id);
    let published = browser
        .post(
            &format!("/user/{}/services/create/publish", provider.id),
            &publish,
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let page = browser.get(&service_path).await;
    assert!(page.body.contains("id=\"service-status\">published"));
    let added = browser
        .post(
            &format!("{service_path}/sessions"),
            &[
                ("starts_at", "2027-03-15T09:00"),
                ("duration_minutes", "60"),
                ("capacity", "4"),
                ("location", "Hall"),
                ("information", "Bring a mat\nArrive early"),
                ("monday", "on"),
                ("until", ""),
                ("count", "3"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = browser.get(&service_path).await;
    assert!(
        page.body.contains("Mon 15 Mar 2027, 09:00–10:00")
            && page.body.contains("Mon 29 Mar 2027, 09:00–10:00"),
        "local time kept across DST"
    );
    let sessions = app
        .db
        .count(
            query("SELECT COUNT(*) FROM sessions WHERE service_id = $1")
                .bind(service_id.parse::<uuid::Uuid>().unwrap()),
        )
        .await;
    assert_eq!(sessions, 3);
    // A customer books; the provider sees it and marks it completed.
    let ann = app.customer().await;
    let service: serde_json::Value = json!({ "id": service_id });
    let session = app.session(&provider, &service, 24, 4).await;
    let booking = app.booked(&ann, &session).await;
    let list = browser
        .get(&format!("/user/{}/bookings", provider.id))
        .await;
    assert!(list.body.contains("Stretch"));
    let path = format!("/user/{}/bookings/{}", provider.id, id_of(&booking));
    let page = browser.get(&path).await;
    assert!(page.body.contains("Mark completed"));
    browser
        .post(&format!("{path}/update"), &[("status", "Completed")])
        .await;
    let page = browser.get(&path).await;
    assert!(page.body.contains("id=\"booking-status\">Completed"));
}

async fn an_admin_creates_users_and_changes_roles(app: TestApp) {
    let admin = app.admin().await;
    let mut browser = signed_in_as(&app, &admin).await;
    let users = format!("/user/{}/users", admin.id);
    let page = browser.get(&users).await;
    assert!(page.body.contains("Create an account"));
    let bad = browser
        .post(
            &format!("/user/{}/create", admin.id),
            &[
                ("email", "nope"),
                ("password", PASSWORD),
                ("role", "provider"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"email-error\""));
    let email = unique_email("made-by-admin");
    let made = browser
        .post(
            &format!("/user/{}/create", admin.id),
            &[
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("role", "provider"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let (id, role): (uuid::Uuid, String) = app
        .db
        .one(query("SELECT id, role FROM users WHERE email_key = $1").bind(email.clone()))
        .await;
    assert_eq!(role, "provider");
    browser.get(&users).await;
    browser
        .post(
            &format!("{users}/{id}"),
            &[("role", "customer"), ("is_chirpy_red", "on")],
        )
        .await;
    let (role, red): (String, bool) = app
        .db
        .one(query("SELECT role, is_chirpy_red FROM users WHERE id = $1").bind(id))
        .await;
    assert_eq!((role.as_str(), red), ("customer", true));
}

async fn the_week_view_and_the_feed_link(app: TestApp) {
    let Class {
        provider, session, ..
    } = app
        .class(json!({ "name": "Pottery", "timeZone": "UTC" }), 24, 3)
        .await;
    let ann = app.customer().await;
    app.booked(&ann, &session).await;
    let starts: chrono::DateTime<chrono::Utc> =
        session["startsAt"].as_str().unwrap().parse().unwrap();
    let mut browser = signed_in_as(&app, &ann).await;
    let week = browser
        .get(&format!(
            "/user/{}/schedule?week={}",
            ann.id,
            starts.format("%Y-%m-%d")
        ))
        .await;
    assert!(
        week.body.contains("Pottery") && week.body.contains(&starts.format("%H:%M").to_string())
    );
    assert!(week.body.contains("Previous week") && week.body.contains("Next week"));
    let later = browser
        .get(&format!(
            "/user/{}/schedule?week={}",
            ann.id,
            (starts + chrono::Duration::days(14)).format("%Y-%m-%d")
        ))
        .await;
    assert!(!later.body.contains("Pottery"));
    let feed = browser
        .post(&format!("/user/{}/schedule/feed", ann.id), &[])
        .await;
    let start = feed.body.find("id=\"feed-url\">").unwrap() + 14;
    let url = feed.body[start..]
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let ics = app.client.get(&url).send().await.unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.text().await.unwrap().contains("SUMMARY:Pottery"));
    let provider_view = signed_in_as(&app, &provider)
        .await
        .get(&format!(
            "/user/{}/schedule?week={}",
            provider.id,
            starts.format("%Y-%m-%d")
        ))
        .await;
    assert!(
        provider_view.body.contains("1/3 booked")
            && provider_view.body.contains("Attendee 1 (Pending)")
    );
    assert!(
        !provider_view.body.contains(&ann.email),
        "attendees, not their addresses"
    );
}

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
