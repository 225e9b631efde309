//! `users`: profiles, notification settings, the admin user list, role
//! changes and account deletion (docs/DESIGN.md §2).
//!
//! `:id` is a user id (`usr_…`) or `me`. A caller reaches only their own
//! id; admins reach every id. Another user's id answers 404 to non-admins
//! (whether or not it exists, like other users' bookings or tickets); an
//! unknown id answers 404 to admins. Admin-only routes (the list, role
//! changes) answer 403 to everyone else.
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET    /api/users/health` | anyone | database check |
//! | `GET    /api/users[?role&limit&cursor]` | admin | `{items: [{id, email, display_name, role, created_at, deleted, email_verified}], next_cursor}` |
//! | `GET    /api/users/:id` | owner, admin | profile (with `email_verified`, read from `auth`) |
//! | `PATCH  /api/users/:id` `{display_name?, phone?, locale?, time_zone?}` | owner, admin | profile (JSON merge patch, RFC 7396: `null` clears) |
//! | `DELETE /api/users/:id` | owner, admin | 204; personal data erased, every session ended |
//! | `GET    /api/users/:id/settings` | owner, admin | settings |
//! | `PATCH  /api/users/:id/settings` | owner, admin | settings |
//! | `PUT    /api/users/:id/role` `{role}` | admin | account summary; `customer`/`organizer`/`staff` only; 409 `email-unverified` for organizer/staff of an unconfirmed address |
//! | `GET    /api/users/internal/:id/contact` | chained | `{user_id, email, display_name, locale, time_zone, notifications}` |
//! | `POST   /api/users/tick` | tick token | retries `AccountErased` deliveries |
//!
//! Roles live in `auth` (it signs the tokens); a role change is forwarded
//! there over service chaining and reaches the user's access token at its
//! next refresh (≤ 15 minutes). Deletion erases the account in `auth`
//! first (sign-in impossible, sessions revoked, every access token refused
//! at once through the token epoch), then blanks the profile, forgets the
//! settings and emits `AccountErased` in the same transaction: booking,
//! payments, tickets and notifications each scrub the person's data they
//! hold (names, e-mail addresses, phone, mail bodies, in-site messages),
//! while the anonymous records (bookings, payments, tickets) stay keyed by
//! the user id: financial records are kept.

use platform::web::Router;

pub mod api;
pub mod auth_client;
pub mod domain;
pub mod profiles;
pub mod settings;
pub mod store;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/users/health", api::health);
    r.get("/api/users", api::list);
    r.get("/api/users/:id", api::get_profile);
    r.patch("/api/users/:id", api::patch_profile);
    r.delete("/api/users/:id", api::delete_account);
    r.get("/api/users/:id/settings", api::get_settings);
    r.patch("/api/users/:id/settings", api::patch_settings);
    r.put("/api/users/:id/role", api::set_role);
    r.post("/api/users/tick", api::tick);
    r
}

/// The private component's route table (`users-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.get("/api/users/internal/:id/contact", api::contact);
    r
}

/// The component entry point (wasm only: the exported symbol names do not
/// link into a native cdylib, and native unit tests do not need it).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
        platform::web::serve_surfaces("users", router, internal_router, req)
    }
}
