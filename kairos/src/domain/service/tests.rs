//! Tests of the service's rules: what a spec accepts and refuses, and its template.

use super::*;

#[test]
fn a_name_is_all_a_new_service_needs() {
    let spec = ServiceSpec::defaults()
        .apply(ServiceChanges {
            name: Some("  Yoga  ".into()),
            ..Default::default()
        })
        .expect("valid");
    assert_eq!(spec.name, "Yoga");
    assert_eq!(spec.duration_minutes, 60);
}

#[test]
fn every_bad_field_is_reported() {
    let errors = ServiceSpec::defaults()
        .apply(ServiceChanges {
            capacity: Some(0),
            duration_minutes: Some(2000),
            time_zone: Some("Mars/Olympus".into()),
            ..Default::default()
        })
        .expect_err("invalid");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "durationMinutes", "capacity", "timeZone"]);
}

#[test]
fn reminders_are_few_in_range_and_distinct() {
    let with = |minutes: Vec<i64>| {
        ServiceSpec::defaults().apply(ServiceChanges {
            name: Some("Yoga".into()),
            reminder_minutes: Some(minutes),
            ..Default::default()
        })
    };
    assert_eq!(ServiceSpec::defaults().reminder_minutes, [1440]);
    assert!(with(vec![]).is_ok());
    assert!(with(vec![1, 43_200, 60]).is_ok());
    for bad in [vec![0], vec![43_201], vec![60, 60], vec![1, 2, 3, 4]] {
        let errors = with(bad.clone()).expect_err("refused");
        assert_eq!(errors[0].field, "reminderMinutes", "{bad:?}");
    }
}
