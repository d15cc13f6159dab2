//! Tests of working hours: the rule's checks and the sessions it makes.

use super::*;

fn rule(from: &str, to: &str, slot: i64) -> Availability {
    Availability {
        weekly: vec![WeeklyHours {
            weekdays: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ],
            from: from.into(),
            to: to.into(),
        }],
        slot_minutes: slot,
        gap_minutes: 0,
        horizon_days: 28,
        exceptions: Vec::new(),
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("time")
}

fn day(text: &str) -> civil::Date {
    text.parse().expect("date")
}

#[test]
fn a_skipped_hour_makes_no_slot_and_a_repeated_one_makes_one() {
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    // 2027-03-28: 02:00 local does not exist (clocks go 02:00 -> 03:00).
    let spring = rule("01:00", "04:00", 60).slots(&berlin, day("2027-03-28"), day("2027-03-28"));
    let starts: Vec<_> = spring.iter().map(|s| s.0).collect();
    assert_eq!(
        starts,
        [utc("2027-03-28T00:00:00Z"), utc("2027-03-28T01:00:00Z")]
    );
    // 2027-10-31: 02:00 local happens twice; the first (CEST, UTC+2) is taken.
    let autumn = rule("01:00", "04:00", 60).slots(&berlin, day("2027-10-31"), day("2027-10-31"));
    let starts: Vec<_> = autumn.iter().map(|s| s.0).collect();
    assert_eq!(
        starts,
        [
            utc("2027-10-30T23:00:00Z"),
            utc("2027-10-31T00:00:00Z"),
            utc("2027-10-31T02:00:00Z")
        ]
    );
}

#[test]
fn new_york_and_lord_howe_by_hand() {
    let starts = |zone: &str, date: &str| -> Vec<DateTime<Utc>> {
        let zone = TimeZone::get(zone).expect("zone");
        rule("01:00", "04:00", 60)
            .slots(&zone, day(date), day(date))
            .into_iter()
            .map(|s| s.0)
            .collect()
    };
    // New York springs forward at 02:00 EST on 14 March 2027 and falls back at 02:00 EDT
    // on 7 November: 01:00 happens twice, the first at UTC-4.
    assert_eq!(
        starts("America/New_York", "2027-03-14"),
        [utc("2027-03-14T06:00:00Z"), utc("2027-03-14T07:00:00Z")]
    );
    assert_eq!(
        starts("America/New_York", "2027-11-07"),
        [
            utc("2027-11-07T05:00:00Z"),
            utc("2027-11-07T07:00:00Z"),
            utc("2027-11-07T08:00:00Z")
        ]
    );
    // Lord Howe moves half an hour: 02:00 to 02:30 on 3 October 2027 (+10:30 to +11).
    assert_eq!(
        starts("Australia/Lord_Howe", "2027-10-03"),
        [utc("2027-10-02T14:30:00Z"), utc("2027-10-02T16:00:00Z")]
    );
}

#[test]
fn half_hour_zones_and_gaps() {
    let kolkata = TimeZone::get("Asia/Kolkata").expect("zone");
    let mut with_gap = rule("09:00", "11:00", 45);
    with_gap.gap_minutes = 15;
    let slots = with_gap.slots(&kolkata, day("2027-01-04"), day("2027-01-04"));
    assert_eq!(
        slots,
        [
            (utc("2027-01-04T03:30:00Z"), utc("2027-01-04T04:15:00Z")),
            (utc("2027-01-04T04:30:00Z"), utc("2027-01-04T05:15:00Z")),
        ]
    );
    assert!(
        rule("09:00", "09:20", 30)
            .slots(&kolkata, day("2027-01-04"), day("2027-01-04"))
            .is_empty()
    );
}

#[test]
fn an_exception_closes_a_day_or_replaces_its_hours() {
    let mut hours = rule("09:00", "12:00", 60);
    hours.exceptions = vec![
        DateException {
            date: "2027-01-05".parse().expect("date"),
            closed: Some(true),
            from: None,
            to: None,
        },
        DateException {
            date: "2027-01-06".parse().expect("date"),
            closed: None,
            from: Some("14:00".into()),
            to: Some("15:00".into()),
        },
    ];
    let slots = hours.slots(&TimeZone::UTC, day("2027-01-05"), day("2027-01-06"));
    assert_eq!(
        slots,
        [(utc("2027-01-06T14:00:00Z"), utc("2027-01-06T15:00:00Z"))]
    );
}

#[test]
fn bad_rules_are_refused_field_by_field() {
    let mut bad = rule("10:00", "09:00", 2);
    bad.horizon_days = 400;
    bad.exceptions = vec![DateException {
        date: "2027-01-05".parse().expect("date"),
        closed: Some(true),
        from: Some("09:00".into()),
        to: None,
    }];
    let fields: Vec<String> = bad
        .checked()
        .expect_err("refused")
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        ["weekly[0]", "slotMinutes", "horizonDays", "exceptions[0]"]
    );
    assert!(rule("09:00", "17:00", 30).checked().is_ok());
    assert!(rule("9:00", "17:00", 30).checked().is_err());
    let mut dense = rule("00:00", "23:55", 5);
    dense.horizon_days = 365;
    assert_eq!(dense.most_sessions(), 287 * 365);
    assert_eq!(rule("09:00", "17:00", 30).most_sessions(), 16 * 28);
}
