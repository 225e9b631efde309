//! `EventCancelled` and `EventChanged` through the saga outbox of
//! `crates/saga` (docs/DESIGN.md §3).
//!
//! * `EventCancelled` `{"event_id","title","reason","cancelled_at"}`
//!   (booking, notifications).
//! * `EventRescheduled` (booking, payments, tickets, notifications): a
//!   published event's start or end moved ([`rescheduled`]).
//! * `EventChanged` `{"event_id","version","status"}` (booking): what an
//!   event sells changed — it was published (also by an import), edited or
//!   updated while not a draft, or cancelled. `version` is the event row's
//!   `version`, which every such change increments, and the `version` of
//!   the inventory document booking copies (`read::inventory`).
//!
//! Both are written in the same transaction as the change, delivered right
//! after commit in the same request, and retried from
//! `POST /api/events/tick`. `EventChanged` is emitted by the shared write
//! paths ([`crate::write::insert`], [`crate::write::update`], publish,
//! cancel), which importers call too; the events they emit are remembered
//! for this request ([`changed`]) and relayed by the entry point after the
//! route has answered ([`relay_changed`]), so no caller can forget it. An
//! event whose transaction rolled back has no outbox row and relays as
//! nothing.

use platform::event_status::EventStatus;
use platform::ApiResult;
use saga::contract::{EventCancelled, EventChanged, EventRescheduled};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// Producer name of this component's events.
pub const PRODUCER: &str = "events";

/// Records `EventCancelled`; call inside the transaction that cancels the
/// event. Returns the stored event for [`relay`].
pub fn emit_cancelled(conn: &Connection, payload: &EventCancelled) -> ApiResult<saga::Event> {
    Ok(saga::emit(conn, PRODUCER, payload)?)
}

thread_local! {
    /// `EventChanged` events emitted by this request (one request per
    /// component instance, docs/DESIGN.md §5), for [`relay_changed`].
    static CHANGED: std::cell::RefCell<Vec<saga::Event>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records `EventChanged` for event `event_id` now at `version` in
/// `status`; call inside the transaction of the change. The event is
/// relayed by [`relay_changed`] when the request is done.
pub fn changed(conn: &Connection, event_id: &str, version: i64, status: EventStatus) -> ApiResult<()> {
    let payload = EventChanged { event_id: event_id.to_string(), version, status };
    let event = saga::emit(conn, PRODUCER, &payload)?;
    CHANGED.with(|c| c.borrow_mut().push(event));
    Ok(())
}

/// Records `EventRescheduled` for a published event whose start or end
/// moved (inside the transaction of the change); relayed with the
/// request's `EventChanged` events by [`relay_changed`].
pub fn rescheduled(conn: &Connection, payload: &EventRescheduled) -> ApiResult<()> {
    let event = saga::emit(conn, PRODUCER, payload)?;
    CHANGED.with(|c| c.borrow_mut().push(event));
    Ok(())
}

/// First delivery attempt of the `EventChanged` events this request
/// emitted (called by the entry point after the route answered). Booking
/// refreshes its copy while it handles the delivery, so when an edit's
/// answer reaches the organizer, booking already sells the new version
/// (unless booking was unreachable: then the tick retries, and booking
/// fetches on its own when it learns of a newer version).
pub fn relay_changed() {
    let events = CHANGED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    if events.is_empty() {
        return;
    }
    match crate::store::open() {
        Ok(conn) => {
            let report = saga::relay_events(&conn, &events);
            platform::log::info!("events: relayed EventChanged: {report:?}");
        }
        Err(e) => platform::log::warn!("events: EventChanged left for the tick: {e:?}"),
    }
}

/// First delivery attempt of `events`, right after commit; what fails stays
/// queued for the tick.
pub fn relay(conn: &Connection, events: &[saga::Event]) {
    let report = saga::relay_events(conn, events);
    platform::log::info!("events: relayed EventCancelled: {report:?}");
}

/// `POST /api/events/tick` (tick token): retries pending deliveries and
/// deletes expired Idempotency-Key records:
/// `{"delivered","retried","dead","pending","idempotency_keys_swept"}`.
pub fn tick(req: Request, _: Params) -> platform::ApiResult {
    saga::require_tick(&req)?;
    let conn = crate::store::open()?;
    let swept = platform::idempotency::sweep(&conn, platform::clock::now_ms())?;
    let report = saga::relay(&conn);
    platform::web::ok(
        &serde_json::json!({"delivered": report.delivered, "retried": report.retried, "dead": report.dead, "pending": report.pending,
        "idempotency_keys_swept": swept}),
    )
}
