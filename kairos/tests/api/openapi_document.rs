//! The OpenAPI document and its docs page: every route with the statuses it must declare, every
//! response described, bodies that refuse unknown fields, cursors with a pattern, and links.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    the_openapi_document_describes_every_route,
    the_docs_page_is_served_from_the_binary,
);

/// Every route with the statuses it must declare (at least these).
#[rustfmt::skip]
const DOCUMENTED: &[(&str, &str, &[&str])] = &[
    ("/api/users", "post", &["201", "400", "409", "413", "415", "422"]),
    ("/api/users", "put", &["200", "401", "409", "422"]),
    ("/api/users", "get", &["200", "401", "403"]),
    ("/api/users/{userID}", "patch", &["200", "404", "409", "422"]),
    ("/api/login", "post", &["200", "401", "422", "429"]),
    ("/api/refresh", "post", &["200", "401"]),
    ("/api/revoke", "post", &["204", "401"]),
    ("/api/logout", "post", &["204", "401"]),
    ("/api/logout/{userID}", "post", &["204", "401", "403", "404"]),
    ("/api/admin/outbox", "get", &["200", "400", "401", "403"]),
    ("/api/admin/outbox/{messageID}/retry", "post", &["202", "401", "403", "404", "409"]),
    ("/api/user/{adminID}/create", "post", &["201", "401", "403", "409", "422"]),
    ("/api/user/{userID}", "get", &["200", "400", "401", "403", "404"]),
    ("/api/services", "get", &["200", "400"]),
    ("/api/services/{serviceID}", "get", &["200", "404"]),
    ("/api/services/{serviceID}/sessions", "get", &["200", "404", "422"]),
    ("/api/user/{userID}/services", "get", &["200", "401", "403"]),
    ("/api/user/{userID}/services/create", "get", &["200", "401", "403"]),
    ("/api/user/{userID}/services/create/save", "post", &["200", "201", "409", "422"]),
    ("/api/user/{userID}/services/create/publish", "post", &["200", "201", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}", "get", &["200", "401", "403", "404"]),
    ("/api/user/{userID}/services/{serviceID}", "patch", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}", "delete", &["200", "404", "422"]),
    ("/api/user/{userID}/services/{serviceID}/update", "post", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}/delete", "post", &["200", "404", "422"]),
    ("/api/user/{userID}/services/{serviceID}/sessions", "post", &["201", "404", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", "patch", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}/sessions/{sessionID}", "delete", &["200", "404", "422"]),
    ("/api/user/{userID}/book", "post", &["201", "401", "403", "404", "409", "422"]),
    ("/api/user/{userID}/bookings", "get", &["200", "401", "403"]),
    ("/api/user/{userID}/bookings/all", "get", &["200", "401", "403", "422"]),
    ("/api/user/{userID}/bookings/{bookingID}", "get", &["200", "404"]),
    ("/api/user/{userID}/bookings/{bookingID}", "patch", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/bookings/{bookingID}", "delete", &["204", "404", "409", "422"]),
    ("/api/user/{userID}/bookings/{bookingID}/cancel", "post", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/bookings/{bookingID}/update", "post", &["200", "404", "409", "422"]),
    ("/api/user/{userID}/schedule", "get", &["200", "401", "403"]),
    ("/api/user/{userID}/schedule/{serviceID}", "get", &["200", "404"]),
    ("/api/user/{userID}/schedule/feed", "post", &["200", "401", "403"]),
    ("/user/{userID}/schedule.ics", "get", &["200", "304", "404"]),
    ("/api/user/{userID}/webhooks", "post", &["201", "401", "403", "404", "422"]),
    ("/api/user/{userID}/webhooks", "get", &["200", "401", "403", "404"]),
    ("/api/user/{userID}/webhooks/{webhookID}", "get", &["200", "401", "403", "404"]),
    ("/api/user/{userID}/webhooks/{webhookID}", "patch", &["200", "401", "403", "404", "422"]),
    ("/api/user/{userID}/webhooks/{webhookID}", "delete", &["204", "401", "403", "404"]),
    ("/api/user/{userID}/webhooks/{webhookID}/rotate-secret", "post", &["200", "401", "404"]),
    ("/api/user/{userID}/webhooks/{webhookID}/test", "post", &["202", "401", "404", "409"]),
    ("/api/user/{userID}/webhooks/{webhookID}/deliveries", "get", &["200", "401", "404"]),
    ("/api/user/{userID}/webhooks/{webhookID}/deliveries/{deliveryID}/redeliver", "post", &["202", "401", "404", "409"]),
    ("/api/user/{userID}/waitlist", "post", &["201", "401", "403", "404", "409", "422"]),
    ("/api/user/{userID}/waitlist", "get", &["200", "401", "403", "404", "422"]),
    ("/api/user/{userID}/waitlist/{entryID}", "delete", &["204", "401", "403", "404"]),
    ("/api/user/{userID}/services/{serviceID}/availability", "put", &["200", "401", "403", "404", "409", "422"]),
    ("/api/user/{userID}/services/{serviceID}/availability", "get", &["200", "401", "403", "404"]),
    ("/api/user/{userID}/services/{serviceID}/availability", "delete", &["200", "401", "403", "404"]),
];

async fn the_openapi_document_describes_every_route(app: TestApp) {
    let doc: Value = app.anonymous().get_json("/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method, statuses) in DOCUMENTED {
        let responses = &doc["paths"][path][method]["responses"];
        for status in *statuses {
            assert!(
                responses.get(*status).is_some(),
                "{method} {path} lacks {status}"
            );
        }
    }
    let routes: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        routes,
        DOCUMENTED.len(),
        "every route is documented, and only those"
    );
    let signup = &doc["components"]["schemas"]["Credentials"];
    assert_eq!(
        signup["additionalProperties"], false,
        "unknown fields are refused: {signup}"
    );
    every_body_refuses_unknown_fields(&doc);
    every_response_is_described(&doc);
    every_cursor_has_a_pattern(&doc);
    free_text_says_it_refuses_nul(&doc);
    links_lead_from_a_booking_to_what_can_be_done_with_it(&doc);
    assert_eq!(
        doc["paths"]["/api/refresh"]["post"]["security"][0],
        json!({ "refreshToken": [] }),
        "a refresh token is not the access token"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["refreshToken"]["scheme"],
        "bearer"
    );
    let draft = &doc["components"]["schemas"]["ServiceDraft"];
    assert_eq!(draft["allOf"][1]["anyOf"][0]["required"], json!(["name"]));
    assert_eq!(draft["allOf"][1]["anyOf"][1]["required"], json!(["id"]));
    let update = &doc["components"]["schemas"]["BookingUpdate"]["oneOf"];
    assert_eq!(update.as_array().map(Vec::len), Some(2), "{update}");
}

/// The server refuses text with a NUL character (PostgreSQL cannot store one); the document
/// says so with a pattern, so a client or fuzzer knows before it sends.
fn free_text_says_it_refuses_nul(doc: &Value) {
    let no_nul = r"^[^\x00]*$";
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["BookRequest"]["properties"]["notes"]["pattern"],
        no_nul
    );
    assert_eq!(
        schemas["CancelRequest"]["properties"]["reason"]["pattern"],
        no_nul
    );
    let search = doc["paths"]["/api/services"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "q")
        .expect("the search parameter");
    assert_eq!(search["schema"]["pattern"], no_nul);
    let name = schemas["ServiceDraft"]["allOf"][0]["properties"]["name"]["pattern"]
        .as_str()
        .unwrap_or_default();
    assert!(name.contains(r"\x00"), "a name refuses NUL too: {name}");
}

/// OpenAPI requires a `description` on every response; client generators refuse a document
/// without one (and `.ci/run` checks the whole document with an independent validator).
fn every_response_is_described(doc: &Value) {
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.trim_start_matches("#/components/responses/");
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                let described = response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty());
                assert!(described, "{method} {path} {status} has no description");
            }
        }
    }
}

