//! The OpenAPI document's frame: its info, the bearer scheme, and the error responses routes
//! share. The paths come from each handler's `#[utoipa::path]`.

use std::collections::BTreeMap;

use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, Ref, RefOr, ResponseBuilder,
        response::Response,
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};

use crate::{domain::FieldError, error::Problem};

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
    )
)]
pub struct ApiDoc;

pub const BEARER: &str = "bearer";

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
    }
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
