//! Wall-clock time in the API's formats: Unix milliseconds inside, RFC 3339
//! UTC (`2026-11-29T07:49:04Z`, RFC 3339 §5.6) on the wire.

use chrono::{DateTime, SecondsFormat, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// RFC 3339 UTC text of a Unix-millisecond instant, second precision when
/// the milliseconds are zero, millisecond precision otherwise.
pub fn rfc3339(ms: i64) -> String {
    let dt = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    if ms % 1000 == 0 {
        dt.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        dt.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// The UTC calendar year of a Unix-millisecond instant (1970 for one out
/// of chrono's range).
pub fn utc_year(ms: i64) -> i32 {
    use chrono::Datelike;
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().year()
}

/// RFC 3339 UTC text of a Unix-millisecond instant, always with
/// milliseconds (`1970-01-01T00:00:01.500Z`): log timestamps, which sort
/// as text.
pub fn rfc3339_millis(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses RFC 3339 text (any offset) into Unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.500Z");
        assert_eq!(parse_rfc3339("2026-11-29T08:00:00+01:00"), Some(parse_rfc3339("2026-11-29T07:00:00Z").unwrap()));
        assert_eq!(parse_rfc3339("2026-11-29 07:00"), None);
    }

    #[test]
    fn the_year_turns_at_utc_midnight() {
        let new_year = parse_rfc3339("2027-01-01T00:00:00Z").unwrap();
        assert_eq!((utc_year(new_year - 1), utc_year(new_year)), (2026, 2027));
    }
}
