//! What booking sells: its own copy of each event's inventory (tiers,
//! prices, sales window, order limit, seats), made from the `events`
//! component once per event version, and the sales rules checked before
//! anything is held.
//!
//! ## How the copy stays current
//!
//! `events` gives every event a `version` that increases with each change
//! (publish, edit, cancel, import update) and serves it in the inventory
//! document (`GET http://events.spin.internal/api/events/{id}/inventory`).
//! Every such change also emits the saga event `EventChanged
//! {event_id, version}` in the same transaction ([`saga::types::EVENT_CHANGED`]),
//! delivered to booking right after the commit, inside the organizer's
//! request:
//!
//! 1. the delivery records the announced version (`inv_events.wanted`,
//!    [`announce`]) in booking's inbox transaction;
//! 2. after that commit, the same delivery request copies the new version
//!    ([`refresh_if_stale`]) when booking holds an older copy — so when the
//!    organizer's edit returns, booking already sells the new seats and
//!    tiers and applies the new sales rules;
//! 3. any request that needs an event ([`current`]) and finds no copy, or a
//!    copy older than the version announced (step 2 failed), copies it
//!    first. One request loads at a time (a lease row in `inv_loads`);
//!    others wait for it (up to [`LOAD_WAIT_MS`]), so a thundering herd on
//!    a new event costs one fetch.
//!
//! An event booking never needed is not copied when announced; the first
//! request for it copies the then-current version. When `events` cannot be
//! reached, a request with a stale copy uses it (logged) rather than fail
//! every sale; a published event's edits can only add seats and tiers,
//! move dates and reprice tiers of which nothing is sold or held
//! (`events::check_keeps_sales`; a hold keeps the price it was made with),
//! and a cancellation also reaches
//! booking as `EventCancelled`, which marks the copy cancelled at once.
//!
//! A copy replaces the previous one in one transaction ([`store`]) that
//! keeps every seat's live state (held, sold) across versions, rebuilds the
//! status blob in the new layout order, ranks the seats for best available
//! ([`crate::selection::rank_rows`]) and stores the compressed layout
//! document ([`crate::layout`]). Drafts are never copied: events answers
//! 404 for a draft to a chained request, and so does booking.

use crate::document::{self, Document};
use crate::mirror::{self, FREE, HELD, SOLD};
use platform::event_status::EventStatus;
use platform::tier::TierKind;
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};
use std::collections::HashMap;

/// How long a request waits for another one that is copying the same
/// event, ms.
pub const LOAD_WAIT_MS: i64 = 15_000;
/// How long a loader owns the copying of an event, ms (a loader that died
/// is taken over after it).
const LOAD_LEASE_MS: i64 = 20_000;
/// Rows per INSERT statement when copying seats (13 values each).
const SEAT_BATCH: usize = 400;

/// Booking's copy of an event (without its seats, which stay in
/// `inv_seats`).
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// `evt_…`
    pub event_id: String,
    /// The version this copy was made from.
    pub version: i64,
    /// The highest version announced; newer than `version` = stale.
    pub wanted: i64,
    /// Event title.
    pub title: String,
    pub status: EventStatus,
    /// Start, RFC 3339.
    pub starts_at: String,
    /// IANA time zone.
    pub timezone: String,
    /// Sales open at (RFC 3339), or at once.
    pub sales_start: Option<String>,
    /// Sales close at (RFC 3339), or at the start.
    pub sales_end: Option<String>,
    /// Most tickets per order and per user for this event.
    pub order_limit: u32,
    /// ISO 4217 currency of every tier.
    pub currency: String,
    /// Seats in the layout.
    pub seat_count: i64,
    /// Where the event is, one line ([`DocVenue::location`]; empty when
    /// the copy predates it).
    pub venue: String,
    /// Price tiers, in the event's order.
    pub tiers: Vec<Tier>,
}

/// A price tier of booking's copy, with its live counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// `tier_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price per ticket, minor units.
    pub price_minor: i64,
    pub kind: TierKind,
    /// Places (general admission) or seats in the layout (seated).
    pub capacity: u32,
    /// Seated: seats held now (general admission: see the KV counter).
    pub held: i64,
    /// Seats or places sold.
    pub sold: i64,
}

