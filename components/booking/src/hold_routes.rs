//! `POST /api/holds`, `GET /api/holds/:id`, `DELETE /api/holds/:id`,
//! `GET /api/holds/availability/:event_id`.

use crate::domain::{check, parse_id, Quantity};
use crate::holds::{self, HeldSeat, HoldRecord, HoldStatus, Moved, TierLine};
use crate::inventory::{self, Inventory};
use crate::kv::Kv;
use crate::locks::{self, Claim, Lost, Owner};
use crate::selection::{best_available, Candidate};
use crate::{availability, db};
use platform::{ApiError, ApiResult, FieldError};
use serde::Deserialize;
use serde_json::Value;
use spin_sdk::http::{Params, Request};
use std::collections::HashSet;

/// Body of `POST /api/holds`: either explicit `seats`, or `tier_id` +
/// `quantity` (best available seats, or general-admission places).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateHold {
    event_id: String,
    #[serde(default)]
    seats: Option<Vec<String>>,
    #[serde(default)]
    tier_id: Option<String>,
    #[serde(default)]
    quantity: Option<Value>,
}

enum Want {
    Seats(Vec<String>),
    Tier(String, Value),
}

fn parse_want(body: CreateHold) -> ApiResult<(String, Want)> {
    let mut errors = Vec::new();
    let event_id = parse_id("event_id", &body.event_id).map_err(|e| errors.push(e)).unwrap_or_default();
    let want = match (body.seats, body.tier_id, body.quantity) {
        (Some(seats), None, None) => {
            if seats.is_empty() {
                errors.push(FieldError::new("seats", "must name at least one seat"));
            }
            let mut seen = HashSet::new();
            for (i, s) in seats.iter().enumerate() {
                match parse_id(&format!("seats/{i}"), s) {
                    Err(e) => errors.push(e),
                    Ok(_) if !seen.insert(s.as_str()) => errors.push(FieldError::new(format!("seats/{i}"), format!("seat {s} is listed twice"))),
                    Ok(_) => {}
                }
            }
            Some(Want::Seats(seats))
        }
        (None, Some(tier), quantity) => {
            if let Err(e) = parse_id("tier_id", &tier) {
                errors.push(e);
            }
            Some(Want::Tier(tier, quantity.unwrap_or(Value::Null)))
        }
        _ => {
            errors.push(FieldError::new("", "give either `seats`, or `tier_id` and `quantity`"));
            None
        }
    };
    check(errors)?;
    Ok((event_id, want.expect("checked")))
}

/// What will be claimed, priced.
struct Plan {
    seats: Vec<HeldSeat>,
    ga: Option<(String, u32, u32)>,
}

/// `POST /api/holds` — holds seats or places for the caller, all or
/// nothing, for `hold_ttl_seconds`. 201 with the hold; 401; 404 unknown
/// event; 409 `seat-unavailable` (names the seat), `sold-out`,
/// `order-limit`, `event-*`/`sales-*` (sales rules); 422 bad input; 503.
/// With an `Idempotency-Key`, [`platform::idempotency::once`] semantics
/// (replayed 201, 409 `idempotency-in-progress`, 422 `idempotency-key-reused`).
pub fn create(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = db::open()?;
    // One hold per Idempotency-Key: the key is claimed with one INSERT
    // before anything is held, so concurrent duplicates cannot both run.
    platform::idempotency::once(&conn, &req, &caller.user_id, || hold(&req, &conn, &caller.user_id))
}

