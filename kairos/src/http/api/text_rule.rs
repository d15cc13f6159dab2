//! The one rule every free-text field shares, written into the OpenAPI document: no NUL
//! characters (PostgreSQL cannot store them, so both backends refuse them with a 422).

use utoipa::openapi::{
    OpenApi, RefOr, Schema, Type,
    path::Operation,
    schema::{ArrayItems, SchemaType},
};

/// The pattern a free-text field follows: any text without a NUL character.
pub const NO_NUL: &str = r"^[^\x00]*$";

/// Gives every plain string (one without a format, an enumeration or a pattern of its own) in
/// the document's schemas and operation parameters the [`NO_NUL`] pattern, so a client (or a
/// fuzzer) can tell from the document alone that such text is refused.
pub fn forbid_nul(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        components.schemas.values_mut().for_each(in_schema);
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            in_operation(operation);
        }
    }
}

fn in_operation(operation: &mut Operation) {
    let parameters = operation.parameters.iter_mut().flatten();
    for parameter in parameters {
        if let RefOr::T(parameter) = parameter
            && let Some(schema) = parameter.schema.as_mut()
        {
            in_schema(schema);
        }
    }
    let bodies = operation
        .request_body
        .iter_mut()
        .filter_map(|body| match body {
            RefOr::T(body) => Some(body.content.values_mut()),
            RefOr::Ref(_) => None,
        });
    for content in bodies.flatten() {
        if let RefOr::T(content) = content
            && let Some(schema) = content.schema.as_mut()
        {
            in_schema(schema);
        }
    }
}

fn in_schema(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            if is_plain_text(&object.schema_type)
                && object.format.is_none()
                && object.enum_values.is_none()
                && object.pattern.is_none()
            {
                object.pattern = Some(NO_NUL.to_owned());
            }
            object.properties.values_mut().for_each(in_schema);
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                in_schema(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(in_schema),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(in_schema),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(in_schema),
        _ => {}
    }
}

fn is_plain_text(kind: &SchemaType) -> bool {
    match kind {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}
