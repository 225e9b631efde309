//! Consuming events: the idempotent inbox.

use crate::Event;
use platform::{ApiError, ApiResult};
use spin_sdk::http::Request;
use spin_sdk::sqlite3::{Connection, Value};

const RECORD: &str = "INSERT INTO saga_inbox (event_id, event_type, producer, received_ms) VALUES (?, ?, ?, ?) \
     ON CONFLICT(event_id) DO NOTHING RETURNING event_id";

/// Handles one saga delivery (`POST /api/<prefix>/saga`).
///
/// Mounted only on a service's private component
/// ([`platform::web::Surface::Internal`]), so only service chaining reaches
/// it; the request itself is not inspected for that.
///
/// * Body not an [`Event`]: 400/422 (the relay dead-letters it at once).
/// * The event's `request_id` becomes this request's id
///   ([`platform::log::adopt`]): the consumer's log lines, its answer's
///   `x-request-id` and the events its handler emits carry the id of the
///   request that emitted the event (the relay sends the same id as
///   `x-request-id`; an injected event without one keeps the header's).
/// * Otherwise, in ONE `BEGIN IMMEDIATE` transaction: record `event.id` in
///   `saga_inbox`; when it was already there, answer
///   `200 {"event_id":…,"status":"duplicate"}` without calling `handler`;
///   else run `handler(conn, &event)` and answer
///   `200 {"event_id":…,"status":"applied"}`. A handler error rolls the
///   whole transaction back (the id is not recorded) and is the answer, so
///   the producer retries later.
/// * After the commit, the events the handler emitted — and only those:
///   the outbox rows added inside this transaction, which no one else can
///   write to meanwhile — get their first delivery attempt
///   ([`crate::relay_events`]). Deliveries of other requests are left to
///   those requests and to the tick, so under load one delivery does not
///   turn into a relay pass over everyone's pending rows (each a write on
///   the same database).
///
/// Handlers should return `Ok(())` for events that are valid but change
/// nothing (unknown type for this consumer, already in the target state):
/// only transient failures should be errors.
pub fn receive(
    req: &Request,
    conn: &Connection,
    handler: impl FnOnce(&Connection, &Event) -> Result<(), ApiError>,
) -> ApiResult {
    let event = parse_event(req)?;
    if let Some(id) = &event.request_id {
        platform::log::adopt(id);
    }
    let applied = platform::db::transaction(conn, |c| -> Result<Option<Vec<Event>>, ApiError> {
        let recorded = c.execute(
            RECORD,
            &[
                Value::Text(event.id.clone()),
                Value::Text(event.event_type.clone()),
                Value::Text(event.producer.clone()),
                Value::Integer(platform::clock::now_ms()),
            ],
        )?;
        if recorded.rows.is_empty() {
            return Ok(None);
        }
        let before = last_outbox_row(c)?;
        handler(c, &event)?;
        Ok(Some(crate::relay::emitted_after(c, before)?))
    })?;
    let status = if applied.is_some() { "applied" } else { "duplicate" };
    platform::log::line(
        platform::log::Level::Info,
        &format!("saga: {} {} from {} {status}", event.event_type, event.id, event.producer),
        &[
            ("event_id", event.id.as_str().into()),
            ("event_type", event.event_type.as_str().into()),
            ("producer", event.producer.as_str().into()),
            ("outcome", status.into()),
        ],
    );
    if let Some(emitted) = &applied {
        crate::relay_events(conn, emitted);
    }
    platform::web::ok(&serde_json::json!({"event_id": event.id, "status": status}))
}

/// The outbox's highest rowid (0 when empty).
fn last_outbox_row(c: &Connection) -> Result<i64, spin_sdk::sqlite3::Error> {
    let r = c.execute("SELECT COALESCE(MAX(rowid), 0) AS r FROM saga_outbox", &[])?;
    let last = r.rows().next().and_then(|row| row.get::<i64>("r")).unwrap_or(0);
    Ok(last)
}

/// Parses and checks a delivered event body: 400 for bad JSON, 422 when a
/// member is missing, the id is not 1–64 visible characters, or the type is
/// empty.
pub fn parse_event(req: &Request) -> ApiResult<Event> {
    let event: Event = platform::web::read_json(req)?;
    if event.id.is_empty() || event.id.len() > 64 || !event.id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field("id", "must be 1-64 visible ASCII characters"));
    }
    if event.event_type.is_empty() {
        return Err(ApiError::field("event_type", "must not be empty"));
    }
    Ok(event)
}
