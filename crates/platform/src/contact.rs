//! Contact details every component reads the same way: an e-mail address
//! ([`Email`]) and a phone number ([`Phone`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A normalised e-mail address, one per mailbox.
///
/// Normalisation: surrounding whitespace trimmed, the whole address
/// lower-cased (`A@x.com` and `a@X.COM` are one account; RFC 5321 §2.4 lets
/// the local part be case-sensitive, but no mainstream provider uses that,
/// and treating them apart invites look-alike accounts).
///
/// Syntax: an RFC 5322 addr-spec as the `email_address` crate checks it
/// (so `a<b>@x.com` or `a"b@x.com` are refused), without display text or a
/// domain literal, and additionally: a domain of at least two labels, each
/// of letters, digits and hyphens (not first or last), no whitespace or
/// control characters, a local part of at most 64 octets and at most 254
/// octets in all (RFC 5321 §4.5.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalises and checks `raw`; the error is a phrase saying what is
    /// wrong, to follow the field's name ("is required", "has an invalid
    /// domain", …).
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("is required");
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        let (local, domain) = s.split_once('@').ok_or("must contain @")?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err("is not a valid e-mail address");
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if domain.split('.').count() < 2 || !domain.split('.').all(label_ok) {
            return Err("has an invalid domain");
        }
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        email_address::EmailAddress::parse_with_options(&s, options).map_err(|_| "is not a valid e-mail address")?;
        Ok(Email(s))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form (ITU-T E.164 §6: `+`, a country code that
/// does not start with 0, 8–15 digits in all). Input may contain spaces,
/// dashes, dots and parentheses, which are dropped
/// (`+49 (30) 1234-567` → `+49301234567`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parses and normalises `raw`; the error is a phrase saying what is wrong.
    pub fn parse(raw: &str) -> Result<Phone, &'static str> {
        let s: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let digits = s.strip_prefix('+').ok_or("must start with + and the country code (E.164)")?;
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err("must be + followed by 8 to 15 digits (E.164)");
        }
        Ok(Phone(s))
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The E.164 text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(Email::parse("  A@X.com ").unwrap(), Email::parse("a@x.COM").unwrap());
        assert_eq!(Email::parse("Ann.Lee+tix@Example.org").unwrap().as_str(), "ann.lee+tix@example.org");
        assert!(Email::parse("zoë@bücher.de").is_ok());
        let bad = [
            "",
            "ann",
            "ann@",
            "@x.com",
            "a@b@c.com",
            "a b@x.com",
            "a@localhost",
            "a@-x.com",
            "a@x..com",
            "a<b>@x.com",
            "a\"b@x.com",
            "a(b)@x.com",
            ".a@x.com",
            "a.@x.com",
            "a@[127.0.0.1]",
            "Ann <a@x.com>",
        ];
        for b in bad {
            assert!(Email::parse(b).is_err(), "{b:?}");
        }
        assert!(Email::parse(&format!("{}@x.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(Phone::parse("+49 (30) 1234-567").unwrap().as_str(), "+49301234567");
        for b in ["4155550100", "+0123456789", "+1234567", "+1234567890123456", "+1 415 CALL ME"] {
            assert!(Phone::parse(b).is_err(), "{b:?}");
        }
    }
}
