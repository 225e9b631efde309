//! `notifications`: email jobs through an HTTP email provider and in-site
//! messages, driven by saga events (docs/DESIGN.md §2, §3).
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/notifications/health` | anyone | database check |
//! | `GET /api/notifications` | signed in | own messages, newest first, cursor paged ([`inbox::list`]) |
//! | `GET /api/notifications/unread-count` | signed in | `{"unread": n}` |
//! | `POST /api/notifications/read-all` | signed in | marks every own message read |
//! | `POST /api/notifications/:id/read` | owner | marks one read |
//! | `POST /api/notifications/saga` | service chaining only | saga deliveries ([`consume`]) |
//! | `POST /api/notifications/tick` | tick token | sends due email jobs (retries) |
//! | `GET /api/notifications/admin/jobs` | admin | email jobs by status, dead letters included ([`admin`]) |
//! | `POST /api/notifications/admin/jobs/:id/retry` | admin | requeues a dead job |

use platform::web::Router;
use platform::ApiResult;
use spin_sdk::http::{Params, Request, Response};

pub mod admin;
pub mod compose;
pub mod contacts;
pub mod inbox;
pub mod jobs;
pub mod lookups;
pub mod provider;
pub mod saga;
pub mod settings;
pub mod store;
pub mod times;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/notifications/health", health);
    r.get("/api/notifications", inbox::list);
    r.get("/api/notifications/unread-count", inbox::unread);
    r.post("/api/notifications/read-all", inbox::mark_all_read);
    r.post("/api/notifications/:id/read", inbox::mark_read);
    r.post("/api/notifications/tick", tick);
    r.get("/api/notifications/admin/jobs", admin::jobs);
    r.post("/api/notifications/admin/jobs/:id/retry", admin::retry);
    r
}

/// The private component's route table (`notifications-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.post("/api/notifications/saga", saga::inbox);
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
    platform::web::serve_surfaces("notifications", router, internal_router, req)
}

fn health(_: Request, _: Params) -> ApiResult {
    let mut checks = platform::health::sqlite_migrated(store::DB, || store::open().map_err(|e| e.to_string()));
    checks.extend(platform::secrets::health_checks(&["jwt_keys", "tick_token"]));
    Ok(platform::health::respond("notifications", checks))
}

/// `POST /api/notifications/tick` (tick token): sends due email jobs →
/// `{"sent","retried","dead","skipped"}`.
fn tick(req: Request, _: Params) -> ApiResult {
    ::saga::require_tick(&req)?;
    let conn = store::open()?;
    platform::web::ok(&jobs::deliver_due(&conn, 50))
}
