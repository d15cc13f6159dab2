//! The web pages over HTTP, signing in and staying safe: redirects, cookies, CSRF, escaping,
//! headers, 403s and logging out.

use kairos::store::query;
use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{Class, PASSWORD, TestApp, id_of, on_both_backends, unique_email},
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
