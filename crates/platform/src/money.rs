//! Money: an integer amount of minor units of an ISO 4217 currency, and the
//! one way every component writes it for people (e-mails, in-site messages,
//! the sandbox's pages) and for schema.org (`Offer.price`).
//!
//! The minor-unit exponent of each code is ISO 4217's, from the
//! `iso_currency` crate's table: 2 for USD and EUR, 0 for JPY and KRW, 3 for
//! KWD, BHD and OMR. Nothing here goes through floating point except
//! [`Currency::to_minor`], which reads decimal prices of imported listings.

use std::fmt;

/// An ISO 4217 currency that prices can be given in: it has a minor-unit
/// exponent and is not a fund or special code (no XAU, XDR, XXX…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case alphabetic ISO 4217 code (`USD`, `GBP`, `JPY`).
    /// Errors: a sentence naming the code (not a code; or a fund or special
    /// code without minor units).
    pub fn parse(code: &str) -> Result<Currency, String> {
        let bad = || format!("'{code}' is not an ISO 4217 currency code");
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        let c = iso_currency::Currency::from_code(code).ok_or_else(bad)?;
        if c.exponent().is_none() || c.is_fund() || c.is_special() {
            return Err(format!("'{code}' is not a currency that prices can be given in"));
        }
        Ok(Currency(c))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    /// `amount_minor` as a decimal string with exactly [`Currency::exponent`]
    /// decimals (`4500` USD → `"45.00"`, `1500` KWD → `"1.500"`, `-5` EUR →
    /// `"-0.05"`), as schema.org `Offer.price` wants it.
    pub fn decimal(self, amount_minor: i64) -> String {
        let e = self.exponent();
        let sign = if amount_minor < 0 { "-" } else { "" };
        let a = amount_minor.unsigned_abs();
        if e == 0 {
            return format!("{sign}{a}");
        }
        let scale = 10u64.pow(e);
        format!("{sign}{}.{:0width$}", a / scale, a % scale, width = e as usize)
    }

    /// A decimal amount (`63.25`, `49.5`) in minor units, rounding half away
    /// from zero at the currency's exponent; `None` when negative, not a
    /// number or over 10¹² major units.
    pub fn to_minor(self, amount: f64) -> Option<i64> {
        if !amount.is_finite() || !(0.0..=1e12).contains(&amount) {
            return None;
        }
        Some((amount * 10f64.powi(self.exponent() as i32)).round() as i64)
    }
}

/// An amount of one currency, in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// Minor units (cents for USD, yen for JPY, fils for KWD); may be negative.
    pub amount_minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl fmt::Display for Money {
    /// `USD 45.00`, `JPY 1200`, `KWD 1.500`: the code, a space, the decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.currency.decimal(self.amount_minor))
    }
}

/// `amount_minor` of the currency `code` for people, as [`Money`] shows it;
/// for a code that is not an ISO 4217 currency (never stored by events,
/// which checks every price's currency), the code and the bare minor units,
/// so nothing is shown with invented decimals.
pub fn format(amount_minor: i64, code: &str) -> String {
    match Currency::parse(code) {
        Ok(currency) => Money { amount_minor, currency }.to_string(),
        Err(_) => format!("{code} {amount_minor} (minor units)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exponent_of_iso_4217_is_written_right() {
        assert_eq!(format(9000, "USD"), "USD 90.00");
        assert_eq!(format(5, "EUR"), "EUR 0.05");
        assert_eq!(format(1200, "JPY"), "JPY 1200");
        assert_eq!(format(1500, "KWD"), "KWD 1.500");
        assert_eq!(format(1, "BHD"), "BHD 0.001");
        assert_eq!(format(-250, "GBP"), "GBP -2.50");
        assert_eq!(format(-7, "JPY"), "JPY -7");
        assert_eq!(format(100, "ZZZ"), "ZZZ 100 (minor units)");
    }

    #[test]
    fn codes_are_checked_and_decimals_read() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XAU").is_err(), "gold has no minor units");
        assert!(Currency::parse("US").is_err());
        let usd = Currency::parse("USD").unwrap();
        assert_eq!((usd.code(), usd.exponent(), usd.decimal(4500)), ("USD", 2, "45.00".to_string()));
        assert_eq!((usd.to_minor(63.25), usd.to_minor(49.5)), (Some(6325), Some(4950)));
        assert_eq!(usd.to_minor(-1.0), None);
        assert_eq!(Currency::parse("KWD").unwrap().to_minor(1.5), Some(1500));
        assert_eq!(Currency::parse("JPY").unwrap().decimal(0), "0");
    }
}
