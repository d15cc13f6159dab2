//! Schemas of input fields that a derive cannot describe by itself, for the OpenAPI document
//! the API serves.

use utoipa::openapi::{Array, ArrayBuilder, Object, ObjectBuilder, Type, schema::SchemaType};

use crate::domain::session::{INFO_ITEM_MAX, INFO_ITEMS_MAX};

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

/// `additionalInformation`: up to 20 lines of up to 500 characters.
pub fn information_lines() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(INFO_ITEM_MAX)),
        )
        .max_items(Some(INFO_ITEMS_MAX))
        .build()
}