fn hold(req: &Request, conn: &spin_sdk::sqlite3::Connection, user: &str) -> ApiResult {
    let (event_id, want) = parse_want(platform::web::read_json(req)?)?;
    let kv = Kv::open()?;
    let inv = inventory::fetch(&event_id)?;
    let now = platform::clock::now_ms();
    inv.check_on_sale(now)?;
    let limit = inv.limit();
    let owner = Owner { hold_id: platform::ids::new("hold"), expires_ms: now + holds::ttl_ms() };
    let plan = match want {
        Want::Seats(ids) => {
            if ids.len() as u32 > limit {
                return Err(ApiError::field("seats", format!("at most {limit} seats per order")));
            }
            let mut seats = Vec::new();
            let mut errors = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                match inv.seat(id).and_then(|s| inv.tier(&s.tier_id).map(|t| (s, t))) {
                    Some((s, t)) => seats.push(HeldSeat { id: s.id.clone(), tier_id: t.id.clone(), price_minor: t.price_minor }),
                    None => errors.push(FieldError::new(format!("seats/{i}"), format!("seat {id} does not exist in this event"))),
                }
            }
            check(errors)?;
            claim_seats(&kv, conn, &inv, user, &owner, seats, now)?
        }
        Want::Tier(tier_id, quantity) => {
            let tier = inv.tier(&tier_id).ok_or_else(|| ApiError::field("tier_id", format!("tier {tier_id} does not exist in this event")))?;
            let q = Quantity::parse("quantity", &quantity, limit).map_err(|e| ApiError::Validation(vec![e]))?.get();
            if tier.is_ga() {
                claim_ga(&kv, conn, &inv, user, &owner, tier, q, now)?
            } else {
                claim_best(&kv, conn, &inv, user, &owner, &tier.id, q, now)?
            }
        }
    };
    let rec = record(&inv, user, &owner, plan, now);
    let stored = holds::index(conn, &rec).and_then(|_| {
        kv.set(&HoldRecord::key(&rec.id), &serde_json::to_vec(&rec).map_err(|e| ApiError::Internal(e.into()))?)
    });
    if let Err(e) = stored {
        if let Err(undo) = locks::release_all(&kv, &rec.event_id, &rec.user_id, &rec.id, &rec.seat_ids(), &rec.ga()) {
            eprintln!("hold {}: rollback failed: {undo}", rec.id);
        }
        return Err(e);
    }
    platform::web::created(&format!("/api/holds/{}", rec.id), &rec.to_json(now))
}

fn record(inv: &Inventory, user: &str, owner: &Owner, plan: Plan, now: i64) -> HoldRecord {
    let mut tiers: Vec<TierLine> = Vec::new();
    for s in &plan.seats {
        match tiers.iter_mut().find(|t| t.tier_id == s.tier_id) {
            Some(t) => t.quantity += 1,
            None => {
                let cap = inv.tier(&s.tier_id).map(|t| t.capacity).unwrap_or(0);
                tiers.push(TierLine { tier_id: s.tier_id.clone(), quantity: 1, price_minor: s.price_minor, kind: "seated".into(), capacity: cap })
            }
        }
    }
    if let Some((tier_id, q, cap)) = &plan.ga {
        let price = inv.tier(tier_id).map(|t| t.price_minor).unwrap_or(0);
        tiers.push(TierLine { tier_id: tier_id.clone(), quantity: *q, price_minor: price, kind: "general_admission".into(), capacity: *cap });
    }
    let amount = tiers.iter().map(|t| t.price_minor * i64::from(t.quantity)).sum();
    HoldRecord {
        id: owner.hold_id.clone(),
        user_id: user.to_string(),
        event_id: inv.event_id.clone(),
        status: HoldStatus::Active,
        seats: plan.seats,
        tiers,
        amount_minor: amount,
        currency: inv.currency.clone(),
        created_ms: now,
        expires_ms: owner.expires_ms,
        booking_id: None,
        event_title: inv.title.clone(),
        starts_at: inv.starts_at.clone(),
        timezone: inv.timezone.clone(),
    }
}

