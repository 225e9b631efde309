//! `sandbox`: local stand-ins for the outside providers (docs/DESIGN.md §2). Every
//! route answers 404 unless the `sandbox_enabled` variable is true: it is
//! false by default (`spin.toml`, and [`enabled`] when unset), so a plain
//! deployment ships no sandbox; `cargo xtask up` and the test harnesses turn
//! it on.
//!
//! Who may call what is in [`access`]: the provider APIs check their
//! provider's key, the buyer's 3-D Secure page and health are open, and the
//! tools (marked *tool* below) need the `sandbox_admin_token` secret —
//! `Authorization: Bearer <token>`, or for the read-only pages and lists the
//! cookie of the sign-in form (`POST /sandbox/login`).
//!
//! Payment provider (`/sandbox/payments/...`, a Stripe PaymentIntents subset,
//! `Authorization: Bearer <payment_secret_key>`, form-encoded, Idempotency-Key
//! honoured) — see [`payments`] for the test cards:
//!
//! | route | answer |
//! |---|---|
//! | `GET  /sandbox/health` | database check |
//! | `POST /sandbox/login` | sign-in form post (`token`, `next`) → 303 + reader cookie |
//! | `GET  /sandbox/payments` | *tool*: HTML list of intents, refunds and webhooks |
//! | `POST /sandbox/payments/v1/payment_intents` | create |
//! | `GET  /sandbox/payments/v1/payment_intents/:id` | retrieve |
//! | `POST /sandbox/payments/v1/payment_intents/:id/confirm` | confirm with a test card |
//! | `POST /sandbox/payments/v1/payment_intents/:id/cancel` | cancel |
//! | `POST /sandbox/payments/v1/refunds` | refund (full or partial; also what a dashboard refund is: no metadata); webhooks `refund.created` + `charge.refunded` (cumulative `amount_refunded`) |
//! | `GET  /sandbox/payments/v1/refunds?payment_intent=` | list an intent's refunds, newest first |
//! | `GET/POST /sandbox/payments/authenticate/:id` | the buyer's 3-D Secure page |
//! | `PUT  /sandbox/payments/admin/faults` | *tool* (Bearer): failure injection (see [`faults`]) |
//! | `GET  /sandbox/payments/admin/webhooks?object=` | *tool*: webhook events made (raw bodies, deliveries, `queued`) |
//! | `POST /sandbox/payments/admin/settle` | *tool* (Bearer): settle `processing` intents now |
//!
//! Webhooks are sent the way a real provider sends them: after the API call
//! was answered (queued in `sb_webhook_queue`, delivered once the response
//! went out — see [`webhooks`]), so a slow receiver never delays an answer.
//!
//! Email provider (`/sandbox/email/...`, a Resend `POST /emails` subset,
//! `Authorization: Bearer <email_api_token>`, Idempotency-Key honoured,
//! failure injection, mailbox page) — see [`email`].

use access::{page, reader, tool};
use platform::web::Router;

pub mod access;
pub mod email;
pub mod faults;
pub mod pages;
pub mod payments;
pub mod store;
pub mod webhooks;

/// The route table (tools wrapped by [`access`]).
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/sandbox/health", pages::health);
    r.post("/sandbox/login", access::login);
    // Payment provider: its API (payment_secret_key), the buyer's 3-D Secure page, tools.
    r.get("/sandbox/payments", page(pages::list));
    r.post("/sandbox/payments/v1/payment_intents", payments::create);
    r.get("/sandbox/payments/v1/payment_intents/:id", payments::retrieve);
    r.post("/sandbox/payments/v1/payment_intents/:id/confirm", payments::confirm);
    r.post("/sandbox/payments/v1/payment_intents/:id/cancel", payments::cancel);
    r.post("/sandbox/payments/v1/refunds", payments::refund);
    r.get("/sandbox/payments/v1/refunds", payments::list_refunds);
    r.get("/sandbox/payments/authenticate/:id", pages::authenticate);
    r.post("/sandbox/payments/authenticate/:id", payments::authenticate);
    r.put("/sandbox/payments/admin/faults", tool(faults::set));
    r.get("/sandbox/payments/admin/webhooks", reader(webhooks::list));
    r.post("/sandbox/payments/admin/settle", tool(payments::settle));
    // Email provider: its API (email_api_token), tools.
    r.post("/sandbox/email/emails", email::send);
    r.get("/sandbox/email/emails/:id", email::get);
    r.get("/sandbox/email", page(email::mailbox));
    r.get("/sandbox/email/view/:id", page(email::view_html));
    r.get("/sandbox/email/messages", reader(email::list));
    r.get("/sandbox/email/requests", reader(email::requests));
    r.put("/sandbox/email/faults", tool(email::set_faults));
    r
}

/// The component entry point (wasm only): answers, then — with the response
/// already sent, as a real provider does — delivers the payment webhooks
/// queued by this or earlier requests. The instance stays alive until this
/// handler returns (wasi-http 0.2: the response outparam is set and its body
/// finished before the handler returns; Spin and the local runner keep
/// running the handler to completion).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    async fn handle(req: spin_sdk::http::Request, out: spin_sdk::http::ResponseOutparam) {
        let payments = req.path().starts_with("/sandbox/payments");
        let mut resp = respond(req);
        let body = std::mem::take(resp.body_mut());
        match spin_sdk::http::OutgoingResponse::try_from(resp) {
            Ok(r) => {
                if let Err(e) = out.set_with_body(r, body).await {
                    platform::log::warn!("sandbox: response not sent (the caller went away?): {e:?}");
                }
            }
            Err(e) => platform::log::error!("sandbox: response not built: {e}"),
        }
        if payments && enabled() {
            after_response();
        }
    }
}

/// Deliveries one instance makes after its response (the rest wait for the
/// next request, so one instance never keeps delivering a long backlog).
pub const DELIVERIES_PER_REQUEST: usize = 16;

/// Work done after the response went out: sends queued webhooks.
pub fn after_response() {
    match store::open() {
        Ok(conn) => {
            webhooks::deliver_queued(&conn, DELIVERIES_PER_REQUEST);
        }
        Err(e) => platform::log::error!("sandbox: webhook queue not opened: {e:?}"),
    }
}

/// Answers one request: 404 `no-route` for everything when the sandbox is
/// disabled (an empty route table).
pub fn respond(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
    let routes = if enabled() { router() } else { Router::new() };
    platform::web::serve("sandbox", &routes, req)
}

/// The `sandbox_enabled` variable; false when unset (a deployment that
/// says nothing gets no sandbox).
pub fn enabled() -> bool {
    platform::config::flag("sandbox_enabled", false)
}
