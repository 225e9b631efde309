//! When an event starts, in words and in the venue's zone ("Friday 1 May
//! 2026, 19:00 EDT"), for messages.
//!
//! Events owns the tz database ([`platform::zones`]); this component asks
//! it once per instant and zone and keeps the answer in `local_times`, so
//! the thousandth confirmation of one show costs one indexed read, not a
//! chained call. Lookups happen before the saga's inbox transaction (no
//! call is made while it holds the database). When events cannot answer,
//! a message shows the time in UTC ([`platform::zones::utc_text`]) and the
//! next message asks again.

use platform::zones::{TimeAsk, ZoneQuery, MAX_ENTRIES};
use spin_sdk::sqlite3::{Connection, Value};
use std::collections::HashMap;

const CACHED: &str = "SELECT text FROM local_times WHERE timezone = ? AND at = ?";
const REMEMBER: &str =
    "INSERT INTO local_times (timezone, at, text, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";

/// Local texts of (zone, RFC 3339 instant) pairs.
#[derive(Debug, Default)]
pub struct LocalTimes(HashMap<(String, String), String>);

impl LocalTimes {
    /// The texts of `asks` (duplicates and empty members ignored): from
    /// `local_times`, the rest from events (then kept).
    pub fn fetch(conn: &Connection, asks: impl IntoIterator<Item = TimeAsk>) -> LocalTimes {
        let mut asks: Vec<TimeAsk> = asks.into_iter().filter(|a| !a.timezone.is_empty() && !a.at.is_empty()).collect();
        asks.sort_by(|a, b| (&a.timezone, &a.at).cmp(&(&b.timezone, &b.at)));
        asks.dedup();
        let mut known = HashMap::new();
        let mut missing = Vec::new();
        for a in asks {
            let cached = conn
                .execute(CACHED, &[Value::Text(a.timezone.clone()), Value::Text(a.at.clone())])
                .ok()
                .and_then(|rs| rs.rows().next().and_then(|r| r.get::<&str>("text").map(str::to_string)));
            match cached {
                Some(text) => {
                    known.insert((a.timezone, a.at), text);
                }
                None => missing.push(a),
            }
        }
        for chunk in missing.chunks(MAX_ENTRIES) {
            let Ok(answer) = platform::zones::resolve(&ZoneQuery { times: chunk.to_vec(), calendars: vec![] }) else {
                break; // logged by `resolve`; UTC for the rest
            };
            for t in answer.times {
                let row = [
                    Value::Text(t.timezone.clone()),
                    Value::Text(t.at.clone()),
                    Value::Text(t.text.clone()),
                    Value::Integer(platform::clock::now_ms()),
                ];
                if let Err(e) = conn.execute(REMEMBER, &row) {
                    platform::log::warn!("notifications: local time not kept: {e}");
                }
                known.insert((t.timezone, t.at), t.text);
            }
        }
        LocalTimes(known)
    }

    /// `at` (RFC 3339) in `timezone` for people; in UTC when it is not known.
    pub fn text(&self, at: &str, timezone: &str) -> String {
        self.0.get(&(timezone.to_string(), at.to_string())).cloned().unwrap_or_else(|| platform::zones::utc_text(at))
    }
}

/// The ask for `at` in `timezone`, when both are there.
pub fn ask(at: Option<&str>, timezone: Option<&str>) -> Option<TimeAsk> {
    Some(TimeAsk { timezone: timezone?.to_string(), at: at?.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_times_read_in_utc() {
        let mut known = HashMap::new();
        known.insert(
            ("America/New_York".to_string(), "2026-05-01T23:00:00Z".to_string()),
            "Friday 1 May 2026, 19:00 EDT".to_string(),
        );
        let times = LocalTimes(known);
        assert_eq!(times.text("2026-05-01T23:00:00Z", "America/New_York"), "Friday 1 May 2026, 19:00 EDT");
        assert_eq!(times.text("2026-05-01T23:00:00Z", "Europe/Paris"), "Friday 1 May 2026, 23:00 UTC");
        assert_eq!(ask(Some("2026-05-01T23:00:00Z"), None), None);
    }
}
