//! SIGKILL at random moments under booking load, twenty times on the same data: every
//! acknowledged booking is still there, and its confirmation mail and webhook arrive.

use super::*;

/// SIGKILL at random moments under booking load, 20 times, restarting on the same data; then
/// every acknowledged booking's confirmation must reach the mail server, and its
/// `booking.created` a webhook receiver.
async fn killed_twenty_times_under_load(data: Data, backend: &str) {
    let client = client();
    let mail = MailServer::start().await;
    let receiver = WebhookReceiver::start().await;
    let env = [
        ("KAIROS_SMTP_URL", mail.url()),
        ("KAIROS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = server_with(&data, None, &env);
    server.ready(&client).await.unwrap();
    webhooks::admin_webhook(&client, &server, &receiver).await;
    let (sessions, customers) = fixture(&client, &server, 6, 10, 40).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut load = booking_load(&client, &server, &sessions, &customers, 16, &stop, &acked);
    let mut dice = Dice(42);
    let mut restarts = Vec::new();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(200 + dice.below(1300) as u64)).await;
        server.kill();
        server.start().unwrap();
        restarts.push(server.ready(&client).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    while load.join_next().await.is_some() {}
    server.kill();

    let contents = contents(&data).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let lost: Vec<_> = acked
        .bookings
        .iter()
        .filter(
            |(id, status)| match contents.bookings.get(id).map(String::as_str) {
                None => true,
                // A cancellation that got no answer may have landed after the booking's 201.
                Some(stored) => **status == "Cancelled" && stored != "Cancelled",
            },
        )
        .collect();
    let ghost_bookings = contents
        .bookings
        .keys()
        .filter(|id| !acked.bookings.contains_key(id))
        .count();
    let ghost_cancels = contents
        .bookings
        .iter()
        .filter(|(id, stored)| *stored == "Cancelled" && acked.bookings.get(id) == Some(&"Pending"))
        .count();
    let over = contents.sessions.iter().filter(|(b, c, _)| b > c).count();
    let miscounted = contents
        .sessions
        .iter()
        .filter(|(b, _, live)| b != live)
        .count();
    let slowest = restarts.iter().max().unwrap();
    println!(
        "{backend}: 20 SIGKILLs; acknowledged bookings {}, acknowledged-but-lost {}, \
         ghost writes {} bookings + {} cancellations (of {} + {} unanswered requests), \
         sessions over capacity {over}, counters off {miscounted}, 5xx {}, slowest restart {slowest:?}",
        acked.bookings.len(),
        lost.len(),
        ghost_bookings,
        ghost_cancels,
        acked.unanswered_books,
        acked.unanswered_cancels,
        acked.server_errors,
    );
    assert!(
        acked.bookings.len() > 100,
        "the load booked too little to tell"
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(ghost_bookings as u64 <= acked.unanswered_books);
    assert!(ghost_cancels as u64 <= acked.unanswered_cancels);
    assert_eq!(over, 0, "a session over capacity");
    assert_eq!(miscounted, 0, "a counter differs from its live bookings");
    if backend == "sqlite" {
        assert_eq!(contents.integrity, "ok");
    }
    assert!(
        !server.log_text().contains("panicked"),
        "a panic in the log"
    );
    confirmations_all_arrive(&client, &mut server, &mail, &acked, &contents, backend).await;
    let expected: Vec<Uuid> = acked
        .bookings
        .keys()
        .filter(|id| contents.bookings.contains_key(id))
        .copied()
        .collect();
    server.start().unwrap();
    server.ready(&client).await.unwrap();
    webhooks::all_posted(&receiver, &expected, backend).await;
    server.kill();
    drop(data);
}

/// Restarts the server once more and waits until every acknowledged booking that is stored
/// has its confirmation at the mail server; reports the duplicates a crash between sending
/// and recording caused (the same `Message-ID` twice).
async fn confirmations_all_arrive(
    client: &reqwest::Client,
    server: &mut ServerProcess,
    mail: &MailServer,
    acked: &Acknowledged,
    contents: &Contents,
    backend: &str,
) {
    server.start().unwrap();
    server.ready(client).await.unwrap();
    let expected: Vec<Uuid> = acked
        .bookings
        .keys()
        .filter(|id| contents.bookings.contains_key(id))
        .copied()
        .collect();
    let started = Instant::now();
    let confirmed = |mails: &[Mail]| -> HashMap<Uuid, usize> {
        let mut seen = HashMap::new();
        for mail in mails.iter().filter(|m| m.subject().starts_with("Booked: ")) {
            let Some((_, calendar)) = mail.calendar() else {
                continue;
            };
            let uid = calendar
                .split("UID:booking-")
                .nth(1)
                .and_then(|rest| rest.get(..36))
                .and_then(|id| id.parse::<Uuid>().ok());
            if let Some(id) = uid {
                *seen.entry(id).or_insert(0) += 1;
            }
        }
        seen
    };
    // On PostgreSQL a killed instance's claims lapse after a minute before another sends them.
    let mails = mail
        .wait_until(Duration::from_secs(150), |mails| {
            let seen = confirmed(mails);
            expected.iter().all(|id| seen.contains_key(id))
        })
        .await;
    let seen = confirmed(&mails);
    let lost = expected.iter().filter(|id| !seen.contains_key(id)).count();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    println!(
        "{backend}: confirmations of {} acknowledged bookings: lost {lost}, duplicates \
         {duplicates}, all in after {:?} from the last restart",
        expected.len(),
        started.elapsed()
    );
    assert_eq!(lost, 0);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged_sqlite() {
    if enabled("sigkill sqlite") {
        killed_twenty_times_under_load(Data::fresh(None).await.unwrap(), "sqlite").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged_postgres() {
    if enabled("sigkill postgres")
        && let Some(url) = postgres_url("sigkill postgres")
    {
        killed_twenty_times_under_load(Data::fresh(Some(&url)).await.unwrap(), "postgres").await;
    }
}
