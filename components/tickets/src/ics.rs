//! iCalendar files for tickets (RFC 5545).
//!
//! One `VCALENDAR` with a `VTIMEZONE` for the event's IANA zone (built from
//! the tz database bundled in `jiff`: every UTC-offset change from
//! the January before the event's previous year to the end of its next
//! year, each as a `STANDARD`/`DAYLIGHT` observance with its onset in the
//! old local time, `TZOFFSETFROM`, `TZOFFSETTO` and `TZNAME`, RFC 5545
//! §3.6.5) and one `VEVENT` whose `DTSTART` carries `TZID=<zone>` (§3.2.19),
//! so calendar apps show the local time of the venue. Text values are
//! escaped (§3.3.11), lines end in CRLF and are folded at 75 octets without
//! splitting a UTF-8 character (§3.1).

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// What goes into the calendar entry of one ticket.
#[derive(Debug, Clone)]
pub struct CalendarTicket<'a> {
    /// `tkt_…`, also the `UID` local part.
    pub ticket_id: &'a str,
    /// Event title (`SUMMARY`).
    pub event_title: &'a str,
    /// Start, Unix ms.
    pub starts_at_ms: i64,
    /// End, Unix ms, when known (`DTEND`); without it the entry is a start time only.
    pub ends_at_ms: Option<i64>,
    /// IANA zone of the event (`America/New_York`).
    pub timezone: &'a str,
    /// Attendee name, seat and code for `DESCRIPTION`.
    pub description: String,
    /// Link to the ticket page (`URL`), when a public base URL is configured.
    pub url: Option<String>,
    /// `DTSTAMP`, Unix ms (when the file was made).
    pub stamp_ms: i64,
    /// `STATUS`: a void ticket is `STATUS:CANCELLED`.
    pub cancelled: bool,
    /// `SEQUENCE` (RFC 5545 §3.8.7.4): grows when the event moves, so a
    /// calendar that imported an earlier copy takes the new time.
    pub sequence: i64,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): `\` `;` `,` and newlines.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line at 75 octets (RFC 5545 §3.1), CRLF-terminated.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn local_stamp(dt: jiff::civil::DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

fn instant(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn utc_stamp(ms: i64) -> String {
    instant(ms).strftime("%Y%m%dT%H%M%SZ").to_string()
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

#[derive(Debug, Clone, PartialEq)]
struct Observance {
    onset_utc: i64,
    from: i32,
    to: i32,
    daylight: bool,
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

/// The `VTIMEZONE` component of `tz` (named `name`) around the year of `at_ms`.
fn vtimezone(tz: &TimeZone, name: &str, at_ms: i64, lines: &mut Vec<String>) {
    let year = TimeZone::UTC.to_datetime(instant(at_ms)).year();
    let (from, to) = (new_year(year.saturating_sub(1)), new_year(year.saturating_add(2)));
    let (off0, dst0, name0) = state(tz, from);
    lines.push("BEGIN:VTIMEZONE".into());
    lines.push(format!("TZID:{name}"));
    // The observance in force at the start of the window.
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
            lines.push(format!("TZNAME:{}", escape_text(&o.name)));
        }
        lines.push(format!("END:{kind}"));
    }
    lines.push("END:VTIMEZONE".into());
}

/// Renders the `.ics` text of one ticket. An unknown zone name falls back
/// to UTC times (`DTSTART:…Z`), which every reader understands.
pub fn render(t: &CalendarTicket<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Boxoffice//Tickets 1.0//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
    ];
    let tz = TimeZone::get(t.timezone).ok().map(|tz| {
        let name = tz.iana_name().unwrap_or(t.timezone).to_string();
        (tz, name)
    });
    let when = |ms: i64, prop: &str| -> String {
        match &tz {
            Some((tz, name)) => format!("{prop};TZID={name}:{}", local_stamp(tz.to_datetime(instant(ms)))),
            None => format!("{prop}:{}", utc_stamp(ms)),
        }
    };
    if let Some((tz, name)) = &tz {
        vtimezone(tz, name, t.starts_at_ms, &mut lines);
    }
    lines.push("BEGIN:VEVENT".into());
    lines.push(format!("UID:{}@boxoffice", t.ticket_id));
    lines.push(format!("DTSTAMP:{}", utc_stamp(t.stamp_ms)));
    lines.push(format!("SEQUENCE:{}", t.sequence.max(0)));
    lines.push(when(t.starts_at_ms, "DTSTART"));
    if let Some(end) = t.ends_at_ms.filter(|e| *e > t.starts_at_ms) {
        lines.push(when(end, "DTEND"));
    }
    lines.push(format!("SUMMARY:{}", escape_text(t.event_title)));
    lines.push(format!("DESCRIPTION:{}", escape_text(&t.description)));
    if let Some(url) = &t.url {
        lines.push(format!("URL:{url}"));
    }
    lines.push(format!("STATUS:{}", if t.cancelled { "CANCELLED" } else { "CONFIRMED" }));
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use icalendar::{Calendar, CalendarComponent, Component};

    fn ticket(tz: &'static str, title: &'static str) -> CalendarTicket<'static> {
        CalendarTicket {
            ticket_id: "tkt_01",
            event_title: title,
            // 2026-05-01T23:00:00Z = 19:00 in New York (EDT, UTC-4)
            starts_at_ms: 1_777_676_400_000,
            ends_at_ms: Some(1_777_676_400_000 + 3 * 3_600_000),
            timezone: tz,
            description: "Ada Lovelace, seat S1-A-12\ncode t1.tkt_01.evt_01.sig".into(),
            url: Some("https://boxoffice.example/tickets/tkt_01".into()),
            stamp_ms: 1_770_000_000_000,
            cancelled: false,
            sequence: 4,
        }
    }

    #[test]
    fn parses_with_a_standard_parser_and_keeps_the_zone() {
        let text = render(&ticket("America/New_York", "Rock; Roll, and \\ more"));
        assert!(text.lines().all(|l| l.len() <= 76), "folded");
        assert!(text.contains("\r\nSEQUENCE:4\r\n"), "a moved event's copy supersedes the old one");
        assert!(text.ends_with("\r\n"));
        let cal: Calendar = text.parse().expect("icalendar parses it");
        let ev = cal.components.iter().find_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        });
        let ev = ev.expect("one VEVENT");
        assert_eq!(ev.get_summary(), Some("Rock; Roll, and \\ more"));
        let start = ev.properties().get("DTSTART").expect("DTSTART");
        assert_eq!(start.params().get("TZID").map(|p| p.value()), Some("America/New_York"));
        assert_eq!(start.value(), "20260501T190000");
        assert!(text.contains("TZID:America/New_York\r\n"));
        assert!(text.contains("TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT"), "{text}");
        // 2026 spring-forward in New York: 2026-03-08 02:00 local
        assert!(text.contains("DTSTART:20260308T020000"), "{text}");
    }

    #[test]
    fn zone_without_dst_and_unknown_zone() {
        let text = render(&ticket("Asia/Tokyo", "Show"));
        assert!(
            text.contains("BEGIN:STANDARD\r\nDTSTART:20250101T090000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900"),
            "{text}"
        );
        assert!(!text.contains("BEGIN:DAYLIGHT"));
        assert!(text.contains("DTSTART;TZID=Asia/Tokyo:20260502T080000"));
        let text = render(&ticket("Mars/Olympus", "Show"));
        assert!(text.contains("DTSTART:20260501T230000Z") && !text.contains("VTIMEZONE"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        let long = "Sinfonía ".repeat(30);
        let mut out = String::new();
        fold(&format!("SUMMARY:{long}"), &mut out);
        for l in out.split("\r\n") {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.strip_suffix("\r\n"), Some(format!("SUMMARY:{long}").as_str()));
    }

    #[test]
    fn utc_offsets_format() {
        assert_eq!(utc_offset(-18_000), "-0500");
        assert_eq!(utc_offset(19_800), "+0530");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-2_670), "-004430");
    }
}
