//! Domain values that can only hold valid contents (parse, don't validate).

use platform::{ApiError, ApiResult, FieldError};
use serde::Deserialize;

/// An ISO 4217 currency ([`platform::money::Currency`]: a real code with
/// minor units), read in any case (Stripe writes codes in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(platform::money::Currency);

impl Currency {
    /// An ISO 4217 code in any case; `None` for anything else.
    pub fn parse(s: &str) -> Option<Currency> {
        platform::money::Currency::parse(&s.to_ascii_uppercase()).ok().map(Currency)
    }
    /// The upper-case code.
    pub fn as_str(&self) -> &'static str {
        self.0.code()
    }
}

/// A primary account number: 12–19 digits passing the Luhn check (ISO/IEC
/// 7812-1). Spaces and dashes are dropped. Never stored: only
/// [`CardNumber::last4`] and [`CardNumber::brand`] are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber(…{})", self.last4())
    }
}

impl CardNumber {
    /// Parses a card number; `None` when not 12–19 digits or Luhn fails.
    pub fn parse(s: &str) -> Option<CardNumber> {
        let digits: String = s.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sum: u32 = digits
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 {
                    let x = d * 2;
                    if x > 9 {
                        x - 9
                    } else {
                        x
                    }
                } else {
                    d
                }
            })
            .sum();
        sum.is_multiple_of(10).then_some(CardNumber(digits))
    }
    /// The digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
    /// The last four digits.
    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
    /// Card brand from the issuer prefix (visa, mastercard, amex, unknown).
    pub fn brand(&self) -> &'static str {
        let d = &self.0;
        if d.starts_with('4') {
            "visa"
        } else if d.starts_with("34") || d.starts_with("37") {
            "amex"
        } else if (51..=55).contains(&d[..2].parse::<u32>().unwrap_or(0)) || d.starts_with('2') {
            "mastercard"
        } else {
            "unknown"
        }
    }
}

/// Card details of a pay request (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The number.
    pub number: CardNumber,
    /// Expiry month 1–12.
    pub exp_month: u8,
    /// Expiry year, four digits, not in the past.
    pub exp_year: u16,
    /// 3–4 digits.
    pub cvc: String,
}

/// How the buyer pays: raw test-card details or a provider payment-method
/// token (`pm_…`, e.g. `pm_card_visa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethod {
    /// A card typed at checkout.
    Card(Card),
    /// A provider payment-method id.
    Token(String),
}

/// The JSON body of `POST /api/payments/{booking_id}/pay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// Only `"card"` today.
    pub method: String,
    /// Card details (or use `payment_method`).
    pub card: Option<CardInput>,
    /// A provider payment-method token instead of card details.
    pub payment_method: Option<String>,
    /// Where the provider sends the buyer back after a 3-D Secure step; a
    /// path on this site (`/bookings/bkg_…`).
    pub return_url: Option<String>,
}

/// Unvalidated card member of [`PayRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// Digits, spaces or dashes allowed.
    pub number: String,
    /// 1–12.
    pub exp_month: u32,
    /// Four-digit year.
    pub exp_year: u32,
    /// 3–4 digits.
    pub cvc: String,
    /// Name on the card (optional; not sent to the provider).
    #[serde(default)]
    pub name: Option<String>,
}

impl PayRequest {
    /// Validates into a method and an optional same-site return path; 422
    /// naming every bad field. `current_year` bounds the expiry.
    pub fn validate(self, current_year: u32) -> ApiResult<(PaymentMethod, Option<String>)> {
        let mut errors = Vec::new();
        if self.method != "card" {
            errors.push(FieldError::new("method", "only \"card\" is supported"));
        }
        let return_url = match self.return_url {
            Some(u) if u.starts_with('/') && !u.starts_with("//") && u.len() <= 512 && !u.contains('\\') => Some(u),
            Some(_) => {
                errors.push(FieldError::new("return_url", "must be a path on this site, starting with a single '/'"));
                None
            }
            None => None,
        };
        let method = match (self.card, self.payment_method) {
            (Some(c), None) => {
                let number = CardNumber::parse(&c.number);
                if number.is_none() {
                    errors.push(FieldError::new("card/number", "is not a valid card number"));
                }
                if !(1..=12).contains(&c.exp_month) {
                    errors.push(FieldError::new("card/exp_month", "must be 1-12"));
                }
                if c.exp_year < current_year || c.exp_year > current_year + 30 {
                    errors.push(FieldError::new("card/exp_year", "the card has expired or the year is not plausible"));
                }
                if !(3..=4).contains(&c.cvc.len()) || !c.cvc.bytes().all(|b| b.is_ascii_digit()) {
                    errors.push(FieldError::new("card/cvc", "must be 3 or 4 digits"));
                }
                number.map(|number| {
                    PaymentMethod::Card(Card {
                        number,
                        exp_month: c.exp_month as u8,
                        exp_year: c.exp_year as u16,
                        cvc: c.cvc,
                    })
                })
            }
            (None, Some(pm)) => {
                if pm.starts_with("pm_")
                    && pm.len() <= 100
                    && pm.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    Some(PaymentMethod::Token(pm))
                } else {
                    errors.push(FieldError::new("payment_method", "must be a payment-method id like pm_card_visa"));
                    None
                }
            }
            _ => {
                errors.push(FieldError::new("card", "give exactly one of card or payment_method"));
                None
            }
        };
        match method {
            Some(m) if errors.is_empty() => Ok((m, return_url)),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_shape() {
        for ok in ["4242424242424242", "4242 4242 4242 4242", "4000-0000-0000-0002", "378282246310005"] {
            assert!(CardNumber::parse(ok).is_some(), "{ok}");
        }
        for bad in ["4242424242424241", "", "abcd", "42424242424242424242", "12345"] {
            assert!(CardNumber::parse(bad).is_none(), "{bad}");
        }
        let c = CardNumber::parse("4000000000009995").unwrap();
        assert_eq!(c.last4(), "9995");
        assert_eq!(c.brand(), "visa");
        assert!(!format!("{c:?}").contains("400000"));
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert!(Currency::parse("US").is_none() && Currency::parse("U$D").is_none());
        assert!(
            Currency::parse("ZZZ").is_none() && Currency::parse("XAU").is_none(),
            "three letters are not yet a currency"
        );
    }

    fn req(v: serde_json::Value) -> ApiResult<(PaymentMethod, Option<String>)> {
        serde_json::from_value::<PayRequest>(v).unwrap().validate(2026)
    }

    #[test]
    fn pay_requests() {
        let card = serde_json::json!({"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"});
        assert!(matches!(req(serde_json::json!({"method":"card","card":card})), Ok((PaymentMethod::Card(_), None))));
        assert!(matches!(
            req(serde_json::json!({"method":"card","payment_method":"pm_card_visa","return_url":"/b/1"})),
            Ok((PaymentMethod::Token(_), Some(_)))
        ));
        let both = serde_json::json!({"method":"card","card":card,"payment_method":"pm_card_visa"});
        assert!(req(both).is_err());
        assert!(req(serde_json::json!({"method":"card"})).is_err());
        assert!(req(serde_json::json!({"method":"bitcoin","payment_method":"pm_card_visa"})).is_err());
        assert!(req(
            serde_json::json!({"method":"card","payment_method":"pm_card_visa","return_url":"//evil.example"})
        )
        .is_err());
        let expired = serde_json::json!({"number":"4242424242424242","exp_month":12,"exp_year":2020,"cvc":"123"});
        match req(serde_json::json!({"method":"card","card":expired})) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "card/exp_year"),
            other => panic!("{other:?}"),
        }
    }
}
