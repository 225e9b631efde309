//! `tickets`: one signed ticket per attendee of a confirmed booking, its QR
//! code and calendar file, voiding, and check-in at the door (docs/DESIGN.md §2, §3).
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/tickets/health` | anyone | database and signing-key check |
//! | `GET /api/tickets` | signed in | the caller's tickets, newest first, cursor paged ([`read::list`]) |
//! | `POST /api/tickets/check-in` | admin, the event's organizer, staff assigned to the event | admit once ([`checkin::check_in`]) |
//! | `POST /api/tickets/saga` | service chaining only | saga deliveries ([`issue`]) |
//! | `GET /api/tickets/bookings/:booking_id/check-ins` | service chaining only | a booking's tickets and admissions ([`checkin::check_ins`]) |
//! | `POST /api/tickets/tick` | tick token | retries `TicketsIssued` deliveries |
//! | `GET /api/tickets/:id` | owner, admin | ticket with `qr_svg`; 410 when void |
//! | `GET /api/tickets/:id.ics` | owner, admin | `text/calendar` (RFC 5545) with the event's zone; 410 when void |
//! | `GET /api/tickets/:id/qr.svg` | owner, admin | the QR code alone (`image/svg+xml`); 410 when void |

use platform::web::Router;
use platform::ApiResult;
use spin_sdk::http::{Params, Request, Response};

pub mod checkin;
pub mod code;
pub mod ics;
pub mod issue;
pub mod qr;
pub mod read;
pub mod saga;
pub mod store;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/tickets/health", health);
    r.get("/api/tickets", read::list);
    r.post("/api/tickets/check-in", checkin::check_in);
    r.post("/api/tickets/tick", tick);
    r.get("/api/tickets/:id", read::get);
    r.get("/api/tickets/:id/qr.svg", read::qr_svg);
    r
}

/// The private component's route table (`tickets-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.post("/api/tickets/saga", saga::inbox);
    r.get("/api/tickets/bookings/:booking_id/check-ins", checkin::check_ins);
    r.post("/api/tickets/bookings/:booking_id/tickets/:id/void", checkin::void_one);
    r
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> Response {
        respond(req)
    }
}

/// Answers one request.
pub fn respond(req: Request) -> Response {
    platform::web::serve_surfaces("tickets", router, internal_router, req)
}

fn health(_: Request, _: Params) -> ApiResult {
    let mut checks = platform::health::sqlite_migrated(store::DB, || store::open().map_err(|e| e.to_string()));
    let key = code::TicketKeys::from_config();
    checks.push(platform::health::Check {
        name: "variable:ticket_signing_key".into(),
        ok: key.is_ok(),
        error: key.err().map(|e| e.to_string()),
    });
    checks.extend(platform::secrets::health_checks(&["jwt_keys", "tick_token"]));
    Ok(platform::health::respond("tickets", checks))
}

/// `POST /api/tickets/tick` (tick token): retries pending `TicketsIssued` deliveries.
fn tick(req: Request, _: Params) -> ApiResult {
    ::saga::require_tick(&req)?;
    let conn = store::open()?;
    platform::web::ok(&::saga::relay(&conn))
}
