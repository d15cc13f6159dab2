//! Password rules: 8 to 128 characters taken exactly as typed, and none of the most common ones.

use std::{collections::HashSet, fmt, sync::LazyLock};

/// The list ships inside the binary; see the header of the file for where it comes from.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password someone wants to set, checked but not yet hashed. Never printed.
pub struct NewPassword(String);

impl NewPassword {
    /// Checks length first, so an over-long password is refused before any hashing work.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.len() > MAX_CHARS * 4 || raw.chars().count() > MAX_CHARS {
            return Err("must be at most 128 characters");
        }
        if raw.chars().count() < MIN_CHARS {
            return Err("must be at least 8 characters");
        }
        if is_common(&raw) {
            return Err("is one of the most commonly used passwords; choose another");
        }
        Ok(Self(raw))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// Case does not make a common password uncommon: `Password1` is as guessable as `password1`.
fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

/// How many entries the shipped list holds (the README quotes it).
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enforces_length_in_characters_not_bytes() {
        assert!(NewPassword::parse("short12".into()).is_err());
        assert!(NewPassword::parse("ÿÿÿÿÿÿÿÿ".into()).is_ok());
        assert!(NewPassword::parse("x".repeat(128)).is_ok());
        assert!(NewPassword::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn refuses_common_passwords_whatever_their_case() {
        assert!(common_password_count() >= 1000);
        assert!(NewPassword::parse("password".into()).is_err());
        assert!(NewPassword::parse("PassWord1".into()).is_err());
        assert!(NewPassword::parse("correct horse battery".into()).is_ok());
    }

    #[test]
    fn keeps_spaces_as_typed() {
        let password = NewPassword::parse("  spaced out  ".into()).expect("valid");
        assert_eq!(password.as_bytes(), b"  spaced out  ");
    }
}
