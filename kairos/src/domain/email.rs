//! E-mail addresses as accounts use them: trimmed, checked, domain lower-cased, unique without case.

use email_address::{EmailAddress, Options};

/// An address that passed validation. The local part keeps its case (mail servers may care); the
/// domain is lower-cased, and uniqueness is decided on [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a forward path.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("is required");
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err("must be at most 254 characters");
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let parsed = EmailAddress::parse_with_options(trimmed, options)
            .map_err(|_| "is not a valid e-mail address")?;
        Ok(Self(format!(
            "{}@{}",
            parsed.local_part(),
            parsed.domain().to_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key accounts are unique on: `Ann@Example.org` and `ann@example.org` are one account.
    pub fn key(&self) -> String {
        lookup_key(&self.0)
    }
}

/// The key for looking an account up by whatever a person typed at login, valid or not. A NUL
/// (which no address holds, and PostgreSQL cannot store) becomes U+FFFD, so such a key finds no
/// account on either backend.
pub fn lookup_key(raw: &str) -> String {
    raw.trim().replace('\0', "\u{FFFD}").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_the_domain_only() {
        let email = Email::parse("  Ann.Lee@Example.ORG \n").expect("valid");
        assert_eq!(email.as_str(), "Ann.Lee@example.org");
        assert_eq!(email.key(), "ann.lee@example.org");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.org",
            "ann@localhost",
            "Ann <ann@x.org>",
            "ann\0@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
