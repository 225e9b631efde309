//! Availability an edge can serve: the live status of an event's seats
//! and tiers, split from its seat layout.
//!
//! * `GET /api/holds/availability/:event_id` — the **status document**,
//!   a few KB for 20,000 seats, answered from state kept up to date on
//!   every write (the status blob and tier counters of [`crate::mirror`],
//!   and one KV read per general-admission tier), never by reading every
//!   seat:
//!
//!   ```json
//!   {"event_id":"evt_…","status":"published","version":"7.1042.p.12","as_of":"2026-…Z",
//!    "layout":{"version":7,"url":"/api/holds/layout/evt_…/7","seat_count":20000},
//!    "seats":{"encoding":"2bit-le-base64","states":["available","held","sold"],"bits":"AAAA…"},
//!    "tiers":[{"tier_id","kind","price_minor","capacity","sold","held","available"}],
//!    "totals":{"capacity","sold","held","available"}}
//!   ```
//!
//!   Seat i of the layout's order has state `(byte[i/4] >> 2*(i%4)) & 3`
//!   of the base64-decoded `bits` (index into `states`). For every tier
//!   and in total `sold + held + available = capacity`, none negative.
//!   `version` (also the strong `ETag`) changes exactly when a seat or a
//!   general-admission count changes state — including a hold running out
//!   — or the layout or the event's status changes; `If-None-Match` with
//!   it answers `304`. `Cache-Control: public, max-age=1` lets an edge
//!   cache absorb a crowd of pollers. The seats of a hold past its time
//!   read as available at once (the tick, or the next claimant, frees them
//!   for real): a read never writes.
//! * `GET /api/holds/layout/:event_id/:version` — the **layout document**
//!   of one event version ([`crate::layout`]), immutable:
//!   `Cache-Control: public, max-age=31536000, immutable`, a strong `ETag`,
//!   stored gzip-compressed and sent so to clients that accept it. A
//!   version that is no longer current answers 404 (the status document
//!   names the current one).
//!
//! Both answer 404 for unknown events and drafts, like the events API.

use crate::domain::parse_id;
use crate::inventory::{self, Inventory};
use crate::kv::{counter, Kv};
use crate::locks::ga_key;
use crate::store;
use crate::{layout, mirror};
use base64::Engine;
use platform::tier::TierKind;
use platform::{ApiError, ApiResult};
use serde::Serialize;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

/// `Cache-Control` of the status document.
pub const STATUS_CACHE: &str = "public, max-age=1";
/// `Cache-Control` of a layout document (its URL names its version).
pub const LAYOUT_CACHE: &str = "public, max-age=31536000, immutable";
/// Seat states in the order of their 2-bit codes.
pub const STATES: [&str; 3] = ["available", "held", "sold"];

/// Counts of one tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierCounts {
    /// Tier id.
    pub tier_id: String,
    pub kind: TierKind,
    /// Price per ticket, minor units.
    pub price_minor: i64,
    /// Seats (seated) or places (general admission).
    pub capacity: i64,
    /// Paid for.
    pub sold: i64,
    /// In holds or awaiting payment.
    pub held: i64,
    /// Still for sale.
    pub available: i64,
}

/// The counts of every tier of `inv`: seated tiers from the tier counters,
/// general-admission ones from `ga_taken` (the KV counter of each, places
/// held or sold, in tier order) and the places sold. Clamped so that
/// `sold + held + available = capacity` with nothing negative.
pub fn tier_counts(inv: &Inventory, ga_taken: &[i64]) -> Vec<TierCounts> {
    let mut ga = ga_taken.iter();
    inv.tiers
        .iter()
        .map(|t| {
            let capacity = i64::from(t.capacity);
            let (sold, held) = if t.is_ga() {
                let taken = ga.next().copied().unwrap_or(0).clamp(0, capacity);
                let sold = t.sold.clamp(0, taken);
                (sold, taken - sold)
            } else {
                let sold = t.sold.clamp(0, capacity);
                (sold, t.held.clamp(0, capacity - sold))
            };
            TierCounts {
                tier_id: t.id.clone(),
                kind: t.kind,
                price_minor: t.price_minor,
                capacity,
                sold,
                held,
                available: capacity - sold - held,
            }
        })
        .collect()
}

/// True when `if_none_match` (the header's value) names `etag`: `*`, or a
/// list of entity tags compared weakly (RFC 9110 §13.1.2).
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| bare(t) == bare(etag))
}

fn not_found(event_id: &str) -> ApiError {
    ApiError::NotFound(format!("event {event_id} does not exist"))
}

