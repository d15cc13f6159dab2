//! Ids in paths: a UUID written hyphenated or as the seeds' 32 hex digits, and nothing else.

use serde::{Deserialize, Deserializer, de};
use uuid::Uuid;

/// An id taken from a URL path. `Uuid`'s own parser also takes `{...}` and `urn:uuid:` forms;
/// the contract allows only the two spellings below, so anything else is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub Uuid);

pub fn parse_id(raw: &str) -> Option<Uuid> {
    match raw.len() {
        32 | 36 => Uuid::try_parse(raw).ok(),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for PathId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_id(&raw).map(PathId).ok_or_else(|| {
            de::Error::custom(format!(
                "`{raw}` is not an id (a UUID, hyphenated or as 32 hex digits)"
            ))
        })
    }
}

/// A new id: version 7, so ids sort by creation time and index well.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_two_spellings_only() {
        let id = new_id();
        assert_eq!(parse_id(&id.hyphenated().to_string()), Some(id));
        assert_eq!(parse_id(&id.simple().to_string()), Some(id));
        assert_eq!(parse_id(&id.braced().to_string()), None);
        assert_eq!(parse_id(&id.urn().to_string()), None);
        assert_eq!(parse_id("42"), None);
        assert_eq!(parse_id(&"g".repeat(32)), None);
    }
}
