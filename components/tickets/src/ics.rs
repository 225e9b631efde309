//! iCalendar files for tickets (RFC 5545).
//!
//! One `VCALENDAR` with the `VTIMEZONE` of the event's IANA zone and one
//! `VEVENT` whose `DTSTART` carries `TZID=<zone>` (§3.2.19), so calendar
//! apps show the local time of the venue. The zone's observances and the
//! local times come from events, the component that owns the tz database
//! ([`platform::zones`]); without them (an unknown zone, events not
//! answering) the times are UTC (`DTSTART:…Z`), which every reader
//! understands. Text values are escaped (§3.3.11), lines end in CRLF and
//! are folded at 75 octets without splitting a UTF-8 character (§3.1).

use platform::zones::{ical_text as escape_text, CalendarZone};

/// What goes into the calendar entry of one ticket.
#[derive(Debug, Clone)]
pub struct CalendarTicket<'a> {
    /// `tkt_…`, also the `UID` local part.
    pub ticket_id: &'a str,
    /// `SUMMARY`.
    pub event_title: &'a str,
    /// `LOCATION` (RFC 5545 §3.8.1.7): the venue's one line; empty: none.
    pub location: &'a str,
    /// Start, Unix ms.
    pub starts_at_ms: i64,
    /// End, Unix ms, when known (`DTEND`); without it the entry is a start time only.
    pub ends_at_ms: Option<i64>,
    /// The event's zone and the local start (and end) in it, from
    /// [`platform::zones::resolve`]; `None`: UTC times.
    pub local: Option<LocalTimes<'a>>,
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

/// An entry's times in the event's zone.
#[derive(Debug, Clone)]
pub struct LocalTimes<'a> {
    /// The zone's `TZID` and `VTIMEZONE` lines.
    pub zone: &'a CalendarZone,
    /// Local start, `YYYY-MM-DDTHH:MM:SS` ([`platform::zones::LocalTime::local`]).
    pub start: &'a str,
    /// Local end, same form, when the entry has one.
    pub end: Option<&'a str>,
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

/// `YYYYMMDDTHHMMSS` (RFC 5545 §3.3.5 form 2, UTC, with `Z`).
fn utc_stamp(ms: i64) -> String {
    platform::clock::rfc3339(ms - ms.rem_euclid(1000)).replace(['-', ':'], "")
}

/// `YYYYMMDDTHHMMSS` (§3.3.5 form 3, local with a `TZID`) of a local
/// `YYYY-MM-DDTHH:MM:SS`.
fn local_stamp(local: &str) -> String {
    local.replace(['-', ':'], "")
}