/// Resolves `{"$ref": "#/components/schemas/X"}` against the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Every object schema a request body is made of: through `$ref`, each shape of a `oneOf`, and
/// the first part of an `allOf` (the rest are the rules the server adds: "give `name` or `id`").
fn object_schemas<'a>(doc: &'a Value, schema: &'a Value, found: &mut Vec<&'a Value>) {
    let schema = resolve(doc, schema);
    for shape in schema["oneOf"].as_array().into_iter().flatten() {
        object_schemas(doc, shape, found);
    }
    if let Some(first) = schema["allOf"].get(0) {
        object_schemas(doc, first, found);
    }
    if schema.get("properties").is_some() {
        found.push(schema);
    }
}

fn every_body_refuses_unknown_fields(doc: &Value) {
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(schema) =
                operation["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            for status in ["400", "408", "413", "415", "422"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} takes a body but does not declare {status}"
                );
            }
            let mut objects = Vec::new();
            object_schemas(doc, schema, &mut objects);
            assert!(
                !objects.is_empty(),
                "{method} {path}: no object schema in {schema}"
            );
            for object in objects {
                assert_eq!(
                    object["additionalProperties"], false,
                    "{method} {path} takes unknown fields: {object}"
                );
            }
            bodies += 1;
        }
    }
    assert_eq!(bodies, 21, "every operation that takes a JSON body");
}

fn every_cursor_has_a_pattern(doc: &Value) {
    let mut cursors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["name"] == "cursor" {
                    assert!(
                        parameter["schema"]["pattern"].is_string(),
                        "{method} {path}: a cursor any string fits"
                    );
                    cursors += 1;
                }
            }
        }
    }
    assert_eq!(cursors, 12, "every paged list takes a cursor");
}

fn links_lead_from_a_booking_to_what_can_be_done_with_it(doc: &Value) {
    let mut operation_ids = Vec::new();
    let mut links = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            operation_ids.push(operation["operationId"].as_str().unwrap_or_default());
            for response in operation["responses"].as_object().into_iter().flatten() {
                for link in response.1["links"].as_object().into_iter().flatten() {
                    links.push(link.1);
                }
            }
        }
    }
    for link in &links {
        let target = link["operationId"].as_str().unwrap_or_default();
        assert!(operation_ids.contains(&target), "a link to nowhere: {link}");
    }
    let booked = &doc["paths"]["/api/user/{userID}/book"]["post"]["responses"]["201"]["links"];
    for (name, target) in [
        ("Booking", "booking_details"),
        ("Cancel", "cancel_booking_post"),
    ] {
        assert_eq!(booked[name]["operationId"], target, "{booked}");
        assert_eq!(
            booked[name]["parameters"]["bookingID"],
            "$response.body#/id"
        );
    }
    let sessions = &doc["paths"]["/api/services/{serviceID}/sessions"]["get"]["responses"]["200"];
    assert_eq!(
        sessions["links"]["Book"]["requestBody"],
        json!({ "sessionId": "$response.body#/0/id" })
    );
}

async fn the_docs_page_is_served_from_the_binary(app: TestApp) {
    let response = app.request(Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("swagger-ui"));
}
