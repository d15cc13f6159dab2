//! Real-browser journeys: headless Chromium driven through chromedriver (WebDriver) against the
//! real server. Without Chromium and chromedriver on the machine they say they skipped.

use std::{
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use kairos::store::query;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, id_of, in_hours, spawn_app, unique_email};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver for one test, stopped when dropped.
pub(crate) struct Driver {
    process: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub(crate) fn say(line: &str) {
    // Straight to stderr: the test harness would swallow `eprintln!`.
    let _ = writeln!(std::io::stderr(), "{line}");
}

async fn driver() -> Option<Driver> {
    let chromedriver =
        std::env::var("KAIROS_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let installed = std::path::Path::new(CHROMIUM).exists()
        && Command::new(&chromedriver)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !installed {
        static SAID: Once = Once::new();
        SAID.call_once(|| say("\nBrowser tests skipped: /usr/bin/chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"));
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let process = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver {
        process,
        url,
        profiles: tempfile::tempdir().expect("dir"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    // The kit's client: it chooses the process's TLS crypto first, which reqwest's build needs
    // before any client is made, whichever test runs first.
    let status = kairos_testkit::http_client().build().expect("client");
    while status
        .get(format!("{}/status", driver.url))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(driver)
}

/// A new, separate browser (its own profile, so its own cookies).
pub(crate) async fn browser(driver: &Driver, name: &str) -> Client {
    let profile = driver.profiles.path().join(name);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1200,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

pub(crate) async fn css(client: &Client, selector: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|err| panic!("{selector}: {err}"))
}

pub(crate) async fn fill(client: &Client, selector: &str, text: &str) {
    let field = css(client, selector).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks something that loads a page (a link or a form's button) and waits for the new page,
/// so nothing is read from the old one.
pub(crate) async fn click(client: &Client, selector: &str) {
    let target = css(client, selector).await;
    client
        .execute("document.documentElement.dataset.leaving = '1'", vec![])
        .await
        .unwrap();
    target.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = client
            .execute("return document.readyState === 'complete' && !document.documentElement.dataset.leaving", vec![])
            .await
            .map(|v| v == Value::Bool(true))
            .unwrap_or(false);
        if left {
            break;
        }
        assert!(Instant::now() < deadline, "{selector} did not load a page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ticks a checkbox (no page load).
async fn tick(client: &Client, selector: &str) {
    css(client, selector).await.click().await.unwrap();
}

pub(crate) async fn text_of(client: &Client, selector: &str) -> String {
    css(client, selector).await.text().await.unwrap()
}

pub(crate) async fn path(client: &Client) -> String {
    client.current_url().await.unwrap().path().to_owned()
}

pub(crate) async fn screenshot(client: &Client, name: &str) {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
            PathBuf::from,
        )
        .join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub(crate) async fn log_in(client: &Client, app: &TestApp, email: &str, password: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    fill(client, "#email", email).await;
    fill(client, "#password", password).await;
    click(client, "#login").await;
    css(client, "#signed-in").await;
}

pub(crate) async fn app_and_driver() -> Option<(TestApp, Driver)> {
    let driver = driver().await?;
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    Some((app, driver))
}

/// A customer signs up, logs in, books a session, sees it on the home page and in the week
/// view, and cancels it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_up_books_sees_and_cancels() {
    let Some((app, driver)) = app_and_driver().await else {
        return;
    };
    let started = Instant::now();
    let provider = app.user_with_role("provider").await;
    let service = app
        .published_service(
            &provider,
            json!({ "name": "Morning yoga", "timeZone": "UTC" }),
        )
        .await;
    let session = app.session(&provider, &service, 48, 5).await;
    let client = browser(&driver, "customer").await;
    let email = unique_email("browser");

    client.goto(&app.url("/signup")).await.unwrap();
    fill(&client, "#email", &email).await;
    fill(&client, "#password", PASSWORD).await;
    click(&client, "#signup").await;
    assert!(text_of(&client, "#signed-in").await.contains(&email));
    click(&client, "#logout").await;
    css(&client, "#login-form").await;
    log_in(&client, &app, &email, PASSWORD).await;
    let home = path(&client).await;
    assert!(home.starts_with("/user/"), "{home}");

    client
        .goto(&app.url(&format!("/services/{}", id_of(&service))))
        .await
        .unwrap();
    click(
        &client,
        &format!("#session-{} button.book", id_of(&session)),
    )
    .await;
    assert!(text_of(&client, "#notice").await.starts_with("Booked."));
    assert_eq!(text_of(&client, "#booking-status").await, "Pending");

    client.goto(&app.url(&home)).await.unwrap();
    assert!(text_of(&client, "#upcoming").await.contains("Morning yoga"));
    let starts: chrono::DateTime<chrono::Utc> =
        session["startsAt"].as_str().unwrap().parse().unwrap();
    client
        .goto(&app.url(&format!(
            "{home}/schedule?week={}",
            starts.format("%Y-%m-%d")
        )))
        .await
        .unwrap();
    assert!(text_of(&client, "#week").await.contains("Morning yoga"));

    client.goto(&app.url(&home)).await.unwrap();
    click(&client, "#upcoming a").await;
    fill(&client, "#reason", "Cannot make it").await;
    click(&client, "#cancel-booking").await;
    assert_eq!(text_of(&client, "#booking-status").await, "Cancelled");
    assert!(
        text_of(&client, "#cancellation")
            .await
            .contains("Cannot make it")
    );
    screenshot(&client, "customer-journey").await;
    client.close().await.unwrap();

    let (status,): (String,) = app
        .db
        .one(query("SELECT status FROM bookings WHERE session_id = $1").bind(id_of(&session)))
        .await;
    assert_eq!(status, "Cancelled");
    assert_eq!(app.seats(id_of(&session)).await, (0, 0));
    say(&format!(
        "browser journey (customer): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}

/// A provider saves a draft, publishes it, adds a weekly series, sees a booking and marks it
/// completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_drafts_publishes_adds_a_series_and_completes_a_booking() {
    let Some((app, driver)) = app_and_driver().await else {
        return;
    };
    let started = Instant::now();
    let provider = app.user_with_role("provider").await;
    let client = browser(&driver, "provider").await;
    log_in(&client, &app, &provider.email, PASSWORD).await;

    client
        .goto(&app.url(&format!("/user/{}/services", provider.id)))
        .await
        .unwrap();
    click(&client, "#new-service").await;
    fill(&client, "#name", "Evening pilates").await;
    fill(&client, "#capacity", "6").await;
    fill(&client, "#time_zone", "Europe/Paris").await;
    click(&client, "#save-draft").await;
    assert_eq!(text_of(&client, "#service-status").await, "draft");
    click(&client, "#publish-draft").await;
    assert_eq!(text_of(&client, "#service-status").await, "published");
    let service_id = path(&client).await.rsplit('/').next().unwrap().to_owned();

    // A datetime-local input takes its value in the browser's locale format; set it directly.
    let first = in_hours(72).format("%Y-%m-%dT%H:%M").to_string();
    client
        .execute(
            "document.getElementById('starts_at').value = arguments[0]",
            vec![Value::String(first)],
        )
        .await
        .unwrap();
    for day in ["monday", "wednesday", "friday"] {
        tick(&client, &format!("#repeat-{day}")).await;
    }
    fill(&client, "#count", "6").await;
    click(&client, "#add-sessions").await;
    assert_eq!(text_of(&client, "#notice").await, "Sessions added.");
    let listed = client
        .find_all(Locator::Css("#sessions li.session"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 6);

    let sessions: Vec<Value> = app
        .anonymous()
        .get_json(&format!(
            "/api/services/{service_id}/sessions?to={}",
            in_hours(24 * 40).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
        .await;
    assert_eq!(sessions.len(), 6);
    let customer = app.customer().await;
    let booking = app.booked(&customer, &sessions[0]).await;

    client
        .goto(&app.url(&format!("/user/{}/bookings", provider.id)))
        .await
        .unwrap();
    assert!(
        text_of(&client, "#bookings")
            .await
            .contains("Evening pilates")
    );
    click(&client, "#bookings a").await;
    click(&client, "#mark-completed").await;
    assert_eq!(text_of(&client, "#booking-status").await, "Completed");
    screenshot(&client, "provider-journey").await;
    client.close().await.unwrap();

    let (status,): (String,) = app
        .db
        .one(query("SELECT status FROM bookings WHERE id = $1").bind(id_of(&booking)))
        .await;
    assert_eq!(status, "Completed");
    say(&format!(
        "browser journey (provider): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}

/// An admin creates a provider and forces a user out: that user's next click lands on `/login`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_provider_and_forces_a_user_out() {
    let Some((app, driver)) = app_and_driver().await else {
        return;
    };
    let started = Instant::now();
    let customer = app.customer().await;
    let admin = browser(&driver, "admin").await;
    let victim = browser(&driver, "victim").await;
    log_in(
        &admin,
        &app,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    log_in(&victim, &app, &customer.email, PASSWORD).await;

    let admin_home = path(&admin).await;
    admin
        .goto(&app.url(&format!("{admin_home}/users")))
        .await
        .unwrap();
    let provider_email = unique_email("made-in-browser");
    fill(&admin, "#new-email", &provider_email).await;
    fill(&admin, "#new-password", PASSWORD).await;
    css(&admin, "#new-role")
        .await
        .select_by_value("provider")
        .await
        .unwrap();
    click(&admin, "#create-user").await;
    assert_eq!(text_of(&admin, "#notice").await, "Account created.");
    assert!(text_of(&admin, "#users").await.contains(&provider_email));
    let (role,): (String,) = app
        .db
        .one(query("SELECT role FROM users WHERE email_key = $1").bind(provider_email.clone()))
        .await;
    assert_eq!(role, "provider");

    click(
        &admin,
        &format!("tr[data-email='{}'] button.force-logout", customer.email),
    )
    .await;
    assert!(text_of(&admin, "#notice").await.contains("has ended"));

    // The victim's page is still on screen; their next click goes to the login page.
    click(&victim, "header nav a:nth-child(3)").await;
    css(&victim, "#login-form").await;
    assert_eq!(path(&victim).await, "/login");
    screenshot(&victim, "admin-journey").await;
    admin.close().await.unwrap();
    victim.close().await.unwrap();
    say(&format!(
        "browser journey (admin): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}
