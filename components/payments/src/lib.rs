//! `payments`: collects the money for bookings through a PaymentIntents-style
//! provider (docs/DESIGN.md §2, §3).
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET  /api/payments/health` | anyone | database check |
//! | `GET  /api/payments/:booking_id` | buyer, staff, admin | payment view (below) |
//! | `POST /api/payments/:booking_id/pay` `{method:"card", card:{number,exp_month,exp_year,cvc}}` or `{method:"card", payment_method:"pm_…"}`, optional `return_url` (same-site path) | buyer | 200 view (`succeeded`, or `requires_action` with `next_action.url`); 202 view (`processing`); 402 `card-declined` (+`decline_code`, `attempts_left`, `payment`); 409 `hold-expired` / `booking-cancelled` / `attempts-exhausted` / `sales-closed` (the event's sales closed before the booking was paid: the attempt is cancelled at the provider and `PaymentFailed {reason: sales_closed}` makes booking release the places; a payment already in flight finishes); 502/503 provider fault before anything could be charged (intent creation failed, or the provider refused/redirected the confirmation: retryable, nothing charged); 503 `unavailable` with `Retry-After` when the provider answered 429 or 503 with one, and on every pay until that wait (capped at 10 min, [`provider::MAX_WAIT_MS`]) ends — nothing is sent to it meanwhile, by any request or tick; 202 view with `outcome_unknown: true` when the confirmation's answer was lost (timeout, transport failure, 5xx, unreadable answer — the card MAY have been charged: poll the `Location`, or pay again with the same card, which is safe: the same attempt is re-confirmed with the same provider Idempotency-Key, never a second charge) |
//! | `POST /api/payments/:booking_id/refunds` `{amount_minor?, reason?, ticket_id?}` (+`Idempotency-Key`) | the event's organizer, admin | 201 refund (`succeeded`) / 202 (`pending`); with `ticket_id` that ticket is voided and the refund names it (200: refunded already; [`ticket_refund`]); 409 `not-paid` / `refund-exceeds-payment` / `refund-refused` (the provider said no) / `ticket-already-refunded` / `nothing-to-refund` / `checked-in` / `last-ticket` |
//! | `GET  /api/payments/:booking_id/events` | staff, admin | saga events emitted for the booking |
//! | `POST /api/payments/webhook` | the provider (signed) | 200 `{received, event_id, duplicate}`; 400 bad signature; 413 over 256 KiB; 503 (not recorded: deliver again) when a refund made at the provider cannot be read or placed yet — with the provider's remaining wait as `Retry-After` when it is throttling us |
//! | `POST /api/payments/tick` | Bearer `tick_token` | reconciliation, refunds, relay report |
//! | `POST /api/payments/saga` | chained only | saga inbox (`BookingOrdered`, `BookingCancelled`) |
//!
//! Payment view: `{booking_id, payment_id, attempt, status, amount_minor,
//! currency, refunded_minor, card:{brand,last4}|null,
//! failure:{code,decline_code,message}|null,
//! next_action:{type:"redirect_to_url",url}|null, provider_reference,
//! attempts_left, hold_expires_at, booking_cancelled, payments:[…],
//! refunds:[…], created_at, updated_at, outcome_unknown}`. `status` is one of `pending`,
//! `requires_payment_method`, `requires_action`, `processing`, `succeeded`,
//! `partially_refunded`, `refunded`, `failed`, `canceled`. A `GET` of a
//! payment in flight (`processing`, `requires_action`) first asks the
//! provider how its PaymentIntent stands.
//!
//! Variables: `payment_api_base` (default the local sandbox over service
//! chaining; production `https://api.stripe.com`), `payment_secret_key`,
//! `payment_webhook_secret`, `public_base_url` (prefix of 3-D Secure return
//! URLs), `tick_token`, `jwt_keys`.

use platform::web::Router;

pub mod api;
pub mod domain;
pub mod flow;
pub mod followups;
pub mod provider;
pub mod refunds;
pub mod saga;
pub mod status;
pub mod store;
pub mod tick;
pub mod ticket_refund;
pub mod webhook;

/// Component name used as the saga producer.
pub const PRODUCER: &str = "payments";

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.get("/api/payments/health", api::health);
    r.post("/api/payments/webhook", webhook::receive);
    r.post("/api/payments/tick", tick::tick);
    r.get("/api/payments/:booking_id", api::get);
    r.post("/api/payments/:booking_id/pay", api::pay);
    r.post("/api/payments/:booking_id/refunds", api::refund);
    r.get("/api/payments/:booking_id/events", api::events);
    r
}

/// The private component's route table (`payments-internal`, `surface = "internal"`):
/// reachable only by service chaining, see [`platform::web::Surface`].
pub fn internal_router() -> Router {
    let mut r = Router::new();
    r.post("/api/payments/saga", saga::inbox);
    r
}

/// The component entry point (wasm only).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: spin_sdk::http::Request) -> spin_sdk::http::Response {
        platform::web::serve_surfaces("payments", router, internal_router, req)
    }
}