/// The public copy of `event_id` (404 for drafts and unknown events).
fn public_copy(conn: &Connection, raw_id: &str) -> ApiResult<Inventory> {
    let event_id = parse_id("event_id", raw_id).map_err(|e| ApiError::Validation(vec![e]))?;
    let inv = inventory::current(conn, &event_id)?;
    if !inv.is_public() {
        return Err(not_found(&event_id));
    }
    Ok(inv)
}

fn revalidated(req: &Request, etag: &str) -> bool {
    platform::web::header_last(req, "if-none-match").is_some_and(|v| none_match(v, etag))
}

fn not_modified(etag: &str, cache: &str) -> Response {
    Response::builder()
        .status(304)
        .header("etag", etag)
        .header("cache-control", cache)
        .header("vary", "Accept-Encoding")
        .body(Vec::new())
        .build()
}

/// `GET /api/holds/availability/:event_id` — the status document (see the
/// module docs). 200, 304, 404, 422 for a malformed id, 503.
pub fn status(req: Request, params: Params) -> ApiResult {
    let conn = store::open()?;
    let raw_id = params.get("event_id").unwrap_or_default();
    // One read transaction, so counts and seat bits come from one WAL
    // snapshot and never disagree while holds and sweeps write beside it.
    // A missing or stale copy is made first by `public_copy` (a write, so
    // outside the snapshot) and read again in a new one.
    conn.execute("BEGIN", &[])?;
    let answer = (|| {
        let event_id = parse_id("event_id", raw_id).map_err(|e| ApiError::Validation(vec![e]))?;
        let inv = match inventory::load(&conn, &event_id)?.filter(|i| !i.is_stale()) {
            Some(fresh) => fresh,
            None => {
                conn.execute("COMMIT", &[])?;
                public_copy(&conn, raw_id)?;
                conn.execute("BEGIN", &[])?;
                inventory::load(&conn, &event_id)?.ok_or_else(|| not_found(&event_id))?
            }
        };
        if !inv.is_public() {
            return Err(not_found(&event_id));
        }
        status_in_snapshot(&req, inv, &conn)
    })();
    let _ = conn.execute("COMMIT", &[]);
    answer
}

fn status_in_snapshot(req: &Request, mut inv: Inventory, conn: &spin_sdk::sqlite3::Connection) -> ApiResult {
    let kv = Kv::open()?;
    let now = platform::clock::now_ms();
    let seat_version = mirror::status_version(conn, &inv.event_id)?.ok_or_else(|| mirror::missing(&inv.event_id))?;
    // seats of holds past their time read as available (the sweep frees them)
    let past = mirror::held_past(conn, &inv.event_id, now)?;
    for (_, tier) in &past {
        if let Some(t) = inv.tiers.iter_mut().find(|t| &t.id == tier) {
            t.held -= 1;
        }
    }
    let mut ga_taken = Vec::new();
    for t in inv.tiers.iter().filter(|t| t.is_ga()) {
        ga_taken.push(kv.get(&ga_key(&inv.event_id, &t.id))?.map_or(0, |v| counter(&v)));
    }
    let ga_digest: Vec<String> = ga_taken.iter().map(i64::to_string).collect();
    let version = format!(
        "{}.{}.{}.{}.{}",
        inv.version,
        seat_version,
        past.len(),
        &inv.status.as_str()[..1],
        ga_digest.join("-")
    );
    let etag = format!("\"{version}\"");
    if revalidated(req, &etag) {
        return Ok(not_modified(&etag, STATUS_CACHE));
    }
    let (_, mut bits) = mirror::status(conn, &inv.event_id)?.ok_or_else(|| mirror::missing(&inv.event_id))?;
    for (idx, _) in &past {
        mirror::set_bit_state(&mut bits, usize::try_from(*idx).unwrap_or(0), mirror::FREE);
    }
    let tiers = tier_counts(&inv, &ga_taken);
    let sum = |f: fn(&TierCounts) -> i64| tiers.iter().map(f).sum::<i64>();
    let doc = serde_json::json!({
        "event_id": inv.event_id,
        "status": inv.status.as_str(),
        "version": version,
        "as_of": platform::clock::rfc3339(now),
        "layout": {"version": inv.version, "url": layout::url(&inv.event_id, inv.version), "seat_count": inv.seat_count},
        "seats": {"encoding": "2bit-le-base64", "states": STATES, "bits": base64::engine::general_purpose::STANDARD.encode(&bits)},
        "totals": {"capacity": sum(|t| t.capacity), "sold": sum(|t| t.sold), "held": sum(|t| t.held), "available": sum(|t| t.available)},
        "tiers": tiers,
    });
    let mut resp = platform::web::json(200, &doc);
    resp.set_header("etag", etag);
    resp.set_header("cache-control", STATUS_CACHE);
    resp.set_header("vary", "Accept-Encoding");
    Ok(resp)
}

