//! `POST /api/holds`, `GET /api/holds/:id`, `DELETE /api/holds/:id`.

use crate::domain::{check, parse_id, Quantity};
use crate::holds::{self, HoldRecord, HoldStatus, Moved};
use crate::inventory::{self};
use crate::kv::Kv;
use crate::locks::Owner;
use crate::planner::Holder;
use crate::store::{self, Sql};
use platform::{ApiError, ApiResult, FieldError};
use serde::Deserialize;
use serde_json::Value;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;
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
                    Ok(_) if !seen.insert(s.as_str()) => {
                        errors.push(FieldError::new(format!("seats/{i}"), format!("seat {s} is listed twice")))
                    }
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

/// `POST /api/holds` — holds seats or places for the caller, all or
/// nothing, for `hold_ttl_seconds`. 201 with the hold; 401; 404 unknown
/// event; 409 `seat-unavailable` (names the seat), `sold-out`,
/// `order-limit`, `event-*`/`sales-*` (sales rules); 422 bad input; 503.
/// With an `Idempotency-Key`, [`platform::idempotency::once`] semantics
/// (replayed 201, 409 `idempotency-in-progress`, 422 `idempotency-key-reused`).
///
/// How (the store operations are counted in the crate docs): the seats
/// are reserved in booking's seat states in one SQLite transaction, with
/// the hold's sweep index row — explicit seats looked up by primary key,
/// best available chosen by an indexed scan of the tier's free seats
/// ([`crate::selection`]); then claimed in the KV store, the authority
/// ([`locks::claim`]), which also writes the owner records and the hold
/// record in one batch. A claim that loses undoes the reservation.
pub fn create(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    // One hold per Idempotency-Key: the key is claimed with one INSERT
    // before anything is held, so concurrent duplicates cannot both run.
    platform::idempotency::once(&conn, &req, &caller.user_id, || hold(&req, &conn, &caller.user_id))
}

fn hold(req: &Request, conn: &Connection, user: &str) -> ApiResult {
    let (event_id, want) = parse_want(platform::web::read_json(req)?)?;
    let inv = inventory::current(conn, &event_id)?;
    let now = platform::clock::now_ms();
    inv.check_on_sale(now)?;
    let limit = inv.limit();
    let kv = Kv::open()?;
    let owner = Owner { hold_id: platform::ids::new("hold"), expires_ms: now + holds::ttl_ms() };
    let h = Holder { kv: &kv, conn, inv: &inv, user, owner: &owner, now };
    let rec = match want {
        Want::Seats(ids) => {
            if ids.len() as u32 > limit {
                return Err(ApiError::field("seats", format!("at most {limit} seats per order")));
            }
            h.explicit(&ids)?
        }
        Want::Tier(tier_id, quantity) => {
            let tier = inv
                .tier(&tier_id)
                .ok_or_else(|| ApiError::field("tier_id", format!("tier {tier_id} does not exist in this event")))?;
            let q = Quantity::parse("quantity", &quantity, limit).map_err(|e| ApiError::Validation(vec![e]))?.get();
            if tier.is_ga() {
                h.general_admission(tier, q)?
            } else {
                h.best(tier, q)?
            }
        }
    };
    platform::web::created(&format!("/api/holds/{}", rec.id), &rec.to_json(now))
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
        let conn = store::open()?;
        holds::expire_if_due(&kv, Sql::top(&conn), &rec.id, now)?;
    }
    platform::web::ok(&rec.to_json(now))
}

/// `DELETE /api/holds/:id` — gives the seats back. 204 (also when already
/// released or expired); 409 `hold-in-checkout` when a booking was made
/// from it (cancel the booking instead).
pub fn release(req: Request, params: Params) -> ApiResult {
    let kv = Kv::open()?;
    let (_, rec) = own_hold(&kv, &req, &params)?;
    let conn = store::open()?;
    match holds::transition(
        &kv,
        Sql::top(&conn),
        &rec.id,
        holds::to_status(&[HoldStatus::Active], HoldStatus::Released),
    )? {
        Moved::Yes(..) | Moved::Missing => platform::web::no_content(),
        Moved::No(cur) if cur.status.is_final() => platform::web::no_content(),
        Moved::No(cur) => Err(ApiError::conflict(
            "hold-in-checkout",
            format!(
                "hold {} belongs to booking {}; cancel the booking instead",
                cur.id,
                cur.booking_id.unwrap_or_default()
            ),
        )),
    }
}
