//! `auth`: accounts, credentials and sessions (docs/DESIGN.md §2, §6).
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET  /api/auth/health` | anyone | database and store checks |
//! | `POST /api/auth/register` `{email, password}` | anyone | 201 token response (always a customer, unverified; a confirmation link is e-mailed, [`verify`]); 409 `email-taken`; 422 policy; 429 + `Retry-After` |
//! | `POST /api/auth/login` `{email, password}` | anyone | 200 token response; 401; 429 + `Retry-After` |
//! | `POST /api/auth/refresh` `{refresh_token}` or the refresh cookie | holder | 200 token response (rotated); 401; 409 `refresh-race` |
//! | `POST /api/auth/logout` `{refresh_token}` or the refresh cookie | holder | 204; ends that sign-in's family, clears the cookie |
//! | `POST /api/auth/logout-all` | bearer | 204; ends every family of the caller |
//! | `POST /api/auth/password` `{current_password, new_password}` | bearer | 200 token response for a new session; every other session ended |
//! | `POST /api/auth/password/forgot` `{email}` | anyone | 202 `{detail}`, the same for any address (a reset link is e-mailed when it has an account; [`reset`]); 422; 429 + `Retry-After` |
//! | `POST /api/auth/password/reset` `{token, new_password}` | the link's holder | 200 `{reset: true}`, every session ended, the address verified; 409 `reset-token-invalid`; 422 policy; 429 |
//! | `POST /api/auth/email/verify` `{token}` | the link's holder | 200 `{email_verified: true}` (again for a used link while it is valid); 409 `verification-token-invalid`; 422; 429 + `Retry-After` |
//! | `POST /api/auth/email/verify/resend` | bearer | 202 `{detail}`, a new link e-mailed (earlier unused ones dropped); 409 `email-already-verified`; 429 + `Retry-After` past 3 an hour |
//! | `POST /api/auth/tick` | Bearer `tick_token` | retries auth's saga deliveries (reset and verification e-mails) |
//! | `GET  /api/auth/session` | bearer | `{user_id, role, email_verified}`: the role the access token carries, the address's state now |
//! | `GET  /api/auth/internal/accounts[?role&limit&cursor]` | chained | account page |
//! | `GET  /api/auth/internal/accounts/:id` | chained | account summary |
//! | `PUT  /api/auth/internal/accounts/:id/role` `{role}` | chained | 200 summary; 409 `email-unverified` for organizer/staff of an unverified account |
//! | `POST /api/auth/internal/accounts/:id/erase` | chained | 204 |
//!
//! The first admin is made from configuration, once, by [`bootstrap`].
//!
//! E-mail verification ([`verify`]): an account is unverified until it
//! opens the link e-mailed at registration (or completes a password
//! reset). An unverified account may do everything a customer does —
//! browse, hold, book, pay, receive its tickets — but cannot be made an
//! organizer or staff member (409 `email-unverified`): those roles handle
//! attendees' data and money, and their password resets must reach a
//! proven address.
//!
//! Token responses use RFC 6749 §5.1 names: `access_token`, `token_type`
//! (`Bearer`), `expires_in` (seconds), `refresh_token`, plus `user`
//! (`{id, email, role, email_verified}`). The refresh token also goes out as the cookie
//! `boxoffice_refresh` (`HttpOnly; Secure; SameSite=Strict;
//! Path=/api/auth`, [`tokens::refresh_cookie`]): the site keeps it there,
//! out of reach of scripts, while API clients keep using the JSON member;
//! refresh and logout take either. `/internal/` routes are served only by the private
//! component `auth-internal` (reached by service chaining as
//! `http://auth-internal.spin.internal/...`, see
//! [`platform::web::Surface`]); the public `auth` has no such routes (404). The calling
//! component (`users`) has already authorised its caller.

use platform::web::Router;

pub mod accounts;
pub mod api;
pub mod bootstrap;
pub mod email;
pub mod internal;
pub mod password;
pub mod ratelimit;
pub mod reset;
pub mod sessions;
pub mod store;
pub mod tokens;
pub mod verify;

/// Producer name of auth's saga events (`PasswordResetRequested`,
/// `EmailVerificationRequested`).
pub const PRODUCER: &str = "auth";

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/auth/health", api::health);
    r.post("/api/auth/register", api::register);
    r.post("/api/auth/login", api::login);
    r.post("/api/auth/refresh", api::refresh);
    r.post("/api/auth/logout", api::logout);
    r.post("/api/auth/logout-all", api::logout_all);
    r.post("/api/auth/password", api::change_password);
    r.post("/api/auth/password/forgot", reset::forgot);
    r.post("/api/auth/password/reset", reset::reset);
    r.post("/api/auth/email/verify", verify::verify);
    r.post("/api/auth/email/verify/resend", verify::resend);
    r.post("/api/auth/tick", reset::tick);
    r.get("/api/auth/session", api::session);
    r
}

/// The private component's route table (`auth-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.get("/api/auth/internal/accounts", internal::list);
    r.get("/api/auth/internal/accounts/:id", internal::get);
    r.put("/api/auth/internal/accounts/:id/role", internal::set_role);
    r.post("/api/auth/internal/accounts/:id/erase", internal::erase);
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
        platform::web::serve_surfaces("auth", router, internal_router, req)
    }
}