/// `GET /api/holds/layout/:event_id/:version` — the layout document (see
/// the module docs). 200, 304, 404 (unknown event, draft, or a version
/// that is not the current one), 422 for a malformed id or version, 503.
pub fn layout(req: Request, params: Params) -> ApiResult {
    let raw = params.get("version").unwrap_or_default();
    let version: i64 = raw.parse().map_err(|_| ApiError::field("version", "must be an event version (an integer)"))?;
    let conn = store::open()?;
    let inv = public_copy(&conn, params.get("event_id").unwrap_or_default())?;
    if version != inv.version {
        return Err(ApiError::NotFound(format!(
            "event {} has no layout version {version}; the current one is {}",
            inv.event_id,
            layout::url(&inv.event_id, inv.version)
        )));
    }
    let etag = layout::etag(&inv.event_id, version);
    if revalidated(&req, &etag) {
        return Ok(not_modified(&etag, LAYOUT_CACHE));
    }
    let r = conn.execute(
        "SELECT gz FROM inv_layouts WHERE event_id = ? AND version = ?",
        &[Value::Text(inv.event_id.clone()), Value::Integer(version)],
    )?;
    let gz = r
        .rows()
        .next()
        .and_then(|row| row.get::<&[u8]>("gz").map(<[u8]>::to_vec))
        .ok_or_else(|| mirror::missing(&inv.event_id))?;
    let mut builder = Response::builder();
    builder
        .status(200)
        .header("content-type", "application/json")
        .header("etag", etag)
        .header("cache-control", LAYOUT_CACHE)
        .header("vary", "Accept-Encoding");
    let resp = if platform::compress::accepts_gzip(&req) {
        builder.header("content-encoding", "gzip").body(gz).build()
    } else {
        let body = platform::compress::gunzip(&gz)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("layout of {} is unreadable: {e}", inv.event_id)))?;
        builder.body(body).build()
    };
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Tier;
    use platform::event_status::EventStatus;

    fn inv(tiers: Vec<Tier>) -> Inventory {
        Inventory {
            event_id: "evt_1".into(),
            version: 1,
            wanted: 1,
            title: "t".into(),
            status: EventStatus::Published,
            starts_at: "2030-01-01T00:00:00Z".into(),
            timezone: "UTC".into(),
            sales_start: None,
            sales_end: None,
            order_limit: 8,
            currency: "EUR".into(),
            seat_count: 10,
            venue: String::new(),
            tiers,
        }
    }

    fn tier(id: &str, kind: &str, capacity: u32, held: i64, sold: i64) -> Tier {
        Tier {
            id: id.into(),
            name: id.into(),
            price_minor: 100,
            kind: TierKind::parse(kind).unwrap(),
            capacity,
            held,
            sold,
        }
    }

    #[test]
    fn counts_add_up_to_capacity_whatever_the_counters_say() {
        let inv = inv(vec![
            tier("s", "seated", 10, 3, 2),
            tier("g", "general_admission", 5, 0, 1),
            tier("g2", "general_admission", 4, 0, 9),
        ]);
        let c = tier_counts(&inv, &[4, 99]);
        assert_eq!((c[0].sold, c[0].held, c[0].available), (2, 3, 5));
        assert_eq!((c[1].sold, c[1].held, c[1].available), (1, 3, 1));
        // a counter past the capacity (an orphaned claim) never makes anything negative
        assert_eq!((c[2].capacity, c[2].sold, c[2].held, c[2].available), (4, 4, 0, 0));
        for t in &c {
            assert_eq!(t.sold + t.held + t.available, t.capacity, "{t:?}");
        }
        let over = inv.clone();
        let mut over = over;
        over.tiers = vec![tier("s", "seated", 4, 9, 2)];
        let c = tier_counts(&over, &[]);
        assert_eq!((c[0].sold, c[0].held, c[0].available), (2, 2, 0));
    }

    #[test]
    fn if_none_match_is_a_weak_list_comparison() {
        assert!(none_match("\"1.2.p.\"", "\"1.2.p.\""));
        assert!(none_match("W/\"1.2.p.\"", "\"1.2.p.\""));
        assert!(none_match("\"x\", \"1.2.p.\"", "\"1.2.p.\""));
        assert!(none_match("*", "\"a\""));
        assert!(!none_match("\"1.3.p.\"", "\"1.2.p.\""));
        assert!(!none_match("", "\"1.2.p.\""));
    }
}
