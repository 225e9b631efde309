//! `booking`: seat availability, seat holds (Spin KV store `holds`) and
//! bookings, plus booking's side of the saga (docs/DESIGN.md §2–§5).
//!
//! | route | what |
//! |---|---|
//! | `GET /api/holds/health`, `GET /api/bookings/health` | health (SQLite `bookings`, KV `holds`) |
//! | `GET /api/holds/availability/:event_id` | the live status document: 2-bit seat states, tier counts, ETag/304 (public; [`availability`]) |
//! | `GET /api/holds/layout/:event_id/:version` | the seat layout of one event version, immutable (public; [`layout`]) |
//! | `POST /api/holds` | hold seats (explicit or best available) or general-admission places |
//! | `GET /api/holds/:id` · `DELETE /api/holds/:id` | read / release one of my holds |
//! | `POST /api/bookings` | check a live hold out into a booking (`BookingOrdered`) |
//! | `GET /api/bookings` · `GET /api/bookings/:id` | my bookings (cursor paged) / one |
//! | `POST /api/bookings/:id/cancel` | cancel (`BookingCancelled`); idempotent |
//! | `POST /api/bookings/:id/tickets/:ticket_id/cancel` | cancel one ticket of a confirmed booking, refund its price (`TicketCancelled`; [`cancel_ticket`]) |
//! | `POST /api/bookings/:id/abandon` | give up an unpaid booking on the payment step (`BookingCancelled`, reason `abandoned`); idempotent |
//! | `GET /api/bookings/admin/dead-letters` | saga deliveries that gave up (admin) |
//! | `POST /api/bookings/admin/dead-letters/requeue` | retry one (admin) |
//! | `POST /api/bookings/saga` | saga deliveries (service chaining only; 404 otherwise) |
//! | `GET /api/bookings/internal/:id/state` | `{user_id, status}` of a booking, for payments (service chaining only) |
//! | `POST /api/bookings/internal/:id/tickets/:ticket_id/cancel` | the organizer-side ticket cancellation, for payments' refund of one ticket (service chaining only; [`cancel_ticket::cancel_ticket_internal`]) |
//! | `POST /api/bookings/tick` | hold sweep + relay retries (`Authorization: Bearer <tick_token>`) |
//!
//! Booking sells from its own copy of each event ([`inventory`]: tiers,
//! prices, sales window, order limit, seats with section, row, position,
//! tier, layout order and best-available rank), made from `events` once per
//! event version; no request on the buying path reads a whole venue.
//!
//! Why holds are safe under Spin's real KV semantics: see [`locks`] and
//! [`holds`]. The KV seat locks are the authority on who holds a seat;
//! booking's seat states in SQLite ([`mirror`]) gate requests in front of
//! them and answer reads. Sold seats also have a SQLite primary key
//! (`sold_seats(event_id, seat_id)`) and general-admission sales a
//! capacity trigger, so the database refuses a double sale even if a hold
//! misbehaved.
//!
//! ## What one hold costs
//!
//! Store operations of `POST /api/holds` for n explicit seats, counted from
//! the code (no `Idempotency-Key`; with one, add an INSERT before and an
//! UPDATE after, both single-statement autocommits):
//!
//! | store | operations | writes |
//! |---|---|---|
//! | SQLite `bookings` | open: 3 PRAGMAs + 2×(schema table check, applied versions) — reads; the event's copy: 2 SELECTs (event row, tiers); ONE `BEGIN IMMEDIATE` transaction: 1 SELECT of the n seats by primary key, 1 UPDATE of those n rows, 1 SELECT + 1 UPDATE of the status blob, 1 UPDATE per tier held (usually 1), 1 INSERT of the sweep index row | 1 transaction |
//! | KV `holds` | open; 1 increment (the user's allowance); n increments (the seat locks); 1 `set-many` of the n owner records and the hold record | n + 2 |
//!
//! That is what correctness needs under docs/DESIGN.md §5: one atomic increment per
//! seat decides who holds it, one decides the order limit, and the owner
//! records and the hold must be stored before anyone may trust the claim
//! (one batched write; atomic on Spin's SQLite backend, `MSET` on Redis).
//! The SQLite transaction is what lets a status read, best available and
//! the next request see the seats taken without reading the KV store.
//!
//! Before this model the same hold fetched the event's whole inventory
//! from `events` over chaining (3 MiB of JSON at 20,000 seats) and wrote
//! 2n + 2 KV values (an owner record per seat, then the hold) plus the
//! index row; best available read two KV keys per seat of the venue.
//!
//! Best available: the same, except that the seats are chosen inside the
//! transaction by range scans of the index of the tier's free seats (pages
//! of 500, best rows first; usually one page) instead of the primary-key
//! SELECT. General admission: 1 INSERT (index row), KV: 3 (allowance,
//! tier counter, hold record). A request that finds a seat taken in
//! SQLite stops there — 0 KV operations — so a crowd on one seat costs the
//! KV store one claim. Giving n seats back (release, expiry, failed
//! payment): KV 1 read + 1 exit-claim increment + 1 write of the hold
//! (`holds` module: no compare-and-swap, which Spin 4.0.2's Redis backend
//! gets wrong), per seat 1 read + 1 delete of its owner record and 1
//! increment of its lock, 1 increment of the allowance; SQLite 1 transaction (n rows, blob, tier counters, index
//! row).