/// Renders the `.ics` text of one ticket.
pub fn render(t: &CalendarTicket<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Boxoffice//Tickets 1.0//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
    ];
    if let Some(local) = &t.local {
        lines.extend(local.zone.lines.iter().cloned());
    }
    let when = |prop: &str, ms: i64, local: Option<&str>| -> String {
        match (&t.local, local) {
            (Some(l), Some(at)) => format!("{prop};TZID={}:{}", l.zone.tzid, local_stamp(at)),
            _ => format!("{prop}:{}", utc_stamp(ms)),
        }
    };
    lines.push("BEGIN:VEVENT".into());
    lines.push(format!("UID:{}@boxoffice", t.ticket_id));
    lines.push(format!("DTSTAMP:{}", utc_stamp(t.stamp_ms)));
    lines.push(format!("SEQUENCE:{}", t.sequence.max(0)));
    lines.push(when("DTSTART", t.starts_at_ms, t.local.as_ref().map(|l| l.start)));
    if let Some(end) = t.ends_at_ms.filter(|e| *e > t.starts_at_ms) {
        lines.push(when("DTEND", end, t.local.as_ref().and_then(|l| l.end)));
    }
    lines.push(format!("SUMMARY:{}", escape_text(t.event_title)));
    if !t.location.is_empty() {
        lines.push(format!("LOCATION:{}", escape_text(t.location)));
    }
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

    /// New York's zone as events answers it for 2026 (trimmed to one year).
    fn new_york() -> CalendarZone {
        let lines = "BEGIN:VTIMEZONE|TZID:America/New_York|BEGIN:DAYLIGHT|DTSTART:20260308T020000|TZOFFSETFROM:-0500|\
                     TZOFFSETTO:-0400|TZNAME:EDT|END:DAYLIGHT|BEGIN:STANDARD|DTSTART:20261101T020000|TZOFFSETFROM:-0400|\
                     TZOFFSETTO:-0500|TZNAME:EST|END:STANDARD|END:VTIMEZONE";
        CalendarZone {
            timezone: "America/New_York".into(),
            tzid: "America/New_York".into(),
            lines: lines.split('|').map(|l| l.trim().to_string()).collect(),
        }
    }

    fn ticket<'a>(local: Option<LocalTimes<'a>>, title: &'a str) -> CalendarTicket<'a> {
        CalendarTicket {
            ticket_id: "tkt_01",
            event_title: title,
            location: "Browser Hall, Rua Augusta 1, Lisbon, PT",
            // 2026-05-01T23:00:00Z = 19:00 in New York (EDT, UTC-4)
            starts_at_ms: 1_777_676_400_000,
            ends_at_ms: Some(1_777_676_400_000 + 3 * 3_600_000),
            local,
            description: "Ada Lovelace, seat S1-A-12\ncode t1.tkt_01.evt_01.sig".into(),
            url: Some("https://boxoffice.example/tickets/tkt_01".into()),
            stamp_ms: 1_770_000_000_123,
            cancelled: false,
            sequence: 4,
        }
    }

    #[test]
    fn parses_with_a_standard_parser_and_keeps_the_zone() {
        let zone = new_york();
        let local = LocalTimes { zone: &zone, start: "2026-05-01T19:00:00", end: Some("2026-05-01T22:00:00") };
        let text = render(&ticket(Some(local), "Rock; Roll, and \\ more"));
        assert!(text.lines().all(|l| l.len() <= 76), "folded");
        assert!(text.contains("\r\nSEQUENCE:4\r\n"), "a moved event's copy supersedes the old one");
        assert!(text.contains("\r\nDTSTAMP:20260202T024000Z\r\n"), "{text}");
        assert!(text.ends_with("\r\n"));
        let cal: Calendar = text.parse().expect("icalendar parses it");
        let ev = cal.components.iter().find_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        });
        let ev = ev.expect("one VEVENT");
        assert_eq!(ev.get_summary(), Some("Rock; Roll, and \\ more"));
        assert!(
            text.contains("\r\nLOCATION:Browser Hall\\, Rua Augusta 1\\, Lisbon\\, PT\r\n"),
            "commas escaped: {text}"
        );
        let start = ev.properties().get("DTSTART").expect("DTSTART");
        assert_eq!(start.params().get("TZID").map(|p| p.value()), Some("America/New_York"));
        assert_eq!(start.value(), "20260501T190000");
        assert_eq!(ev.properties().get("DTEND").map(|p| p.value()), Some("20260501T220000"));
        // the zone's lines come before the event, as events gave them
        let tz_at = text.find("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n").expect("VTIMEZONE");
        assert!(tz_at < text.find("BEGIN:VEVENT").unwrap());
        assert!(text.contains("TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT"), "{text}");
    }

    #[test]
    fn without_the_zone_the_times_are_utc() {
        let text = render(&ticket(None, "Show"));
        assert!(text.contains("\r\nDTSTART:20260501T230000Z\r\n"), "{text}");
        assert!(text.contains("\r\nDTEND:20260502T020000Z\r\n"), "{text}");
        assert!(!text.contains("VTIMEZONE") && !text.contains("TZID"));
        let cal: Calendar = text.parse().expect("icalendar parses it");
        assert_eq!(cal.components.len(), 1);
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
}
