//! The dead-letter list (deliveries that gave up), for admins.

use serde::Serialize;
use spin_sdk::sqlite3::{Connection, Error, Value};

/// One dead delivery, as listed to admins.
///
/// ```json
/// {"event_id":"msg_…","subscriber":"payments","path":"/api/payments/saga","event_type":"BookingOrdered",
///  "attempts":15,"last_error":"http://payments.spin.internal/api/payments/saga answered 503",
///  "dead_at":"2026-03-01T13:15:00Z","event":{…the Event…}}
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// Event id.
    pub event_id: String,
    /// Component that never acknowledged it.
    pub subscriber: String,
    /// That component's saga route.
    pub path: String,
    /// Event type.
    pub event_type: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last failure.
    pub last_error: String,
    /// When it was given up, RFC 3339 UTC.
    pub dead_at: String,
    /// The full event, when still in the outbox.
    pub event: Option<crate::Event>,
}

const LIST: &str =
    "SELECT event_id, subscriber, path, event_type, attempts, last_error, dead_ms FROM saga_dead_letters \
     WHERE (? IS NULL OR dead_ms < ?) ORDER BY dead_ms DESC LIMIT ?";
const DELETE_DEAD: &str = "DELETE FROM saga_dead_letters WHERE event_id = ? AND subscriber = ?";
const REVIVE: &str =
    "UPDATE saga_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?, last_error = NULL \
     WHERE event_id = ? AND subscriber = ? AND status = 'dead' RETURNING event_id";

/// Dead letters, newest first, at most `limit`; `before_ms` is the cursor
/// (the `dead_ms` of the last item of the previous page, exclusive).
pub fn dead_letters(conn: &Connection, limit: u32, before_ms: Option<i64>) -> Result<Vec<(DeadLetter, i64)>, Error> {
    let cursor = before_ms.map(Value::Integer).unwrap_or(Value::Null);
    let result = conn.execute(LIST, &[cursor.clone(), cursor, Value::Integer(limit.into())])?;
    let mut out = Vec::new();
    for r in result.rows() {
        let (Some(event_id), Some(dead_ms)) = (r.get::<&str>("event_id"), r.get::<i64>("dead_ms")) else { continue };
        let event = crate::relay::load_event(conn, event_id)?;
        out.push((
            DeadLetter {
                event_id: event_id.to_string(),
                subscriber: r.get::<&str>("subscriber").unwrap_or_default().to_string(),
                path: r.get::<&str>("path").unwrap_or_default().to_string(),
                event_type: r.get::<&str>("event_type").unwrap_or_default().to_string(),
                attempts: r.get::<i64>("attempts").unwrap_or_default(),
                last_error: r.get::<&str>("last_error").unwrap_or_default().to_string(),
                dead_at: platform::clock::rfc3339(dead_ms),
                event,
            },
            dead_ms,
        ));
    }
    Ok(out)
}

/// Moves a dead delivery back to pending (attempts reset, due now).
/// Returns whether there was such a dead delivery.
pub fn requeue(conn: &Connection, event_id: &str, subscriber: &str) -> Result<bool, Error> {
    platform::db::transaction(conn, |c| {
        let key = [Value::Text(event_id.to_string()), Value::Text(subscriber.to_string())];
        let revived =
            c.execute(REVIVE, &[Value::Integer(platform::clock::now_ms()), key[0].clone(), key[1].clone()])?;
        c.execute(DELETE_DEAD, &key)?;
        Ok(!revived.rows.is_empty())
    })
}
