//! Read model: the live status of every seat and the remaining count of
//! every general-admission tier (`GET /api/holds/availability/:event_id`).
//!
//! One inventory fetch, one SQLite query per table and two batched KV
//! reads, so it is cheap enough to poll.

use crate::inventory::Inventory;
use crate::kv::{counter, Kv};
use crate::locks::{ga_key, lock_key, lock_parts, owner_key, Owner};
use platform::ApiResult;
use serde::Serialize;
use spin_sdk::sqlite3::{Connection, Value};
use std::collections::{HashMap, HashSet};

/// A seat's live status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    /// Can be held.
    Available,
    /// In a live hold or a booking awaiting payment.
    Held,
    /// Paid for.
    Sold,
}

const SOLD_SEATS: &str = "SELECT seat_id FROM sold_seats WHERE event_id = ?";
const SOLD_GA: &str = "SELECT tier_id, SUM(quantity) AS q FROM sold_ga WHERE event_id = ? GROUP BY tier_id";

/// The status of every seat of `inv`.
pub fn seat_statuses(kv: &Kv, conn: &Connection, inv: &Inventory, now_ms: i64) -> ApiResult<HashMap<String, SeatStatus>> {
    let sold: HashSet<String> = conn
        .execute(SOLD_SEATS, &[Value::Text(inv.event_id.clone())])?
        .rows()
        .filter_map(|r| r.get::<&str>("seat_id").map(str::to_string))
        .collect();
    let open: Vec<&str> = inv.seats.iter().map(|s| s.id.as_str()).filter(|id| !sold.contains(*id)).collect();
    let mut keys: Vec<String> = open.iter().map(|id| lock_key(&inv.event_id, id)).collect();
    keys.extend(open.iter().map(|id| owner_key(&inv.event_id, id)));
    let values = kv.get_many(keys)?;
    let mut out = HashMap::with_capacity(inv.seats.len());
    for seat in &inv.seats {
        let status = if sold.contains(&seat.id) {
            SeatStatus::Sold
        } else {
            let locked = values.get(&lock_key(&inv.event_id, &seat.id)).is_some_and(|v| lock_parts(counter(v)).1 >= 1);
            let owner = values.get(&owner_key(&inv.event_id, &seat.id)).and_then(|v| Owner::decode(v));
            match (locked, owner) {
                (false, _) => SeatStatus::Available,
                // an owner past its time is as good as gone: the next claimant expires it
                (true, Some(o)) if o.expires_ms <= now_ms => SeatStatus::Available,
                (true, _) => SeatStatus::Held,
            }
        };
        out.insert(seat.id.clone(), status);
    }
    Ok(out)
}

/// Counts of one tier.
#[derive(Debug, Clone, Serialize)]
pub struct TierCounts {
    /// Tier id.
    pub tier_id: String,
    /// `seated` or `general_admission`.
    pub kind: String,
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

/// The availability document:
/// `{"event_id","as_of","seats":[{"id","tier_id","status"}],"tiers":[TierCounts],
///   "totals":{"capacity","sold","held","available"}}`.
/// For every tier `sold + held + available = capacity`, none negative.
pub fn document(kv: &Kv, conn: &Connection, inv: &Inventory, now_ms: i64) -> ApiResult<serde_json::Value> {
    let statuses = seat_statuses(kv, conn, inv, now_ms)?;
    let sold_ga: HashMap<String, i64> = conn
        .execute(SOLD_GA, &[Value::Text(inv.event_id.clone())])?
        .rows()
        .filter_map(|r| Some((r.get::<&str>("tier_id")?.to_string(), r.get::<i64>("q")?)))
        .collect();
    let ga_keys: Vec<String> = inv.tiers.iter().filter(|t| t.is_ga()).map(|t| ga_key(&inv.event_id, &t.id)).collect();
    let ga_values = kv.get_many(ga_keys)?;
    let mut tiers = Vec::new();
    for tier in &inv.tiers {
        let counts = if tier.is_ga() {
            let capacity = i64::from(tier.capacity);
            let taken = ga_values.get(&ga_key(&inv.event_id, &tier.id)).map(|v| counter(v)).unwrap_or(0).clamp(0, capacity);
            let sold = sold_ga.get(&tier.id).copied().unwrap_or(0).clamp(0, taken);
            TierCounts { tier_id: tier.id.clone(), kind: tier.kind.clone(), price_minor: tier.price_minor, capacity, sold, held: taken - sold, available: capacity - taken }
        } else {
            let mut c = TierCounts { tier_id: tier.id.clone(), kind: tier.kind.clone(), price_minor: tier.price_minor, capacity: 0, sold: 0, held: 0, available: 0 };
            for seat in inv.seats.iter().filter(|s| s.tier_id == tier.id) {
                c.capacity += 1;
                match statuses.get(&seat.id) {
                    Some(SeatStatus::Sold) => c.sold += 1,
                    Some(SeatStatus::Held) => c.held += 1,
                    _ => c.available += 1,
                }
            }
            c
        };
        tiers.push(counts);
    }
    let sum = |f: fn(&TierCounts) -> i64| tiers.iter().map(f).sum::<i64>();
    let totals = serde_json::json!({
        "capacity": sum(|t| t.capacity), "sold": sum(|t| t.sold), "held": sum(|t| t.held), "available": sum(|t| t.available),
    });
    let seats: Vec<_> = inv
        .seats
        .iter()
        .map(|s| serde_json::json!({"id": s.id, "tier_id": s.tier_id, "status": statuses.get(&s.id).copied().unwrap_or(SeatStatus::Available)}))
        .collect();
    Ok(serde_json::json!({
        "event_id": inv.event_id,
        "status": inv.status,
        "as_of": platform::clock::rfc3339(now_ms),
        "seats": seats,
        "tiers": tiers,
        "totals": totals,
    }))
}
