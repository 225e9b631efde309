//! `Email`: an account's address, normalised so that the same mailbox can
//! only hold one account — [`platform::contact::Email`], which gives the
//! normalisation (trimmed, lower-cased) and the syntax (RFC 5322 addr-spec
//! through the `email_address` crate, a dotted domain, RFC 5321 lengths).

pub use platform::contact::Email;

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
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@x.com",
            "a@b@c.com",
            "a b@x.com",
            "a@localhost",
            "a@-x.com",
            "a@x..com",
            "a\u{7}b@x.com",
            "a<b>@x.com",
        ] {
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