fn lost_error(lost: Lost, limit: u32) -> ApiError {
    match lost {
        Lost::Seat(seat, _) => ApiError::conflict("seat-unavailable", format!("seat {seat} is not available")),
        Lost::Tier(tier, left) => ApiError::conflict("sold-out", format!("only {left} tickets left in tier {tier}")),
        Lost::UserLimit(have) => ApiError::conflict(
            "order-limit",
            format!("you already hold or bought {have} tickets for this event; the limit is {limit}"),
        ),
    }
}

/// When a seat is owned by a hold past its time, expires that hold (which
/// frees the seat, exactly once) and reports whether a retry may win.
fn clear_expired(kv: &Kv, conn: &spin_sdk::sqlite3::Connection, owner: &Option<Owner>, now: i64) -> ApiResult<bool> {
    match owner {
        Some(o) if o.expires_ms <= now => {
            holds::expire_if_due(kv, Some(conn), &o.hold_id, now)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn claim_seats(kv: &Kv, conn: &spin_sdk::sqlite3::Connection, inv: &Inventory, user: &str, owner: &Owner, seats: Vec<HeldSeat>, now: i64) -> ApiResult<Plan> {
    let claim = Claim {
        event: &inv.event_id,
        user,
        user_limit: inv.limit(),
        seats: seats.iter().map(|s| s.id.clone()).collect(),
        ga: vec![],
        owner: owner.clone(),
    };
    for _ in 0..3 {
        match locks::claim(kv, &claim, false)? {
            Ok(()) => return Ok(Plan { seats, ga: None }),
            Err(Lost::Seat(seat, holder)) => {
                if !clear_expired(kv, conn, &holder, now)? {
                    return Err(lost_error(Lost::Seat(seat, holder), inv.limit()));
                }
            }
            Err(lost) => return Err(lost_error(lost, inv.limit())),
        }
    }
    Err(ApiError::conflict("seat-unavailable", "the seats are changing hands; try again"))
}

#[allow(clippy::too_many_arguments)]
fn claim_best(kv: &Kv, conn: &spin_sdk::sqlite3::Connection, inv: &Inventory, user: &str, owner: &Owner, tier_id: &str, q: u32, now: i64) -> ApiResult<Plan> {
    let tier = inv.tier(tier_id).expect("tier checked");
    let mut avoid: HashSet<String> = HashSet::new();
    for _ in 0..4 {
        let statuses = availability::seat_statuses(kv, conn, inv, now)?;
        let candidates: Vec<Candidate> = inv
            .seats
            .iter()
            .filter(|s| s.tier_id == tier_id)
            .map(|s| Candidate {
                id: &s.id,
                section: &s.section,
                row: &s.row,
                position: s.position,
                free: statuses.get(&s.id) == Some(&availability::SeatStatus::Available),
            })
            .collect();
        let Some(chosen) = best_available(&candidates, q as usize, &avoid) else {
            let left = candidates.iter().filter(|c| c.free && !avoid.contains(c.id)).count();
            return Err(ApiError::conflict("sold-out", format!("only {left} seats left in tier {tier_id}")));
        };
        let claim = Claim { event: &inv.event_id, user, user_limit: inv.limit(), seats: chosen.clone(), ga: vec![], owner: owner.clone() };
        match locks::claim(kv, &claim, false)? {
            Ok(()) => {
                let seats = chosen.into_iter().map(|id| HeldSeat { id, tier_id: tier.id.clone(), price_minor: tier.price_minor }).collect();
                return Ok(Plan { seats, ga: None });
            }
            Err(Lost::Seat(seat, holder)) => {
                if !clear_expired(kv, conn, &holder, now)? {
                    avoid.insert(seat);
                }
            }
            Err(lost) => return Err(lost_error(lost, inv.limit())),
        }
    }
    Err(ApiError::conflict("seat-unavailable", "the seats are changing hands; try again"))
}

#[allow(clippy::too_many_arguments)]
fn claim_ga(kv: &Kv, conn: &spin_sdk::sqlite3::Connection, inv: &Inventory, user: &str, owner: &Owner, tier: &crate::inventory::Tier, q: u32, now: i64) -> ApiResult<Plan> {
    let ga = (tier.id.clone(), q, tier.capacity);
    let claim = Claim { event: &inv.event_id, user, user_limit: inv.limit(), seats: vec![], ga: vec![ga.clone()], owner: owner.clone() };
    match locks::claim(kv, &claim, false)? {
        Ok(()) => return Ok(Plan { seats: vec![], ga: Some(ga) }),
        Err(Lost::Tier(..)) => {}
        Err(lost) => return Err(lost_error(lost, inv.limit())),
    }
    // Places may be tied up in holds past their time: expire them, retry once.
    let mut freed = false;
    for id in holds::open_of_event(conn, &inv.event_id)? {
        if let Moved::Yes(..) = holds::expire_if_due(kv, Some(conn), &id, now)? {
            freed = true;
        }
    }
    match (freed, locks::claim(kv, &claim, false)?) {
        (_, Ok(())) => Ok(Plan { seats: vec![], ga: Some(ga) }),
        (_, Err(lost)) => Err(lost_error(lost, inv.limit())),
    }
}

fn own_hold(kv: &Kv, req: &Request, params: &Params) -> ApiResult<(platform::auth::Caller, HoldRecord)> {
    let caller = platform::auth::require(req)?;
    let id = params.get("id").unwrap_or_default();
    let not_found = || ApiError::NotFound(format!("hold {id} does not exist"));
    parse_id("id", id).map_err(|_| not_found())?;
    let rec = holds::load(kv, id)?.ok_or_else(not_found)?;
    if rec.user_id != caller.user_id && !caller.is_admin() {
        return Err(not_found());
    }
    Ok((caller, rec))
}

/// `GET /api/holds/:id` — the caller's hold; a hold past its time reads
/// as `expired` (and is expired on the spot). 404 for unknown or someone
/// else's holds.
pub fn get(req: Request, params: Params) -> ApiResult {
    let kv = Kv::open()?;
    let (_, rec) = own_hold(&kv, &req, &params)?;
    let now = platform::clock::now_ms();
    if rec.effective_status(now) != rec.status {
        let conn = db::open()?;
        holds::expire_if_due(&kv, Some(&conn), &rec.id, now)?;
    }
    platform::web::ok(&rec.to_json(now))
}

/// `DELETE /api/holds/:id` — gives the seats back. 204 (also when already
/// released or expired); 409 `hold-in-checkout` when a booking was made
/// from it (cancel the booking instead).
pub fn release(req: Request, params: Params) -> ApiResult {
    let kv = Kv::open()?;
    let (_, rec) = own_hold(&kv, &req, &params)?;
    let conn = db::open()?;
    match holds::transition(&kv, Some(&conn), &rec.id, holds::to_status(&[HoldStatus::Active], HoldStatus::Released))? {
        Moved::Yes(..) | Moved::Missing => platform::web::no_content(),
        Moved::No(cur) if cur.status.is_final() => platform::web::no_content(),
        Moved::No(cur) => Err(ApiError::conflict(
            "hold-in-checkout",
            format!("hold {} belongs to booking {}; cancel the booking instead", cur.id, cur.booking_id.unwrap_or_default()),
        )),
    }
}

/// `GET /api/holds/availability/:event_id` — public; see
/// [`availability::document`].
pub fn availability(_req: Request, params: Params) -> ApiResult {
    let event_id = parse_id("event_id", params.get("event_id").unwrap_or_default()).map_err(|e| ApiError::Validation(vec![e]))?;
    let inv = inventory::fetch(&event_id)?;
    let kv = Kv::open()?;
    let conn = db::open()?;
    let doc = availability::document(&kv, &conn, &inv, platform::clock::now_ms())?;
    let mut resp = platform::web::json(200, &doc);
    resp.set_header("cache-control", "no-store");
    Ok(resp)
}
