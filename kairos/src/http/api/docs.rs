//! The OpenAPI document's frame: its info, the bearer scheme, and the error responses routes
//! share. The paths come from each handler's `#[utoipa::path]`.

use std::collections::BTreeMap;

use utoipa::{
    Modify, OpenApi,
    openapi::{
        AllOfBuilder, Content, ObjectBuilder, Ref, RefOr, ResponseBuilder, Schema, Type,
        response::Response,
        schema::{AdditionalProperties, AnyOfBuilder, OneOfBuilder},
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};

use crate::{domain::FieldError, http::problem::Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kairos",
        description = "A self-hosted booking server. Errors are RFC 9457 problem details \
            (`application/problem+json`) with a stable `code`; validation failures list \
            `errors: [{field, message}]`. Lists are JSON arrays paged with `limit` (default 50, \
            at most 200) and `cursor`; a next page is announced in `Link: <...>; rel=\"next\"`. \
            Ids are UUIDs; paths take them hyphenated or as 32 hex digits. Request bodies take \
            no fields beyond those documented: an unknown field is a 422."
    ),
    modifiers(&BearerScheme),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "accounts", description = "Signing up and changing your account"),
        (name = "tokens", description = "Logging in and out, refreshing and revoking tokens"),
        (name = "admin", description = "Accounts as an admin sees them"),
        (name = "home", description = "A user's home page data"),
        (name = "services", description = "A provider's services; a customer's subscriptions"),
        (name = "sessions", description = "A provider's sessions: one, or a weekly series"),
        (name = "catalogue", description = "Published services and their sessions; no sign-in"),
        (name = "bookings", description = "Booking, cancelling, moving and completing"),
        (name = "schedule", description = "Schedules and the iCalendar feed"),
        (name = "webhooks", description = "Signed webhooks (Standard Webhooks v1): a provider's \
            get its own services' events, an admin's every event, from the moment the webhook \
            is added. Only a 2xx within 10 s succeeds (redirects are not followed); retries \
            after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (longer if \
            `Retry-After` asks, at most 24 h); 410 turns the webhook off, and so do three days \
            of failures (its owner is mailed). URLs into loopback, private, link-local and \
            similar networks are refused (`webhook_url_blocked`)."),
        (name = "availability", description = "Working hours: a rule that makes ordinary \
            sessions slot by slot in the service's time zone (a local time a DST change skips \
            makes none; a repeated one makes one, the first)."),
        (name = "waitlist", description = "Waiting for a place in a full session: a freed \
            place goes to the first in line in the transaction that frees it, as a Pending \
            booking (`booking.created` with `source: \"waitlist\"`). A list that ends with \
            people on it tells each of them: a `waitlist.ended` event (their entry with its \
            last `position`, and a `reason`: `session_cancelled`, `waitlist_closed` or \
            `booking_closed`) and a mail (kind `waitlist_ended`)."),
    )
)]
pub struct ApiDoc;

pub const BEARER: &str = "bearer";
/// The scheme of `/api/refresh` and `/api/revoke`: a refresh token, not an access token.
pub const REFRESH_TOKEN: &str = "refreshToken";

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "The access token from `POST /api/login` or `POST /api/refresh`; it lasts an hour."
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        let mut refresh = Http::new(HttpAuthScheme::Bearer);
        refresh.description = Some(
            "A refresh token from `POST /api/login` or `POST /api/refresh` (opaque; it lasts 60 \
             days and works once). It may come in the body as `{\"token\"}` instead, not both."
                .to_owned(),
        );
        components.add_security_scheme(REFRESH_TOKEN, SecurityScheme::Http(refresh));
    }
}

/// What the derived document cannot say by itself, added once every route is in: the links
/// between operations, and the bodies that need one field or another. `null` stands for a
/// field left out everywhere, so "given" means present and not `null`.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    super::links::add_links(doc);
    // Before the rules below: their "field given" stubs are not the fields themselves.
    super::text_rule::forbid_nul(doc);
    if let Some(components) = doc.components.as_mut() {
        let schemas = &mut components.schemas;
        let rules = [
            (
                "ServiceDraft",
                &[("name", Type::String), ("id", Type::String)][..],
                Combine::AtLeastOne,
            ),
            (
                "Repeat",
                &[("until", Type::String), ("count", Type::Integer)][..],
                Combine::ExactlyOne,
            ),
            (
                "AccountChanges",
                &[
                    ("email", Type::String),
                    ("password", Type::String),
                    ("emailNotifications", Type::Boolean),
                ][..],
                Combine::AtLeastOne,
            ),
            (
                "UserChangesByAdmin",
                &[("role", Type::String), ("isChirpyRed", Type::Boolean)][..],
                Combine::AtLeastOne,
            ),
        ];
        for (name, fields, combine) in rules {
            require_some_of(schemas, name, fields, combine);
        }
        split_booking_update(schemas);
    }
}

