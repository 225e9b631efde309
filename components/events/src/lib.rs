//! `events`: the catalogue — venues and seat maps, events and price tiers,
//! the organizer lifecycle, search, public detail with schema.org JSON-LD,
//! and importers (docs/DESIGN.md §2).
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/events/health` | anyone | database check |
//! | `GET /api/events` | anyone | search ([`search`]) |
//! | `POST /api/events` | organizer | 201 draft ([`events`]) |
//! | `GET /api/events/mine` | organizer | own events, every status |
//! | `POST /api/events/import/ticketmaster` | organizer | per-record import report ([`import`]) |
//! | `POST /api/events/import/jsonld` | organizer | per-record import report |
//! | `POST /api/events/tick` | tick token | retries outbox deliveries |
//! | `GET /api/events/:id` | anyone (drafts: owner) | detail with venue, seat map, tiers, `jsonld` |
//! | `PATCH /api/events/:id` | owner/admin | merge-patch edit |
//! | `DELETE /api/events/:id` | owner/admin | 204, drafts only |
//! | `POST /api/events/:id/publish` | owner/admin | draft → published |
//! | `POST /api/events/:id/cancel` | owner/admin | published → cancelled, emits `EventCancelled` |
//! | `GET /api/events/:id/inventory` | anyone (drafts: owner) | the booking contract ([`read::inventory`]), with its `version` |
//! | `GET /api/events/:id/jsonld` | anyone (drafts: owner) | `application/ld+json` |
//! | `GET /api/events/:id/staff` | owner/admin | the event's door staff ([`staff`]) |
//! | `PUT /api/events/:id/staff/:user_id` · `DELETE …` | owner/admin | assign / remove a staff account |
//! | `GET /api/events/internal/:id/access` | service chaining only (`events-internal`) | organizer and staff assignment of one account ([`staff::access`]) |
//! | `POST /api/events/internal/zones` | service chaining only (`events-internal`) | local times and calendar `VTIMEZONE`s for tickets and notifications ([`zones`]) |
//! | `GET /api/venues` | anyone; `?mine=true`: organizer | venues, newest first, cursor paged ([`venues_read`]) |
//! | `POST /api/venues` | organizer | 201 venue ([`venues`]) |
//! | `GET /api/venues/:id` | anyone | venue with seat map |

use platform::web::Router;
use spin_sdk::http::{Params, Request};

pub mod domain;
pub mod events;
pub mod import;
pub mod outbox;
pub mod read;
pub mod search;
pub mod seatmap;
pub mod spec;
pub mod staff;
pub mod store;
pub mod venues;
pub mod venues_read;
pub mod write;
pub mod zones;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/events/health", health);
    r.get("/api/events", search::search);
    r.post("/api/events", events::create);
    r.get("/api/events/mine", read::mine);
    r.post("/api/events/import/ticketmaster", import::import_ticketmaster);
    r.post("/api/events/import/jsonld", import::import_jsonld);
    r.post("/api/events/tick", outbox::tick);
    r.get("/api/events/:id", read::get);
    r.patch("/api/events/:id", events::edit);
    r.delete("/api/events/:id", events::delete);
    r.post("/api/events/:id/publish", events::publish);
    r.post("/api/events/:id/cancel", events::cancel);
    r.get("/api/events/:id/inventory", read::inventory);
    r.get("/api/events/:id/jsonld", read::get_jsonld);
    r.get("/api/events/:id/staff", staff::list);
    r.put("/api/events/:id/staff/:user_id", staff::assign);
    r.delete("/api/events/:id/staff/:user_id", staff::unassign);
    r.get("/api/venues", venues_read::list);
    r.post("/api/venues", venues::create);
    r.get("/api/venues/:id", venues::get);
    r
}

/// The private component's route table (`events-internal`, `surface =
/// "internal"`): reachable only by service chaining, see
/// [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.get("/api/events/internal/:id/access", staff::access);
    r.post("/api/events/internal/zones", zones::resolve);
    r
}

/// The component's entry point (wasm only: natively the crate is a library for tests).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> spin_sdk::http::Response {
        let resp = platform::web::serve_surfaces("events", router, internal_router, req);
        outbox::relay_changed();
        resp
    }
}

fn health(_: Request, _: Params) -> platform::ApiResult {
    let mut checks = platform::health::sqlite_migrated(store::DB, || store::open().map_err(|e| e.to_string()));
    checks.extend(platform::secrets::health_checks(&["jwt_keys", "tick_token"]));
    Ok(platform::health::respond("events", checks))
}
