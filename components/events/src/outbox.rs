//! `EventCancelled` through the saga outbox of `crates/saga` (DESIGN §3).
//!
//! The payload is `{"event_id","title","reason","cancelled_at"}`; it is
//! written in the same transaction as the status change, delivered right
//! after commit, and retried from `POST /api/events/tick`. Subscribers are
//! declared in `saga::SUBSCRIPTIONS` (booking, notifications).

use platform::ApiResult;
use serde_json::Value as Json;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// Producer name of this component's events.
pub const PRODUCER: &str = "events";

/// Records `EventCancelled` with `payload`; call inside the transaction that
/// cancels the event. Returns the stored event for [`relay`].
pub fn emit_cancelled(conn: &Connection, payload: &Json) -> ApiResult<saga::Event> {
    Ok(saga::emit(conn, PRODUCER, saga::types::EVENT_CANCELLED, payload)?)
}

/// First delivery attempt of `events`, right after commit; what fails stays
/// queued for the tick.
pub fn relay(conn: &Connection, events: &[saga::Event]) {
    let report = saga::relay_events(conn, events);
    eprintln!("events: relayed EventCancelled: {report:?}");
}

/// `POST /api/events/tick` (tick token): retries pending deliveries and
/// deletes expired Idempotency-Key records:
/// `{"delivered","retried","dead","pending","idempotency_keys_swept"}`.
pub fn tick(req: Request, _: Params) -> platform::ApiResult {
    saga::require_tick(&req)?;
    let conn = crate::store::open()?;
    let swept = platform::idempotency::sweep(&conn, platform::clock::now_ms())?;
    let report = saga::relay(&conn);
    platform::web::ok(&serde_json::json!({"delivered": report.delivered, "retried": report.retried, "dead": report.dead, "pending": report.pending,
        "idempotency_keys_swept": swept}))
}
