//! Read-only looks into the app's own files (its state directory, the same
//! layout on both hosts), for the invariant counts the API cannot show:
//! which payments succeeded, which holds are live in the `holds` KV store,
//! what the claim counters hold. Opened with `SQLITE_OPEN_READ_ONLY`; nothing is ever written.
//!
//! Layouts read: `sql/booking/0001_bookings.sql`, `sql/payments/0001_payments.sql`,
//! `sql/tickets/0001_tickets.sql`, the KV table of Spin's `spin` store
//! type (the runner keeps the same) `spin_key_value(store, key, value)`,
//! and booking's KV keys
//! (`components/booking/src/locks.rs`: `lock:`/`ga:`/`user:` counters as
//! 8 little-endian bytes, `hold:<id>` JSON records).

use rusqlite::{params, Connection, OpenFlags};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Opens `path` read-only (waits up to 5 s on a writer's lock).
pub fn open(path: &Path) -> Connection {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()));
    c.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    c
}

fn one(c: &Connection, sql: &str, event: &str) -> i64 {
    c.query_row(sql, params![event], |r| r.get::<_, Option<i64>>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or(0)
}

/// Booking's view of one event.
#[derive(Debug, Default)]
pub struct Bookings {
    /// Bookings per status.
    pub by_status: HashMap<String, i64>,
    /// Ids of confirmed bookings.
    pub confirmed: Vec<String>,
    /// Rows of `sold_seats`.
    pub sold_seats: i64,
    /// Sum of `sold_ga.quantity` per tier.
    pub sold_ga: HashMap<String, i64>,
    /// Seat ids listed by more than one confirmed booking.
    pub seats_in_two_confirmed: u64,
    /// Sold seats and GA places whose booking is not confirmed.
    pub sold_rows_of_unconfirmed: i64,
}

impl Bookings {
    /// `confirmed 12, pending_payment 0, …`, statuses sorted by name.
    pub fn status_line(&self) -> String {
        let mut statuses: Vec<_> = self.by_status.iter().collect();
        statuses.sort();
        statuses.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    }
}

/// Reads `bookings.db` for `event`.
pub fn bookings(path: &Path, event: &str) -> Bookings {
    let c = open(path);
    let mut b = Bookings::default();
    let mut st = c.prepare("SELECT id, status, seats FROM bookings WHERE event_id = ?1").expect("bookings");
    let rows = st
        .query_map(params![event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .expect("bookings");
    let mut seat_count: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let (id, status, seats) = row.expect("booking row");
        *b.by_status.entry(status.clone()).or_default() += 1;
        if status == "confirmed" {
            let seats: Vec<String> = serde_json::from_str(&seats).unwrap_or_default();
            for s in seats {
                *seat_count.entry(s).or_default() += 1;
            }
            b.confirmed.push(id);
        }
    }
    b.seats_in_two_confirmed = seat_count.values().filter(|n| **n > 1).count() as u64;
    b.sold_seats = one(&c, "SELECT COUNT(*) FROM sold_seats WHERE event_id = ?1", event);
    let mut st =
        c.prepare("SELECT tier_id, SUM(quantity) FROM sold_ga WHERE event_id = ?1 GROUP BY tier_id").expect("sold_ga");
    for row in st.query_map(params![event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).expect("sold_ga") {
        let (tier, q) = row.expect("sold_ga row");
        b.sold_ga.insert(tier, q);
    }
    b.sold_rows_of_unconfirmed = one(
        &c,
        "SELECT COUNT(*) FROM sold_seats s JOIN bookings b ON b.id = s.booking_id WHERE s.event_id = ?1 AND b.status <> 'confirmed'",
        event,
    ) + one(
        &c,
        "SELECT SUM(g.quantity) FROM sold_ga g JOIN bookings b ON b.id = g.booking_id WHERE g.event_id = ?1 AND b.status <> 'confirmed'",
        event,
    );
    b
}

/// Payments' view of one event.
#[derive(Debug, Default)]
pub struct Payments {
    /// Succeeded payments per booking id.
    pub succeeded: HashMap<String, u64>,
    /// Succeeded payments not (yet) refunded in full, per booking id.
    pub kept: HashMap<String, u64>,
}

/// Reads `payments.db` for `event`.
pub fn payments(path: &Path, event: &str) -> Payments {
    let c = open(path);
    let mut p = Payments::default();
    let mut st = c
        .prepare(
            "SELECT p.booking_id, p.refunded_minor < p.amount_minor FROM payments p JOIN orders o ON o.booking_id = p.booking_id \
             WHERE o.event_id = ?1 AND p.succeeded_ms IS NOT NULL",
        )
        .expect("payments");
    for row in st.query_map(params![event], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))).expect("payments") {
        let (booking, kept) = row.expect("payment row");
        *p.succeeded.entry(booking.clone()).or_default() += 1;
        if kept {
            *p.kept.entry(booking).or_default() += 1;
        }
    }
    p
}

/// Valid tickets of `event` in `tickets.db`.
pub fn valid_tickets(path: &Path, event: &str) -> i64 {
    one(&open(path), "SELECT COUNT(*) FROM tickets WHERE event_id = ?1 AND status = 'valid'", event)
}

/// The `holds` KV store of one event.
#[derive(Debug, Default)]
pub struct Holds {
    /// Hold records per status.
    pub by_status: HashMap<String, u64>,
    /// Seats listed by more than one live (active or booked, unexpired) or
    /// consumed hold.
    pub seats_in_two_live: u64,
    /// Seat lock counters (`lock:`) per value.
    pub locks: HashMap<i64, u64>,
    /// General-admission counters (`ga:`) per tier.
    pub ga: HashMap<String, i64>,
    /// User allowance counters (`user:`) that are not 0.
    pub users_nonzero: u64,
    /// User allowance counters below 0.
    pub users_negative: u64,
}

/// A counter as the backend stores it: 8 little-endian bytes (Spin's SQLite
/// KV file) or decimal text (Redis `INCRBY`); `i64::MIN` when neither.
fn counter(v: &[u8]) -> i64 {
    match std::str::from_utf8(v).ok().and_then(|t| t.parse::<i64>().ok()) {
        Some(n) if v.len() != 8 || v.iter().all(u8::is_ascii_digit) => n,
        _ => v.try_into().map(i64::from_le_bytes).unwrap_or(i64::MIN),
    }
}

/// Reads `holds-kv.db` for `event` at `now_ms`.
pub fn holds(path: &Path, event: &str, now_ms: i64) -> Holds {
    let c = open(path);
    let mut st = c.prepare("SELECT key, value FROM spin_key_value").expect("kv");
    let rows: Vec<(String, Vec<u8>)> = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .expect("kv")
        .map(|r| r.expect("kv row"))
        .collect();
    holds_of(rows, event, now_ms)
}

/// Booking's `holds` store for `event` at `now_ms`, from its `(key,
/// value)` pairs as stored (keys in the label's namespace, `holds/…`;
/// other labels' keys, as Redis lists them too, are skipped).
pub fn holds_of(rows: Vec<(String, Vec<u8>)>, event: &str, now_ms: i64) -> Holds {
    let mut h = Holds::default();
    let mut seat_count: HashMap<String, u64> = HashMap::new();
    let scoped = |key: &str, kind: &str| {
        key.strip_prefix(kind).and_then(|k| k.strip_prefix(event)).and_then(|k| k.strip_prefix(':')).map(str::to_string)
    };
    for (key, value) in rows {
        // booking keeps its keys in the label's namespace (`holds/…`)
        let Some(key) = key.strip_prefix("holds/") else { continue };
        if key.starts_with("hold:") {
            let Ok(rec) = serde_json::from_slice::<Value>(&value) else { continue };
            if rec["event_id"] != event {
                continue;
            }
            let status = rec["status"].as_str().unwrap_or("?").to_string();
            let live = match status.as_str() {
                "active" | "booked" => rec["expires_ms"].as_i64().unwrap_or(0) > now_ms,
                "consumed" => true,
                _ => false,
            };
            if live {
                for s in rec["seats"].as_array().into_iter().flatten() {
                    *seat_count.entry(s["id"].as_str().unwrap_or("?").to_string()).or_default() += 1;
                }
            }
            *h.by_status.entry(status).or_default() += 1;
        } else if scoped(key, "lock:").is_some() {
            *h.locks.entry(counter(&value)).or_default() += 1;
        } else if let Some(tier) = scoped(key, "ga:") {
            h.ga.insert(tier, counter(&value));
        } else if scoped(key, "user:").is_some() {
            let n = counter(&value);
            h.users_nonzero += u64::from(n != 0);
            h.users_negative += u64::from(n < 0);
        }
    }
    h.seats_in_two_live = seat_count.values().filter(|n| **n > 1).count() as u64;
    h
}
