//! The tables the benchmark prints, and its JSON.

use super::load::Outcome;

pub fn print(outcome: &Outcome) {
    println!("\n== {} ==", outcome.name);
    println!(
        "{:>12} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "RSS MB"
    );
    println!(
        "{:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10}",
        outcome.rate(),
        outcome.ms(0.5),
        outcome.ms(0.9),
        outcome.ms(0.99),
        outcome.max_ms(),
        outcome
            .server_rss_mb
            .map_or_else(|| "-".to_owned(), |mb| format!("{mb:.0}"))
    );
    let statuses: Vec<String> = outcome
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!(
        "requests {} in {:.1} s; statuses {}; no answer {}",
        outcome.requests,
        outcome.seconds,
        statuses.join(", "),
        outcome.failures
    );
    for (key, value) in &outcome.notes {
        println!("{key}: {value}");
    }
}
