//! Domain values that can only hold valid data (parse, don't validate).
//! Every parser names the offending field in its 422 error.

use platform::{ApiError, ApiResult, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Hard cap on tickets in one order, whatever an event's `order_limit`
/// says.
pub const MAX_ORDER: u32 = 50;

/// A ticket count: an integer in `1..=limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// Parses a JSON value: rejects null, strings, booleans, fractions,
    /// zero, negatives and anything above `limit` (so 2^31 and 2^63 too).
    pub fn parse(field: &str, value: &Value, limit: u32) -> Result<Quantity, FieldError> {
        let err = |m: String| FieldError::new(field, m);
        let n = match value {
            Value::Number(n) => n,
            Value::Null => return Err(err("is required".into())),
            _ => return Err(err("must be a whole number".into())),
        };
        let Some(int) = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)) else {
            return Err(err("must be a whole number".into()));
        };
        if int < 1 {
            return Err(err("must be at least 1".into()));
        }
        if int > i128::from(limit) {
            return Err(err(format!("must be at most {limit} (the order limit)")));
        }
        Ok(Quantity(int as u32))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// An id coming from a client (event, seat, tier, hold, booking): 1–64
/// characters of `[A-Za-z0-9._-]`, so it is safe in KV keys and URLs.
pub fn parse_id(field: &str, raw: &str) -> Result<String, FieldError> {
    if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err(FieldError::new(field, "must be 1-64 characters of letters, digits, '.', '_' or '-'"));
    }
    Ok(raw.to_string())
}

/// A person's name: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    pub fn parse(field: &str, raw: &str) -> Result<PersonName, FieldError> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
            return Err(FieldError::new(field, "must be 1-200 characters without control characters"));
        }
        Ok(PersonName(t.to_string()))
    }

    /// The name, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The buyer's e-mail address ([`platform::contact::Email`]: normalised,
/// RFC 5322 syntax, a dotted domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(platform::contact::Email);

impl Email {
    /// Parses an address; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Email, FieldError> {
        platform::contact::Email::parse(raw)
            .map(Email)
            .map_err(|_| FieldError::new(field, "must be an e-mail address like name@example.com"))
    }
}

/// The buyer's phone number ([`platform::contact::Phone`]: E.164).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(platform::contact::Phone);

impl Phone {
    /// Parses a number; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Phone, FieldError> {
        platform::contact::Phone::parse(raw)
            .map(Phone)
            .map_err(|_| FieldError::new(field, "must be an international number like +14155550100"))
    }
}

/// The buyer's confirmed contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// Full name.
    pub name: PersonName,
    /// Where tickets are sent.
    pub email: Email,
    /// E.164 phone number.
    pub phone: Phone,
}

impl Buyer {
    /// The buyer as the saga's events carry it.
    pub fn to_contract(&self) -> saga::contract::Buyer {
        saga::contract::Buyer {
            name: self.name.0.clone(),
            email: self.email.0.as_str().to_string(),
            phone: self.phone.0.as_str().to_string(),
        }
    }
}

/// Raw buyer input, before parsing.
#[derive(Debug, Deserialize)]
pub struct BuyerInput {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
}

impl BuyerInput {
    /// Parses every field, collecting all errors.
    pub fn parse(&self) -> Result<Buyer, Vec<FieldError>> {
        let name = PersonName::parse("buyer/name", &self.name);
        let email = Email::parse("buyer/email", &self.email);
        let phone = Phone::parse("buyer/phone", &self.phone);
        match (name, email, phone) {
            (Ok(name), Ok(email), Ok(phone)) => Ok(Buyer { name, email, phone }),
            (n, e, p) => Err([n.err(), e.err(), p.err()].into_iter().flatten().collect()),
        }
    }
}

/// Turns collected field errors into a 422, or `Ok` when there are none.
pub fn check(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantity_accepts_only_small_positive_integers() {
        assert_eq!(Quantity::parse("q", &json!(3), 8).unwrap().get(), 3);
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("2"),
            json!(null),
            json!(true),
            json!(2147483648u64),
            json!(9223372036854775808u64),
            json!(9),
            json!(-9223372036854775807i64),
        ] {
            assert!(Quantity::parse("q", &bad, 8).is_err(), "{bad}");
        }
        // 1.0 is a float in JSON terms: refused, not rounded
        assert!(Quantity::parse("q", &json!(1.0), 8).is_err());
    }

    #[test]
    fn ids_are_key_safe() {
        assert!(parse_id("x", "S1-A-12").is_ok());
        assert!(parse_id("x", "evt_01jdx3v9k7m2q8w4e6r5t0y1za").is_ok());
        for bad in ["", "a:b", "a/b", "a b", &"x".repeat(65), "ü"] {
            assert!(parse_id("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_details() {
        assert!(Email::parse("e", "Ada@Example.com").is_ok());
        assert_eq!(Email::parse("e", " Ada@Example.COM ").unwrap().0.as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@x.com", "ada@x", "a b@x.com", "a@x..com", "a@@x.com"] {
            assert!(Email::parse("e", bad).is_err(), "{bad}");
        }
        assert_eq!(Phone::parse("p", "+1 (415) 555-0100").unwrap().0.as_str(), "+14155550100");
        for bad in ["", "4155550100", "+1", "+0123456789", "+1415555010x", "+1234567890123456"] {
            assert!(Phone::parse("p", bad).is_err(), "{bad}");
        }
        assert!(PersonName::parse("n", "  ").is_err());
        assert!(PersonName::parse("n", "a\u{0}b").is_err());
        assert!(PersonName::parse("n", &"x".repeat(201)).is_err());
    }

    #[test]
    fn buyer_collects_every_error() {
        let b = BuyerInput { name: "".into(), email: "x".into(), phone: "+14155550100".into() };
        let errs = b.parse().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["buyer/name", "buyer/email"]);
    }
}
