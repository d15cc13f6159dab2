//! Schemas of input fields that a derive cannot describe by itself, for the OpenAPI document
//! the API serves.

use utoipa::openapi::{Array, ArrayBuilder, Object, ObjectBuilder, Type, schema::SchemaType};

use crate::domain::{
    service::{REMINDER_RANGE, REMINDERS_MAX},
    session::{INFO_ITEM_MAX, INFO_ITEMS_MAX},
};

/// An optional time zone field: one of the IANA names the server's time zone database knows,
/// so a client (or a fuzzer) can tell a valid value from the document alone; `null` leaves it
/// out.
pub fn time_zone_name() -> Object {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .collect();
    names.sort();
    let values = names
        .into_iter()
        .map(serde_json::Value::String)
        .chain([serde_json::Value::Null]);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some("An IANA time zone name"))
        .examples(["Europe/Paris"])
        .enum_values(Some(values))
        .build()
}

/// An optional list: `null` leaves it out, as for every other optional field.
fn absent_or_array() -> SchemaType {
    SchemaType::from_iter([Type::Array, Type::Null])
}

/// `additionalInformation`: up to 20 lines of up to 500 characters.
pub fn information_lines() -> Array {
    ArrayBuilder::new()
        .schema_type(absent_or_array())
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(INFO_ITEM_MAX)),
        )
        .max_items(Some(INFO_ITEMS_MAX))
        .build()
}

/// `reminderMinutes`: up to 3 distinct whole minutes before the start, each 1 to 43,200.
pub fn reminder_minutes() -> Array {
    ArrayBuilder::new()
        .schema_type(absent_or_array())
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(REMINDER_RANGE.0 as f64))
                .maximum(Some(REMINDER_RANGE.1 as f64)),
        )
        .max_items(Some(REMINDERS_MAX))
        .unique_items(true)
        .examples([serde_json::json!([1440, 60])])
        .build()
}
