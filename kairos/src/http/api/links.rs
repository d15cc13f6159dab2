//! The OpenAPI document's links: from what an answer created to what can be done with it next
//! (service → sessions → booking → cancel), so a client or Schemathesis's stateful phase can
//! walk real bookings from the document alone.

use serde_json::{Value, json};
use utoipa::openapi::{OpenApi, RefOr, link::LinkBuilder, path::Operation};

/// One link: after `from` answers `status`, `to` can be called with these values, which are
/// runtime expressions (`$request.path.userID`, `$response.body#/id`, ...).
struct Link {
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: Option<fn() -> Value>,
}

const USER: (&str, &str) = ("userID", "$request.path.userID");
const NEW_SERVICE: (&str, &str) = ("serviceID", "$response.body#/id");
const SAME_SERVICE: (&str, &str) = ("serviceID", "$request.path.serviceID");
const FIRST_SESSION: (&str, &str) = ("sessionID", "$response.body#/0/id");
const NEW_BOOKING: (&str, &str) = ("bookingID", "$response.body#/id");
const SAME_BOOKING: (&str, &str) = ("bookingID", "$request.path.bookingID");

const fn link(
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> Link {
    Link {
        from,
        status,
        name,
        to,
        parameters,
        body: None,
    }
}

impl Link {
    /// This link with a request body to send.
    const fn with_body(mut self, body: fn() -> Value) -> Self {
        self.body = Some(body);
        self
    }
}

static LINKS: &[Link] = &[
    // Accounts: a new account can log in; a login can refresh and open its home page.
    link("sign_up", "201", "LogIn", "log_in", &[]).with_body(
        || json!({"email": "$request.body#/email", "password": "$request.body#/password"}),
    ),
    link("log_in", "200", "Refresh", "refresh", &[])
        .with_body(|| json!({"token": "$response.body#/refreshToken"})),
    link(
        "log_in",
        "200",
        "Home",
        "home",
        &[("userID", "$response.body#/id")],
    ),
    link("refresh", "200", "RefreshAgain", "refresh", &[])
        .with_body(|| json!({"token": "$response.body#/refreshToken"})),
    // A provider's service: publish a draft, add sessions, edit, look. No link withdraws it:
    // the `DELETE` that withdraws a service keeps it (archived) once it has bookings, which
    // Schemathesis's use-after-free check would take for a delete that did not happen.
    link("save_draft", "201", "PublishDraft", "publish", &[USER])
        .with_body(|| json!({"id": "$response.body#/id"})),
    link(
        "save_draft",
        "201",
        "EditDraft",
        "update_service_patch",
        &[USER, NEW_SERVICE],
    ),
    link(
        "publish",
        "201",
        "AddSessions",
        "add_sessions",
        &[USER, NEW_SERVICE],
    ),
    link(
        "publish",
        "201",
        "EditService",
        "update_service_patch",
        &[USER, NEW_SERVICE],
    ),
    link(
        "publish",
        "201",
        "ServiceDetails",
        "service_details",
        &[USER, NEW_SERVICE],
    ),
    link(
        "publish",
        "201",
        "InCatalogue",
        "public_service",
        &[NEW_SERVICE],
    ),
    link(
        "add_sessions",
        "201",
        "EditSession",
        "edit_session",
        &[USER, SAME_SERVICE, FIRST_SESSION],
    ),
    link(
        "add_sessions",
        "201",
        "CancelSession",
        "cancel_session",
        &[USER, SAME_SERVICE, FIRST_SESSION],
    ),
    link(
        "add_sessions",
        "201",
        "SessionsInCatalogue",
        "public_sessions",
        &[SAME_SERVICE],
    ),
    // The catalogue leads to a session and a booking of it.
    link(
        "catalogue",
        "200",
        "Service",
        "public_service",
        &[("serviceID", "$response.body#/0/id")],
    ),
    link(
        "catalogue",
        "200",
        "Sessions",
        "public_sessions",
        &[("serviceID", "$response.body#/0/id")],
    ),
    link("public_sessions", "200", "Book", "book", &[])
        .with_body(|| json!({"sessionId": "$response.body#/0/id"})),
    // A booking: look at it, move it, cancel it. The cancel is the POST form: the `DELETE`
    // form cancels too and, by the contract, keeps the booking (Cancelled, still readable),
    // which Schemathesis's use-after-free check would take for a delete that did not happen.
    link(
        "book",
        "201",
        "Booking",
        "booking_details",
        &[USER, NEW_BOOKING],
    ),
    link(
        "book",
        "201",
        "Cancel",
        "cancel_booking_post",
        &[USER, NEW_BOOKING],
    ),
    link(
        "book",
        "201",
        "Move",
        "update_booking_patch",
        &[USER, NEW_BOOKING],
    ),
    link("book", "201", "Schedule", "schedule", &[USER]),
    link(
        "cancel_booking_post",
        "200",
        "CancelledBooking",
        "booking_details",
        &[USER, SAME_BOOKING],
    ),
];

/// Adds every link of the table to the answers it starts from. A link naming an operation or
/// status the document lacks is a mistake in the table: the `links_name_real_operations` test
/// catches it.
pub fn add_links(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            add_links_to(operation);
        }
    }
}

fn add_links_to(operation: &mut Operation) {
    let Some(id) = operation.operation_id.clone() else {
        return;
    };
    for link in LINKS.iter().filter(|link| link.from == id) {
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(link.status) else {
            continue;
        };
        let mut builder = LinkBuilder::new().operation_id(link.to);
        for (name, value) in link.parameters {
            builder = builder.parameter(*name, *value);
        }
        builder = builder.request_body(link.body.map(|body| body()));
        response
            .links
            .insert(link.name.to_owned(), RefOr::T(builder.build()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_real_operations() {
        let (_, doc) = super::super::routes();
        let operations: Vec<(String, Vec<String>)> = doc
            .paths
            .paths
            .values()
            .flat_map(|item| [&item.get, &item.post, &item.put, &item.patch, &item.delete])
            .flatten()
            .map(|op| {
                let statuses = op.responses.responses.keys().cloned().collect();
                (op.operation_id.clone().unwrap_or_default(), statuses)
            })
            .collect();
        let find = |id: &str| operations.iter().find(|(op, _)| op == id);
        for link in LINKS {
            let from = find(link.from).unwrap_or_else(|| panic!("no operation {}", link.from));
            assert!(
                from.1.iter().any(|status| status == link.status),
                "{} does not answer {}",
                link.from,
                link.status
            );
            assert!(find(link.to).is_some(), "no operation {}", link.to);
        }
    }
}
