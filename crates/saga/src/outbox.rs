//! Writing events: the transactional outbox.

use crate::{subscribers_of, Contract, Error, Event};
use spin_sdk::sqlite3::{Connection, Value};

const INSERT_EVENT: &str = "INSERT INTO saga_outbox (id, event_type, version, occurred_at, producer, payload, created_ms, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const INSERT_DELIVERY: &str =
    "INSERT INTO saga_deliveries (event_id, subscriber, path, status, attempts, next_attempt_ms) VALUES (?, ?, ?, 'pending', 0, ?)";

/// Records `payload` (its [`Contract::TYPE`] and [`Contract::VERSION`])
/// as an event of component `producer`, and
/// one pending delivery per subscriber of [`crate::SUBSCRIPTIONS`]. The
/// event carries the current request id ([`platform::log::request_id`]):
/// inside a saga delivery, the id of the event being consumed.
///
/// Call it INSIDE the transaction of the state change it describes, so the
/// event exists exactly when the change does; then, after the commit, hand
/// the returned event to [`crate::relay_events`] for the first attempt.
///
/// Errors: [`Error::UnknownEventType`] when the type has no subscription
/// entry; [`Error::Db`] when a write fails (the caller's transaction then
/// rolls back).
pub fn emit<E: Contract>(conn: &Connection, producer: &str, payload: &E) -> Result<Event, Error> {
    let event_type = E::TYPE;
    let subscribers = subscribers_of(event_type).ok_or_else(|| Error::UnknownEventType(event_type.to_string()))?;
    let payload = serde_json::to_value(payload).map_err(Error::Json)?;
    let now = platform::clock::now_ms();
    let event = Event {
        id: platform::ids::new("msg"),
        event_type: event_type.to_string(),
        version: E::VERSION,
        occurred_at: platform::clock::rfc3339(now),
        producer: producer.to_string(),
        request_id: platform::log::request_id(),
        payload,
    };
    conn.execute(
        INSERT_EVENT,
        &[
            Value::Text(event.id.clone()),
            Value::Text(event.event_type.clone()),
            Value::Integer(event.version.into()),
            Value::Text(event.occurred_at.clone()),
            Value::Text(event.producer.clone()),
            Value::Text(event.payload.to_string()),
            Value::Integer(now),
            event.request_id.clone().map(Value::Text).unwrap_or(Value::Null),
        ],
    )?;
    for sub in subscribers {
        conn.execute(
            INSERT_DELIVERY,
            &[
                Value::Text(event.id.clone()),
                Value::Text(sub.component.to_string()),
                Value::Text(sub.path.to_string()),
                Value::Integer(now),
            ],
        )?;
    }
    Ok(event)
}

/// Forgets the personal data of `user_id` in this component's outbox (for
/// `AccountErased`, issue 17, item 9, and auth's own erasure): every
/// recorded event whose payload names the account loses its `buyer`,
/// `attendees` and `email` (auth's reset and confirmation links), and the
/// attendee names of its `tickets`. Events still to be delivered go out
/// without them; the ids, amounts and states the saga needs stay.
pub fn forget_person(c: &Connection, user_id: &str) -> Result<(), Error> {
    let user = [Value::Text(user_id.to_string())];
    c.execute(
        "UPDATE saga_outbox SET payload = json_remove(payload, '$.buyer', '$.attendees', '$.email') \
         WHERE json_extract(payload, '$.user_id') = ?",
        &user,
    )?;
    c.execute(
        "UPDATE saga_outbox SET payload = json_set(payload, '$.tickets', \
           (SELECT json_group_array(json_remove(value, '$.attendee')) FROM json_each(saga_outbox.payload, '$.tickets'))) \
         WHERE json_extract(payload, '$.user_id') = ? AND json_type(payload, '$.tickets') = 'array'",
        &user,
    )?;
    Ok(())
}
