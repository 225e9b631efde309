//! `sandbox`: local stand-ins for the outside providers (DESIGN §2). Every
//! route answers 404 when the `sandbox_enabled` variable is false
//! (production).
//!
//! Payment provider (`/sandbox/payments/...`, a Stripe PaymentIntents subset,
//! `Authorization: Bearer <payment_secret_key>`, form-encoded, Idempotency-Key
//! honoured) — see [`payments`] for the test cards:
//!
//! | route | answer |
//! |---|---|
//! | `GET  /sandbox/health` | database check |
//! | `GET  /sandbox/payments` | HTML list of intents, refunds and webhooks |
//! | `POST /sandbox/payments/v1/payment_intents` | create |
//! | `GET  /sandbox/payments/v1/payment_intents/:id` | retrieve |
//! | `POST /sandbox/payments/v1/payment_intents/:id/confirm` | confirm with a test card |
//! | `POST /sandbox/payments/v1/payment_intents/:id/cancel` | cancel |
//! | `POST /sandbox/payments/v1/refunds` | refund (full or partial) |
//! | `GET/POST /sandbox/payments/authenticate/:id` | the buyer's 3-D Secure page |
//! | `PUT  /sandbox/payments/admin/faults` | failure injection (see [`faults`]) |
//! | `GET  /sandbox/payments/admin/webhooks?object=` | webhook events sent (raw bodies) |
//! | `POST /sandbox/payments/admin/settle` | settle `processing` intents now |
//! | `POST /sandbox/payments/admin/saga` | deliver a saga event to `payments` (tests) |
//!
//! Email provider (`/sandbox/email/...`, a Resend `POST /emails` subset,
//! `Authorization: Bearer <email_api_token>`, Idempotency-Key honoured,
//! failure injection, mailbox page) — see [`email`].

use platform::db::Migration;
use spin_sdk::http::Router;

pub mod email;
pub mod faults;
pub mod pages;
pub mod payments;
#[path = "../../payments/src/signature.rs"]
pub mod signature;
pub mod webhooks;

/// The SQLite database label of this component.
pub const DB: &str = "sandbox";

/// Schema migrations (later providers add later-numbered files).
pub const MIGRATIONS: &[Migration] =
    &[
        Migration { version: 1, name: "payments", sql: include_str!("../../../sql/sandbox/0001_payments.sql") },
        Migration { version: 10, name: "email", sql: include_str!("../../../sql/sandbox/0010_email.sql") },
    ];

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/sandbox/health", pages::health);
    // Payment provider.
    r.get("/sandbox/payments", pages::list);
    r.post("/sandbox/payments/v1/payment_intents", payments::create);
    r.get("/sandbox/payments/v1/payment_intents/:id", payments::retrieve);
    r.post("/sandbox/payments/v1/payment_intents/:id/confirm", payments::confirm);
    r.post("/sandbox/payments/v1/payment_intents/:id/cancel", payments::cancel);
    r.post("/sandbox/payments/v1/refunds", payments::refund);
    r.get("/sandbox/payments/authenticate/:id", pages::authenticate);
    r.post("/sandbox/payments/authenticate/:id", payments::authenticate);
    r.put("/sandbox/payments/admin/faults", faults::set);
    r.get("/sandbox/payments/admin/webhooks", webhooks::list);
    r.post("/sandbox/payments/admin/settle", payments::settle);
    r.post("/sandbox/payments/admin/saga", webhooks::deliver_saga);
    // Email provider.
    r.get("/sandbox/email", email::mailbox);
    r.post("/sandbox/email/emails", email::send);
    r.get("/sandbox/email/emails/:id", email::get);
    r.get("/sandbox/email/messages", email::list);
    r.get("/sandbox/email/requests", email::requests);
    r.put("/sandbox/email/faults", email::set_faults);
    r.get("/sandbox/email/view/:id", email::view_html);
    r
}

/// The component entry point (wasm only).
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    respond(req)
}

/// Answers one request: 404 for everything when the sandbox is disabled.
pub fn respond(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    if !enabled() {
        let err = platform::ApiError::NoRoute(format!("no endpoint answers {} {}", req.method(), req.path()));
        return spin_sdk::http::IntoResponse::into_response(err);
    }
    platform::web::serve(&router(), req)
}

/// The `sandbox_enabled` variable (default true for local development).
pub fn enabled() -> bool {
    platform::config::flag("sandbox_enabled", true)
}

/// Opens the sandbox database, applying migrations.
pub fn db() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(platform::db::open(DB, MIGRATIONS)?)
}
