//! `Email`: an account's address, normalised so that the same mailbox can
//! only hold one account.
//!
//! Normalisation: surrounding whitespace trimmed, the whole address
//! lower-cased (the rule: `A@x.com` and `a@X.COM` are one account;
//! RFC 5321 §2.4 lets the local part be case-sensitive, but no mainstream
//! provider uses that, and treating them apart invites look-alike accounts).
//! Shape (a pragmatic subset of RFC 5322 addr-spec): exactly one `@`, a
//! non-empty local part of at most 64 octets, a domain of dot-separated
//! labels with at least one dot, no whitespace or control characters, at
//! most 254 octets in total (RFC 5321 §4.5.3.1 path limit minus `<>`).

use std::fmt;

/// A normalised, syntactically plausible e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises and checks `raw`; the error says what is wrong.
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
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err("has an invalid domain");
        }
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

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(Email::parse("  A@X.com ").unwrap(), Email::parse("a@x.COM").unwrap());
        assert_eq!(Email::parse("Ann.Lee+tix@Example.org").unwrap().as_str(), "ann.lee+tix@example.org");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "   ", "ann", "ann@", "@x.com", "a@b@c.com", "a b@x.com", "a@localhost", "a@-x.com", "a@x..com", "a\u{7}b@x.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@x.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn accepts_international_domains() {
        assert!(Email::parse("zoë@bücher.de").is_ok());
    }
}
