//! Profile field types that can only hold valid values.

use std::str::FromStr;

/// A display name: trimmed, 1–80 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses `raw`; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 {
            return Err("must not be empty (send null to clear it)");
        }
        if n > 80 {
            return Err("must be at most 80 characters");
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(DisplayName(s.to_string()))
    }
    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number in E.164 form: [`platform::contact::Phone`].
pub use platform::contact::Phone;

/// A language tag, the common subset of BCP 47 (RFC 5646):
/// `language[-Script][-REGION]`, e.g. `en`, `pt-BR`, `zh-Hant-TW`, `es-419`.
/// Normalised to the conventional case; `_` is accepted as separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    /// Parses and normalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const ERR: &str = "must be a language tag such as en, en-GB or pt-BR";
        let parts: Vec<&str> = raw.trim().split(['-', '_']).collect();
        let mut out = Vec::new();
        let lang = parts[0];
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ERR);
        }
        out.push(lang.to_ascii_lowercase());
        let mut rest = parts[1..].iter().peekable();
        if let Some(script) = rest.peek().filter(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphabetic())) {
            let lower = script.to_ascii_lowercase();
            out.push(format!("{}{}", lower[..1].to_ascii_uppercase(), &lower[1..]));
            rest.next();
        }
        if let Some(region) = rest.next() {
            if region.len() == 2 && region.bytes().all(|b| b.is_ascii_alphabetic()) {
                out.push(region.to_ascii_uppercase());
            } else if region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()) {
                out.push(region.to_string());
            } else {
                return Err(ERR);
            }
        }
        if rest.next().is_some() {
            return Err(ERR);
        }
        Ok(Locale(out.join("-")))
    }
    /// The tag.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An IANA time-zone name known to the tz database (`Europe/Berlin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone(String);

impl TimeZone {
    /// Parses `raw` against the tz database shipped with `chrono-tz`.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(|tz| TimeZone(tz.name().to_string()))
            .map_err(|_| "must be an IANA time zone such as Europe/Berlin")
    }
    /// The canonical name.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ann Lee ").unwrap().into_inner(), "Ann Lee");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse("Zoë 🎟").is_ok());
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("+49 (30) 1234-567").unwrap().into_inner(), "+49301234567");
        for bad in ["030 1234567", "+0301234567", "+12", "+1234567890123456", "+49 30 12a4567"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locales() {
        assert_eq!(Locale::parse("EN_gb").unwrap().into_inner(), "en-GB");
        assert_eq!(Locale::parse("zh-hant-tw").unwrap().into_inner(), "zh-Hant-TW");
        assert_eq!(Locale::parse("es-419").unwrap().into_inner(), "es-419");
        assert_eq!(Locale::parse("de").unwrap().into_inner(), "de");
        for bad in ["", "e", "english", "en-GBR", "en-GB-x", "e1"] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        assert_eq!(TimeZone::parse("Europe/Berlin").unwrap().into_inner(), "Europe/Berlin");
        assert!(TimeZone::parse("UTC").is_ok());
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
    }
}