/// A booking update has two shapes: the customer's (`sessionId` and/or `notes`, as the derive
/// wrote them) and the provider's (`status: "Completed"`).
fn split_booking_update(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let Some(RefOr::T(Schema::Object(derived))) = schemas.get("BookingUpdate") else {
        return;
    };
    let mut customer = ObjectBuilder::new()
        .title(Some("The customer: move the booking and/or edit its notes"))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for field in ["sessionId", "notes"] {
        if let Some(property) = derived.properties.get(field) {
            customer = customer.property(field, property.clone());
        }
    }
    let customer = some_of(
        customer.build().into(),
        &[("sessionId", Type::String), ("notes", Type::String)],
        Combine::AtLeastOne,
    );
    let provider = ObjectBuilder::new()
        .title(Some("The provider: mark the booking Completed"))
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["Completed"])),
        )
        .required("status")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let shapes = OneOfBuilder::new()
        .description(derived.description.clone())
        .item(customer)
        .item(provider)
        .build();
    schemas.insert("BookingUpdate".to_owned(), RefOr::T(Schema::OneOf(shapes)));
}

#[derive(Clone, Copy)]
enum Combine {
    AtLeastOne,
    ExactlyOne,
}

/// Requires one (or exactly one) of some fields of a named body to be given: a rule the derive
/// cannot write.
fn require_some_of(
    schemas: &mut BTreeMap<String, RefOr<Schema>>,
    name: &str,
    fields: &[(&str, Type)],
    combine: Combine,
) {
    if let Some(schema) = schemas.remove(name) {
        schemas.insert(name.to_owned(), some_of(schema, fields, combine).into());
    }
}

/// `schema`, with one (or exactly one) of the fields given.
fn some_of(schema: RefOr<Schema>, fields: &[(&str, Type)], combine: Combine) -> Schema {
    let given = fields.iter().map(|(field, kind)| {
        ObjectBuilder::new()
            .required(*field)
            .property(*field, ObjectBuilder::new().schema_type(kind.clone()))
    });
    let rule = match combine {
        Combine::AtLeastOne => {
            Schema::AnyOf(given.fold(AnyOfBuilder::new(), |b, f| b.item(f)).build())
        }
        Combine::ExactlyOne => {
            Schema::OneOf(given.fold(OneOfBuilder::new(), |b, f| b.item(f)).build())
        }
    };
    Schema::AllOf(AllOfBuilder::new().item(schema).item(rule).build())
}

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
            )
            .build(),
    )
}

/// Declares a set of problem responses that `#[utoipa::path(responses(...))]` can name.
macro_rules! problem_responses {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $description:literal),+ $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                [$(($status, $description)),+]
                    .into_iter()
                    .map(|(status, description)| (status.to_owned(), problem(description)))
                    .collect()
            }
        }
    };
}

problem_responses!(
    /// Refusals of a JSON body.
    BodyErrors {
        "400" => "The body is not JSON, or a path id or query parameter does not parse",
        "408" => "The body did not arrive within 10 seconds",
        "413" => "The body is over 64 KiB",
        "415" => "The body is not sent as `application/json`",
        "422" => "The body does not validate: `errors` names each field",
    }
);

problem_responses!(
    /// Refusals of a path id or query.
    InputErrors {
        "400" => "A path id or query parameter does not parse",
        "422" => "A query parameter is out of range",
    }
);

problem_responses!(
    /// Refusals of the caller.
    AuthErrors {
        "401" => "No valid access token (see `WWW-Authenticate`)",
        "403" => "Signed in, but not allowed to do this",
    }
);

problem_responses!(
    /// The thing is not there, or the caller may not see it.
    NotFound {
        "404" => "No such thing, or not one the caller may see",
    }
);

problem_responses!(
    /// The database is down or cannot write; retry after `Retry-After`.
    Unavailable {
        "503" => "The database is unavailable; retry after `Retry-After` seconds",
    }
);

problem_responses!(
    /// Too many attempts.
    RateLimited {
        "429" => "Too many attempts; retry after `Retry-After` seconds",
    }
);

/// Joins response sets into one that `#[utoipa::path(responses(...))]` can name.
macro_rules! joined_responses {
    ($(#[$doc:meta])* $name:ident = $first:ident $(+ $part:ident)*) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut all = <$first as utoipa::IntoResponses>::responses();
                $(all.extend(<$part as utoipa::IntoResponses>::responses());)*
                all
            }
        }
    };
}

joined_responses!(
    /// What a signed-in read of a user's path can be refused with: the caller, the path or
    /// query, the thing, the database.
    ReadErrors = AuthErrors + InputErrors + NotFound + Unavailable
);

joined_responses!(
    /// What a signed-in change with a JSON body can be refused with.
    WriteErrors = BodyErrors + AuthErrors + NotFound + Unavailable
);