impl Tier {
    /// True for general admission (sold by count, no seat).
    pub fn is_ga(&self) -> bool {
        self.kind == TierKind::GeneralAdmission
    }
}

impl Inventory {
    /// The tier `id`.
    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The order limit, capped at [`crate::domain::MAX_ORDER`] and at least 1.
    pub fn limit(&self) -> u32 {
        self.order_limit.clamp(1, crate::domain::MAX_ORDER)
    }

    /// Start as Unix ms.
    pub fn starts_ms(&self) -> Option<i64> {
        platform::clock::parse_rfc3339(&self.starts_at)
    }

    /// True when a newer version was announced than this copy's.
    pub fn is_stale(&self) -> bool {
        self.wanted > self.version
    }

    /// Visible through booking's public reads: everything but drafts
    /// (events keeps drafts to their organizer).
    pub fn is_public(&self) -> bool {
        self.status != EventStatus::Draft
    }

    /// When sales close, Unix ms: `sales_end` when the organizer set one
    /// (events allows it up to the event's end, for sales at the door),
    /// else the start. `None` when neither parses (then nothing is sold).
    pub fn sales_close_ms(&self) -> Option<i64> {
        match self.sales_end.as_deref() {
            Some(end) => platform::clock::parse_rfc3339(end),
            None => self.starts_ms(),
        }
    }