use platform::web::Router;
use platform::{ApiError, ApiResult};
use spin_sdk::http::{Params, Request};

pub mod availability;
pub mod bookings;
pub mod cancel_ticket;
pub mod checkout;
pub mod document;
pub mod domain;
pub mod hold_routes;
pub mod holds;
pub mod inventory;
pub mod kv;
pub mod layout;
pub mod locks;
pub mod mirror;
pub mod orphans;
pub mod planner;
pub mod saga;
pub mod selection;
pub mod status;
pub mod store;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/holds/health", health);
    r.get("/api/bookings/health", health);
    r.get("/api/holds/availability/:event_id", availability::status);
    r.get("/api/holds/layout/:event_id/:version", availability::layout);
    r.post("/api/holds", hold_routes::create);
    r.get("/api/holds/:id", hold_routes::get);
    r.delete("/api/holds/:id", hold_routes::release);
    r.post("/api/bookings", checkout::create);
    r.get("/api/bookings", bookings::list);
    r.get("/api/bookings/admin/dead-letters", dead_letters);
    r.post("/api/bookings/admin/dead-letters/requeue", requeue);
    r.post("/api/bookings/tick", tick);
    r.get("/api/bookings/:id", bookings::get);
    r.post("/api/bookings/:id/cancel", bookings::cancel);
    r.post("/api/bookings/:id/abandon", bookings::abandon);
    r.post("/api/bookings/:id/tickets/:ticket_id/cancel", cancel_ticket::cancel_ticket);
    r
}

/// The private component's route table (`booking-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.post("/api/bookings/saga", saga::inbox);
    r.get("/api/bookings/internal/:id/state", bookings::state);
    // payments' refund of one ticket voids it here first
    r.post("/api/bookings/internal/:id/tickets/:ticket_id/cancel", cancel_ticket::cancel_ticket_internal);
    // events asks what is sold or held before it reprices a tier
    r.get("/api/holds/availability/:event_id", availability::status);
    r
}

/// The component's entry point (wasm only: natively the crate is a library
/// for unit tests, and the export does not link into a native cdylib).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> spin_sdk::http::Response {
        platform::web::serve_surfaces("booking", router, internal_router, req)
    }
}

fn health(_: Request, _: Params) -> ApiResult {
    let mut checks = platform::health::sqlite_migrated(store::DB, || store::open().map_err(|e| e.to_string()));
    checks.push(platform::health::kv(kv::STORE));
    checks.extend(platform::secrets::health_checks(&["jwt_keys", "tick_token"]));
    Ok(platform::health::respond("booking", checks))
}

/// `POST /api/bookings/tick`: expires due holds (each frees its seats
/// once), finishes hold releases a crash left behind, and retries due saga
/// deliveries, and deletes expired Idempotency-Key records.
/// `{"expired":n,"released":n,"idempotency_keys_swept":n,"relay":{…}}`.
fn tick(req: Request, _: Params) -> ApiResult {
    ::saga::require_tick(&req)?;
    let conn = store::open()?;
    let kv = kv::Kv::open()?;
    let now = platform::clock::now_ms();
    if let Err(e) = orphans::recover(&kv, now) {
        platform::log::error!("booking tick: orphaned lock recovery failed: {e}");
    }
    let expired = holds::sweep(&kv, &conn, now)?;
    let mut released = 0;
    for b in bookings::unfreed(&conn)? {
        bookings::free_hold(&kv, store::Sql::top(&conn), &b)?;
        released += 1;
    }
    let swept = platform::idempotency::sweep(&conn, now)?;
    let relay = ::saga::relay(&conn);
    platform::web::ok(
        &serde_json::json!({"expired": expired, "released": released, "idempotency_keys_swept": swept, "relay": relay}),
    )
}

/// `GET /api/bookings/admin/dead-letters?limit=&cursor=` (admin):
/// `{"items":[DeadLetter…],"next_cursor":"<ms>"|null}`, newest first.
fn dead_letters(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[platform::auth::Role::Admin])?;
    let q = platform::web::Query::of(&req);
    let limit = q.limit(50, 200)?;
    let cursor = q.parse_opt::<i64>("cursor")?;
    let conn = store::open()?;
    let mut items = ::saga::dead_letters(&conn, limit + 1, cursor)?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|(_, ms)| ms.to_string())
    } else {
        None
    };
    let items: Vec<_> = items.into_iter().map(|(d, _)| d).collect();
    platform::web::ok(&serde_json::json!({"items": items, "next_cursor": next}))
}

/// `POST /api/bookings/admin/dead-letters/requeue` (admin), body
/// `{"event_id","subscriber"}`: the delivery is pending again and tried
/// at once. 404 when there is no such dead letter.
fn requeue(req: Request, _: Params) -> ApiResult {
    #[derive(serde::Deserialize)]
    struct Body {
        event_id: String,
        subscriber: String,
    }
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[platform::auth::Role::Admin])?;
    let body: Body = platform::web::read_json(&req)?;
    let conn = store::open()?;
    if !::saga::requeue(&conn, &body.event_id, &body.subscriber)? {
        return Err(ApiError::NotFound("no such dead letter".into()));
    }
    let relay = ::saga::relay(&conn);
    platform::web::ok(&serde_json::json!({"requeued": true, "relay": relay}))
}
