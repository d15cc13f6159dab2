//! The test kit, as the tests here name it.

pub use kairos_testkit::*;

use std::io::BufReader;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::Value;

/// One part (header or claims) of a JWT, decoded.
pub fn decode_jwt_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// What `GET /api/user/{id}` answers `token` about `login`'s user.
pub async fn home_status(app: &TestApp, login: &Login, token: &str) -> StatusCode {
    app.get(&format!("/api/user/{}", login.id), token)
        .await
        .status()
}

/// One calendar component's properties, by name.
pub struct Props(pub Vec<(String, String)>);

impl Props {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses iCalendar text with the `ical` crate (not the one that wrote it) into its events'
/// properties.
pub fn parse_feed(text: &str) -> Vec<Props> {
    parse_calendar(text).1
}

/// Parses iCalendar text into the calendar's own properties and its events' properties.
pub fn parse_calendar(text: &str) -> (Props, Vec<Props>) {
    let mut calendars = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let calendar = calendars.next().expect("one calendar").expect("it parses");
    assert!(calendars.next().is_none());
    let props = |properties: Vec<ical::property::Property>| {
        Props(
            properties
                .into_iter()
                .map(|p| (p.name, p.value.unwrap_or_default()))
                .collect(),
        )
    };
    let events = calendar
        .events
        .into_iter()
        .map(|event| props(event.properties))
        .collect();
    (props(calendar.properties), events)
}

/// HTML text with the entities a template escapes (`<`, `>`, `&`, as names or numbers) read
/// back, to check that escaped text still says what it should.
pub fn unescaped(html: &str) -> String {
    [("&#60;", "<"), ("&lt;", "<"), ("&#62;", ">"), ("&gt;", ">")]
        .into_iter()
        .chain([("&#38;", "&"), ("&amp;", "&")])
        .fold(html.to_owned(), |text, (entity, character)| {
            text.replace(entity, character)
        })
}