    /// The sales rules (docs/DESIGN.md §2; issue 5 for holds, issue 13 for every
    /// later step): nothing is held, checked out or paid for a draft or
    /// cancelled event, before `sales_start`, or once sales closed
    /// ([`Inventory::sales_close_ms`]). Each refusal is a 409 with its own
    /// problem type: `event-not-on-sale`, `event-cancelled`,
    /// `sales-not-open`, `sales-closed` (past `sales_end`) or `event-past`
    /// (started, with no later `sales_end`).
    pub fn check_on_sale(&self, now_ms: i64) -> ApiResult<()> {
        match self.status {
            EventStatus::Published => {}
            EventStatus::Cancelled => return Err(ApiError::conflict("event-cancelled", "this event was cancelled")),
            EventStatus::Draft => return Err(ApiError::conflict("event-not-on-sale", "this event is not on sale")),
        }
        if self.sales_close_ms().is_none_or(|close| close <= now_ms) {
            return Err(if self.sales_end.is_some() {
                ApiError::conflict("sales-closed", "sales for this event have closed")
            } else {
                ApiError::conflict("event-past", "this event has already started")
            });
        }
        if let Some(open) = self.sales_start.as_deref().and_then(platform::clock::parse_rfc3339) {
            if now_ms < open {
                return Err(ApiError::conflict(
                    "sales-not-open",
                    format!("sales open at {}", platform::clock::rfc3339(open)),
                ));
            }
        }
        Ok(())
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

/// Booking's copy of `event_id`, as stored (no fetch): one row of
/// `inv_events` and its tiers.
pub fn load(conn: &Connection, event_id: &str) -> ApiResult<Option<Inventory>> {
    let r = conn.execute(
        "SELECT event_id, version, wanted, title, status, starts_at, timezone, sales_start, sales_end, order_limit, currency, seat_count, venue \
         FROM inv_events WHERE event_id = ?",
        &[text(event_id)],
    )?;
    let Some(row) = r.rows().next() else { return Ok(None) };
    let s = |c: &str| row.get::<&str>(c).unwrap_or_default().to_string();
    let mut inv = Inventory {
        event_id: s("event_id"),
        version: row.get::<i64>("version").unwrap_or(0),
        wanted: row.get::<i64>("wanted").unwrap_or(0),
        title: s("title"),
        status: EventStatus::parse(&s("status")).unwrap_or(EventStatus::Draft),
        starts_at: s("starts_at"),
        timezone: s("timezone"),
        sales_start: row.get::<&str>("sales_start").map(str::to_string),
        sales_end: row.get::<&str>("sales_end").map(str::to_string),
        order_limit: u32::try_from(row.get::<i64>("order_limit").unwrap_or(1)).unwrap_or(1),
        currency: s("currency"),
        seat_count: row.get::<i64>("seat_count").unwrap_or(0),
        venue: s("venue"),
        tiers: vec![],
    };
    let t = conn.execute(
        "SELECT tier_id, name, price_minor, kind, capacity, held, sold FROM inv_tiers WHERE event_id = ? ORDER BY position",
        &[text(event_id)],
    )?;
    inv.tiers = t
        .rows()
        .filter_map(|r| {
            Some(Tier {
                id: r.get::<&str>("tier_id")?.to_string(),
                name: r.get::<&str>("name")?.to_string(),
                price_minor: r.get::<i64>("price_minor")?,
                kind: TierKind::parse(r.get::<&str>("kind")?).ok()?,
                capacity: u32::try_from(r.get::<i64>("capacity")?).unwrap_or(0),
                held: r.get::<i64>("held")?,
                sold: r.get::<i64>("sold")?,
            })
        })
        .collect();
    Ok(Some(inv))
}

/// Booking's current copy of `event_id`, copying it from `events` first
/// when there is none or a newer version was announced (see the module
/// docs). Drafts come back too (the caller decides what a draft may see).
///
/// Errors: 404 when events does not know the event (or it is a draft
/// events keeps to its organizer); 502/503 when events cannot be read and
/// booking has no copy; 503 when another request's copying takes longer
/// than [`LOAD_WAIT_MS`].
pub fn current(conn: &Connection, event_id: &str) -> ApiResult<Inventory> {
    let copy = load(conn, event_id)?;
    if let Some(inv) = &copy {
        if !inv.is_stale() {
            return Ok(inv.clone());
        }
    }
    match copy_from_events(conn, event_id) {
        Ok(inv) => Ok(inv),
        Err(e @ ApiError::NotFound(_)) => Err(e),
        Err(e) => match copy {
            Some(stale) => {
                platform::log::warn!(
                    "inventory {event_id}: using version {} (announced {}): {e}",
                    stale.version,
                    stale.wanted
                );
                Ok(stale)
            }
            None => Err(e),
        },
    }
}

/// Copies the event now unless another request is doing it (then waits for
/// that one).
fn copy_from_events(conn: &Connection, event_id: &str) -> ApiResult<Inventory> {
    let deadline = platform::clock::now_ms() + LOAD_WAIT_MS;
    loop {
        let now = platform::clock::now_ms();
        let won = conn.execute(
            "INSERT INTO inv_loads (event_id, until_ms) VALUES (?, ?) \
             ON CONFLICT(event_id) DO UPDATE SET until_ms = excluded.until_ms WHERE inv_loads.until_ms <= ? RETURNING event_id",
            &[text(event_id), Value::Integer(now + LOAD_LEASE_MS), Value::Integer(now)],
        )?;
        if !won.rows.is_empty() {
            let result = document::fetch(event_id).and_then(|doc| store(conn, &doc));
            if let Err(e) = conn.execute("DELETE FROM inv_loads WHERE event_id = ?", &[text(event_id)]) {
                platform::log::warn!("inventory {event_id}: load lease left to lapse: {e:?}");
            }
            result?;
            return load(conn, event_id)?.ok_or_else(|| mirror::missing(event_id));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let loaded = conn
            .execute(
                "SELECT 1 AS x FROM inv_loads WHERE event_id = ? AND until_ms > ?",
                &[text(event_id), Value::Integer(platform::clock::now_ms())],
            )?
            .rows
            .is_empty();
        if loaded {
            // the other loader finished (or gave up): take its copy, or try ourselves
            if let Some(inv) = load(conn, event_id)? {
                if !inv.is_stale() {
                    return Ok(inv);
                }
            }
        }
        if platform::clock::now_ms() > deadline {
            return Err(ApiError::Unavailable(format!("event {event_id} is being loaded; try again")));
        }
    }
}

/// A seat's live state carried into a new copy.
struct Carried {
    state: i64,
    hold_id: Option<String>,
    until_ms: Option<i64>,
}

/// Replaces booking's copy of `doc.event_id` with `doc`, in one
/// transaction, unless the stored copy is already as new (`Ok(false)`).
/// Seat states are kept by seat id (a first copy takes the sold seats from
/// `sold_seats`); the status blob, tier counters and layout document are
/// rebuilt. Cost: one pass over the venue — once per event version.
pub fn store(conn: &Connection, doc: &Document) -> ApiResult<bool> {
    let layout = crate::layout::Layout::of(doc);
    let gz = platform::compress::gzip(&layout.json);
    let now = platform::clock::now_ms();
    let ev = doc.event_id.as_str();
    platform::db::transaction(conn, |c| {
        let had = c.execute("SELECT version FROM inv_events WHERE event_id = ?", &[text(ev)])?;
        let had: Option<i64> = had.rows().next().and_then(|r| r.get::<i64>("version"));
        if had.is_some_and(|v| v >= doc.version && doc.version > 0) {
            return Ok(false);
        }
        let mut carried: HashMap<String, Carried> = HashMap::new();
        if had.is_some() {
            let r = c.execute(
                "SELECT seat_id, state, hold_id, until_ms FROM inv_seats WHERE event_id = ? AND state != 0",
                &[text(ev)],
            )?;
            for row in r.rows() {
                let Some(id) = row.get::<&str>("seat_id") else { continue };
                let state = row.get::<i64>("state").unwrap_or(FREE);
                carried.insert(
                    id.to_string(),
                    Carried {
                        state,
                        hold_id: row.get::<&str>("hold_id").map(str::to_string),
                        until_ms: row.get::<i64>("until_ms"),
                    },
                );
            }
        } else {
            let r = c.execute("SELECT seat_id FROM sold_seats WHERE event_id = ?", &[text(ev)])?;
            for row in r.rows() {
                if let Some(id) = row.get::<&str>("seat_id") {
                    carried.insert(id.to_string(), Carried { state: SOLD, hold_id: None, until_ms: None });
                }
            }
        }
        c.execute("DELETE FROM inv_seats WHERE event_id = ?", &[text(ev)])?;
        c.execute("DELETE FROM inv_tiers WHERE event_id = ?", &[text(ev)])?;
        let mut bits = vec![0u8; mirror::bits_len(layout.order.len())];
        let mut counts: HashMap<&str, (i64, i64, i64)> = HashMap::new(); // seats, held, sold
        for (k, seats) in layout.order.chunks(SEAT_BATCH).enumerate() {
            let base = k * SEAT_BATCH;
            let mut params = Vec::with_capacity(seats.len() * 13);
            for (k, &i) in seats.iter().enumerate() {
                let idx = base + k;
                let s = &doc.seats[i];
                let (rank, mid2) = layout.ranks[idx];
                let carry = carried.get(&s.id);
                let state = carry.map_or(FREE, |c| c.state);
                mirror::set_bit_state(&mut bits, idx, state);
                let e = counts.entry(s.tier_id.as_str()).or_default();
                e.0 += 1;
                match state {
                    HELD => e.1 += 1,
                    SOLD => e.2 += 1,
                    _ => {}
                }
                params.extend([
                    text(ev),
                    text(&s.id),
                    Value::Integer(idx as i64),
                    text(&s.section),
                    text(&s.row),
                    text(&s.number),
                    Value::Integer(s.position),
                    text(&s.tier_id),
                    Value::Integer(rank),
                    Value::Integer(mid2),
                    Value::Integer(state),
                    opt_text(carry.and_then(|c| c.hold_id.as_deref())),
                    carry.and_then(|c| c.until_ms).map_or(Value::Null, Value::Integer),
                ]);
            }
            let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; seats.len()].join(", ");
            c.execute(
                &format!("INSERT INTO inv_seats (event_id, seat_id, idx, section, row_label, number, position, tier_id, row_rank, row_mid2, state, hold_id, until_ms) VALUES {rows}"),
                &params,
            )?;
        }
        let ga_sold: HashMap<String, i64> = c
            .execute(
                "SELECT tier_id, SUM(quantity) AS q FROM sold_ga WHERE event_id = ? GROUP BY tier_id",
                &[text(ev)],
            )?
            .rows()
            .filter_map(|r| Some((r.get::<&str>("tier_id")?.to_string(), r.get::<i64>("q")?)))
            .collect();
        for (position, t) in doc.tiers.iter().enumerate() {
            let (capacity, held, sold) = if t.kind == TierKind::GeneralAdmission {
                (i64::from(t.capacity), 0, ga_sold.get(&t.id).copied().unwrap_or(0))
            } else {
                let (n, h, s) = counts.get(t.id.as_str()).copied().unwrap_or_default();
                (n, h, s)
            };
            c.execute(
                "INSERT INTO inv_tiers (event_id, tier_id, position, name, price_minor, kind, capacity, held, sold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    text(ev),
                    text(&t.id),
                    Value::Integer(position as i64),
                    text(&t.name),
                    Value::Integer(t.price_minor),
                    text(t.kind.as_str()),
                    Value::Integer(capacity),
                    Value::Integer(held),
                    Value::Integer(sold),
                ],
            )?;
        }
        c.execute(
            "INSERT INTO inv_status (event_id, version, bits) VALUES (?, 1, ?) \
             ON CONFLICT(event_id) DO UPDATE SET version = inv_status.version + 1, bits = excluded.bits",
            &[text(ev), Value::Blob(bits)],
        )?;
        c.execute(
            "INSERT INTO inv_layouts (event_id, version, gz, raw_len) VALUES (?, ?, ?, ?) \
             ON CONFLICT(event_id) DO UPDATE SET version = excluded.version, gz = excluded.gz, raw_len = excluded.raw_len",
            &[text(ev), Value::Integer(doc.version), Value::Blob(gz.clone()), Value::Integer(layout.json.len() as i64)],
        )?;
        c.execute(
            "INSERT INTO inv_events (event_id, version, wanted, status, title, starts_at, timezone, sales_start, sales_end, order_limit, currency, seat_count, loaded_ms, venue) \
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT(event_id) DO UPDATE SET version = excluded.version, wanted = MAX(inv_events.wanted, excluded.version), \
             status = excluded.status, title = excluded.title, starts_at = excluded.starts_at, timezone = excluded.timezone, \
             sales_start = excluded.sales_start, sales_end = excluded.sales_end, order_limit = excluded.order_limit, \
             currency = excluded.currency, seat_count = excluded.seat_count, loaded_ms = excluded.loaded_ms, venue = excluded.venue",
            &[
                text(ev),
                Value::Integer(doc.version),
                text(doc.status.as_str()),
                text(&doc.title),
                text(&doc.starts_at),
                text(&doc.timezone),
                opt_text(doc.sales_start.as_deref()),
                opt_text(doc.sales_end.as_deref()),
                Value::Integer(i64::from(doc.order_limit)),
                text(&doc.currency),
                Value::Integer(layout.order.len() as i64),
                Value::Integer(now),
                text(&doc.venue.location),
            ],
        )?;
        Ok::<_, ApiError>(true)
    })
}

/// `EventChanged` (inside the inbox transaction): records that `version`
/// of `event_id` exists. `true` when booking holds an older copy, which
/// [`refresh_if_stale`] should replace after the commit.
pub fn announce(c: &Connection, event_id: &str, version: i64) -> ApiResult<bool> {
    let r = c.execute(
        "UPDATE inv_events SET wanted = MAX(wanted, ?) WHERE event_id = ? RETURNING version, wanted",
        &[Value::Integer(version), text(event_id)],
    )?;
    let found = r.rows().next().is_some_and(|row| row.get::<i64>("version") < row.get::<i64>("wanted"));
    Ok(found)
}

/// `EventCancelled` (inside the inbox transaction): the copy reads as
/// cancelled at once, whatever version it is.
pub fn mark_cancelled(c: &Connection, event_id: &str) -> ApiResult<()> {
    c.execute("UPDATE inv_events SET status = 'cancelled' WHERE event_id = ?", &[text(event_id)])?;
    Ok(())
}

/// Copies `event_id` again when a newer version was announced than the
/// copy booking holds (see the module docs); a failure is logged and left
/// to the next request that needs the event.
pub fn refresh_if_stale(conn: &Connection, event_id: &str) {
    match load(conn, event_id) {
        Ok(Some(inv)) if inv.is_stale() => {
            if let Err(e) = copy_from_events(conn, event_id) {
                platform::log::warn!("inventory {event_id}: refresh to version {} failed: {e}", inv.wanted);
            }
        }
        Ok(_) => {}
        Err(e) => platform::log::warn!("inventory {event_id}: {e}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An inventory document in the events component's shape, starting in a day.
    pub fn sample(now_ms: i64) -> Document {
        let json = serde_json::json!({
            "event_id": "evt_1", "version": 3, "title": "Show", "organizer_id": "usr_o", "status": "published",
            "starts_at": platform::clock::rfc3339(now_ms + 86_400_000), "ends_at": null, "timezone": "Europe/Paris",
            "sales_start": null, "sales_end": null, "order_limit": 8, "currency": "EUR",
            "tiers": [
                {"id": "tier_s", "name": "Stalls", "price_minor": 4500, "currency": "EUR", "kind": "seated", "capacity": 6},
                {"id": "tier_ga", "name": "Floor", "price_minor": 2000, "currency": "EUR", "kind": "general_admission", "capacity": 5}
            ],
            "seats": (1..=6).map(|n| serde_json::json!({"id": format!("S1-A-{n}"), "section": "S1", "row": "A",
                "number": n.to_string(), "position": n, "x": 1.0, "y": 2.0, "tier_id": "tier_s", "accessible": false}))
                .collect::<Vec<_>>()
        });
        serde_json::from_value(json).unwrap()
    }

    fn copy_of(doc: &Document) -> Inventory {
        Inventory {
            event_id: doc.event_id.clone(),
            version: doc.version,
            wanted: doc.version,
            title: doc.title.clone(),
            status: doc.status,
            starts_at: doc.starts_at.clone(),
            timezone: doc.timezone.clone(),
            sales_start: doc.sales_start.clone(),
            sales_end: doc.sales_end.clone(),
            order_limit: doc.order_limit,
            currency: doc.currency.clone(),
            seat_count: doc.seats.len() as i64,
            venue: doc.venue.location.clone(),
            tiers: doc
                .tiers
                .iter()
                .map(|t| Tier {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    price_minor: t.price_minor,
                    kind: t.kind,
                    capacity: t.capacity,
                    held: 0,
                    sold: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn parses_the_contract_shape_and_applies_sales_rules() {
        let now = platform::clock::now_ms();
        let doc = sample(now);
        assert_eq!((doc.seats.len(), doc.version), (6, 3));
        let mut inv = copy_of(&doc);
        assert!(inv.tier("tier_ga").unwrap().is_ga());
        assert!(inv.check_on_sale(now).is_ok());
        inv.sales_start = Some(platform::clock::rfc3339(now + 1000));
        assert_eq!(inv.check_on_sale(now).unwrap_err().status(), 409);
        inv.sales_start = None;
        inv.sales_end = Some(platform::clock::rfc3339(now - 1000));
        assert!(inv.check_on_sale(now).is_err());
        inv.sales_end = None;
        inv.status = EventStatus::Draft;
        assert!(inv.check_on_sale(now).is_err());
        assert!(!inv.is_public());
        inv.status = EventStatus::Published;
        inv.starts_at = platform::clock::rfc3339(now - 1);
        assert!(inv.check_on_sale(now).is_err());
        // sales at the door: a later sales_end keeps a started event on sale
        inv.sales_end = Some(platform::clock::rfc3339(now + 60_000));
        assert!(inv.check_on_sale(now).is_ok());
        assert_eq!(inv.sales_close_ms(), Some(now + 60_000));
        inv.sales_end = None;
        assert!(!inv.is_stale());
        inv.wanted = 4;
        assert!(inv.is_stale());
    }

    #[test]
    fn an_inventory_without_version_or_seats_parses() {
        let doc: Document = serde_json::from_value(serde_json::json!({
            "event_id": "evt_2", "title": "GA", "status": "published", "starts_at": "2030-01-01T00:00:00Z",
            "order_limit": 4, "currency": "USD",
            "tiers": [{"id": "tier_g", "price_minor": 100, "kind": "general_admission", "capacity": 10}]
        }))
        .unwrap();
        assert_eq!((doc.version, doc.seats.len(), doc.tiers[0].name.as_str()), (0, 0, ""));
    }
}
