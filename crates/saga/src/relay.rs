//! Delivering events: the relay.
//!
//! Each due `saga_deliveries` row is first *leased* with one conditional
//! UPDATE (its `next_attempt_ms` moves [`LEASE_MS`] ahead), so two relays
//! running at once (a request and a tick) never send the same row at the
//! same moment; a relay that dies mid-send leaves the row due again after
//! the lease. Then the event is POSTed to
//! `http://<subscriber>.spin.internal<path>`:
//!
//! | answer | outcome |
//! |---|---|
//! | 2xx | `delivered` |
//! | 400, 415, 422 (the subscriber says the event is malformed: retrying cannot help) | dead letter now |
//! | anything else, or no answer (subscriber down, not deployed yet, busy) | retry after [`backoff_ms`]; dead letter after [`MAX_ATTEMPTS`] attempts |
//!
//! Delivery is at-least-once: a subscriber may see an event again (after a
//! lost answer or a requeue); [`crate::receive`] makes that harmless.
//!
//! Each delivery is sent, and logged, under the request id the event
//! carries ([`crate::Event::request_id`], [`platform::log::within`]): a
//! retry from a tick still reaches the subscriber as part of the request
//! that emitted the event.

use crate::Event;
use serde::Serialize;
use spin_sdk::sqlite3::{Connection, Value};

/// Attempts before a delivery is dead-lettered. With [`backoff_ms`] the
/// retries span about 57 min.
pub const MAX_ATTEMPTS: i64 = 15;
/// How long a relay owns a delivery it is sending, ms.
pub const LEASE_MS: i64 = 30_000;
/// Wall-clock budget of one relay pass, ms: no new delivery starts after
/// it (the rest stay due), so slow subscribers cannot hold a request or a
/// tick for long. Below [`LEASE_MS`].
pub const PASS_BUDGET_MS: i64 = 20_000;
/// Largest number of deliveries one `relay` call sends.
const BATCH: i64 = 50;

/// Delay before attempt `attempts + 1` after `attempts` failures, ms:
/// 1 s, 2 s, 4 s … doubling, capped at 10 min.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (1_000i64 << exp).min(600_000)
}

/// What one relay pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Deliveries sent and acknowledged with 2xx.
    pub delivered: u32,
    /// Deliveries that failed and are scheduled again.
    pub retried: u32,
    /// Deliveries moved to the dead-letter table.
    pub dead: u32,
    /// Deliveries still pending after this pass (due later).
    pub pending: u32,
}

impl RelayReport {
    fn add(&mut self, other: RelayReport) {
        self.delivered += other.delivered;
        self.retried += other.retried;
        self.dead += other.dead;
    }
}

const DUE: &str =
    "SELECT d.event_id AS event_id, d.subscriber AS subscriber, d.path AS path, d.next_attempt_ms AS next_ms \
     FROM saga_deliveries d WHERE d.status = 'pending' AND d.next_attempt_ms <= ? ORDER BY d.next_attempt_ms LIMIT ?";
const DUE_OF_EVENT: &str =
    "SELECT d.event_id AS event_id, d.subscriber AS subscriber, d.path AS path, d.next_attempt_ms AS next_ms \
     FROM saga_deliveries d WHERE d.status = 'pending' AND d.next_attempt_ms <= ? AND d.event_id = ?";
const LEASE: &str = "UPDATE saga_deliveries SET next_attempt_ms = ? \
     WHERE event_id = ? AND subscriber = ? AND status = 'pending' AND next_attempt_ms = ? RETURNING attempts";
/// The outbox columns of an [`Event`] ([`event_of`]).
const EVENT_COLUMNS: &str = "id, event_type, version, occurred_at, producer, payload, request_id";
const MARK_DELIVERED: &str =
    "UPDATE saga_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_ms = ?, last_error = NULL WHERE event_id = ? AND subscriber = ? AND status = 'pending'";
const MARK_RETRY: &str =
    "UPDATE saga_deliveries SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE event_id = ? AND subscriber = ? AND status = 'pending'";
const MARK_DEAD: &str =
    "UPDATE saga_deliveries SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE event_id = ? AND subscriber = ? AND status = 'pending' RETURNING attempts, path";
const INSERT_DEAD: &str = "INSERT INTO saga_dead_letters (event_id, subscriber, path, event_type, attempts, last_error, dead_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id, subscriber) DO UPDATE SET attempts = excluded.attempts, last_error = excluded.last_error, dead_ms = excluded.dead_ms";
const COUNT_PENDING: &str = "SELECT COUNT(*) AS n FROM saga_deliveries WHERE status = 'pending'";

struct Due {
    event_id: String,
    subscriber: String,
    path: String,
    next_ms: i64,
}

fn due_rows(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Due>, spin_sdk::sqlite3::Error> {
    let result = conn.execute(sql, params)?;
    Ok(result
        .rows()
        .filter_map(|r| {
            Some(Due {
                event_id: r.get::<&str>("event_id")?.to_string(),
                subscriber: r.get::<&str>("subscriber")?.to_string(),
                path: r.get::<&str>("path")?.to_string(),
                next_ms: r.get::<i64>("next_ms")?,
            })
        })
        .collect())
}

/// Sends every due delivery (up to a batch of 50); used by tick routes and
/// after consuming an event. Never fails: database errors are logged and
/// the rows stay pending for the next pass.
pub fn relay(conn: &Connection) -> RelayReport {
    let now = platform::clock::now_ms();
    let mut report = match due_rows(conn, DUE, &[Value::Integer(now), Value::Integer(BATCH)]) {
        Ok(rows) => send_all(conn, rows),
        Err(e) => {
            platform::log::error!("saga relay: cannot read due deliveries: {e:?}");
            RelayReport::default()
        }
    };
    report.pending = count_pending(conn);
    report
}

/// The first delivery attempt of `events`, right after the transaction
/// that emitted them committed. Only these events' deliveries are sent, so
/// concurrent requests do not contend for each other's rows.
pub fn relay_events(conn: &Connection, events: &[Event]) -> RelayReport {
    let now = platform::clock::now_ms();
    let mut report = RelayReport::default();
    for event in events {
        match due_rows(conn, DUE_OF_EVENT, &[Value::Integer(now), Value::Text(event.id.clone())]) {
            Ok(rows) => report.add(send_all(conn, rows)),
            Err(e) => platform::log::error!("saga relay: cannot read deliveries of {}: {e:?}", event.id),
        }
    }
    report
}

fn count_pending(conn: &Connection) -> u32 {
    conn.execute(COUNT_PENDING, &[]).ok().and_then(|r| r.rows().next().and_then(|row| row.get::<i64>("n"))).unwrap_or(0)
        as u32
}

fn send_all(conn: &Connection, rows: Vec<Due>) -> RelayReport {
    let mut report = RelayReport::default();
    let started = platform::clock::now_ms();
    for row in rows {
        if platform::clock::now_ms() - started > PASS_BUDGET_MS {
            platform::log::warn!("saga relay: pass budget spent; the remaining deliveries wait for the next pass");
            break;
        }
        match send_one(conn, &row) {
            Ok(Outcome::Delivered) => report.delivered += 1,
            Ok(Outcome::Retry) => report.retried += 1,
            Ok(Outcome::Dead) => report.dead += 1,
            Ok(Outcome::Skipped) => {}
            Err(e) => platform::log::error!(
                "saga relay: delivery {} → {} failed to record: {e:?}",
                row.event_id,
                row.subscriber
            ),
        }
    }
    report
}

enum Outcome {
    Delivered,
    Retry,
    Dead,
    Skipped,
}

fn send_one(conn: &Connection, row: &Due) -> Result<Outcome, spin_sdk::sqlite3::Error> {
    let now = platform::clock::now_ms();
    let leased = conn.execute(
        LEASE,
        &[
            Value::Integer(now + LEASE_MS),
            Value::Text(row.event_id.clone()),
            Value::Text(row.subscriber.clone()),
            Value::Integer(row.next_ms),
        ],
    )?;
    let Some(attempts) = leased.rows().next().and_then(|r| r.get::<i64>("attempts")) else {
        return Ok(Outcome::Skipped); // another relay owns it
    };
    let Some(event) = load_event(conn, &row.event_id)? else {
        return Ok(Outcome::Skipped);
    };
    platform::log::within(event.request_id.as_deref(), || deliver(conn, row, attempts, &event))
}

/// Sends leased delivery `row` (after `attempts` failed ones) of `event`
/// and records the outcome.
fn deliver(conn: &Connection, row: &Due, attempts: i64, event: &Event) -> Result<Outcome, spin_sdk::sqlite3::Error> {
    let authority = crate::subscribers::chaining_host(&row.subscriber);
    let url = format!("http://{authority}{}", row.path);
    let body = serde_json::to_vec(event).unwrap_or_default();
    let verdict = match post(&authority, &row.path, body) {
        Ok(status) if (200..300).contains(&status) => Verdict::Ok,
        Ok(status @ (400 | 415 | 422)) => Verdict::Poison(format!("{url} refused the event with {status}")),
        Ok(status) => Verdict::Failed(format!("{url} answered {status}")),
        Err(e) => Verdict::Failed(format!("{url}: {e}")),
    };
    let key = [Value::Text(row.event_id.clone()), Value::Text(row.subscriber.clone())];
    match verdict {
        Verdict::Ok => {
            conn.execute(MARK_DELIVERED, &[Value::Integer(platform::clock::now_ms()), key[0].clone(), key[1].clone()])?;
            Ok(Outcome::Delivered)
        }
        Verdict::Failed(err) if attempts + 1 < MAX_ATTEMPTS => {
            let msg = format!(
                "saga relay: attempt {} of {} {} → {} failed, retried later: {err}",
                attempts + 1,
                event.event_type,
                event.id,
                row.subscriber
            );
            log_delivery(platform::log::Level::Warn, &msg, event, row, attempts + 1);
            let next = platform::clock::now_ms() + backoff_ms(attempts + 1);
            conn.execute(MARK_RETRY, &[Value::Integer(next), Value::Text(err), key[0].clone(), key[1].clone()])?;
            Ok(Outcome::Retry)
        }
        Verdict::Failed(err) | Verdict::Poison(err) => {
            let msg = format!("saga relay: dead letter {} {} → {}: {err}", event.event_type, event.id, row.subscriber);
            log_delivery(platform::log::Level::Error, &msg, event, row, attempts + 1);
            platform::db::transaction(conn, |c| {
                let marked = c.execute(MARK_DEAD, &[Value::Text(err.clone()), key[0].clone(), key[1].clone()])?;
                if let Some(r) = marked.rows().next() {
                    c.execute(
                        INSERT_DEAD,
                        &[
                            key[0].clone(),
                            key[1].clone(),
                            Value::Text(r.get::<&str>("path").unwrap_or_default().to_string()),
                            Value::Text(event.event_type.clone()),
                            Value::Integer(r.get::<i64>("attempts").unwrap_or(attempts + 1)),
                            Value::Text(err.clone()),
                            Value::Integer(platform::clock::now_ms()),
                        ],
                    )?;
                }
                Ok::<_, spin_sdk::sqlite3::Error>(())
            })?;
            Ok(Outcome::Dead)
        }
    }
}

/// A line about `attempt` of delivery `row` of `event`, with members
/// `event_id`, `event_type`, `subscriber`, `attempt`.
fn log_delivery(level: platform::log::Level, msg: &str, event: &Event, row: &Due, attempt: i64) {
    platform::log::line(
        level,
        msg,
        &[
            ("event_id", event.id.as_str().into()),
            ("event_type", event.event_type.as_str().into()),
            ("subscriber", row.subscriber.as_str().into()),
            ("attempt", attempt.into()),
        ],
    );
}

enum Verdict {
    Ok,
    Failed(String),
    Poison(String),
}

pub(crate) fn load_event(conn: &Connection, id: &str) -> Result<Option<Event>, spin_sdk::sqlite3::Error> {
    let result =
        conn.execute(&format!("SELECT {EVENT_COLUMNS} FROM saga_outbox WHERE id = ?"), &[Value::Text(id.to_string())])?;
    let event = result.rows().next().and_then(|r| event_of(&r));
    Ok(event)
}

/// The outbox events whose rowid is above `rowid`, oldest first: inside a
/// write transaction, the events emitted since `rowid` was read.
pub(crate) fn emitted_after(conn: &Connection, rowid: i64) -> Result<Vec<Event>, spin_sdk::sqlite3::Error> {
    let result = conn.execute(
        &format!("SELECT {EVENT_COLUMNS} FROM saga_outbox WHERE rowid > ? ORDER BY rowid"),
        &[Value::Integer(rowid)],
    )?;
    let events = result.rows().filter_map(|r| event_of(&r)).collect();
    Ok(events)
}

fn event_of(r: &spin_sdk::sqlite3::Row) -> Option<Event> {
    Some(Event {
        id: r.get::<&str>("id")?.to_string(),
        event_type: r.get::<&str>("event_type")?.to_string(),
        version: r.get::<i64>("version")? as u32,
        occurred_at: r.get::<&str>("occurred_at")?.to_string(),
        producer: r.get::<&str>("producer")?.to_string(),
        request_id: r.get::<&str>("request_id").map(str::to_string),
        payload: serde_json::from_str(r.get::<&str>("payload")?).ok()?,
    })
}

/// Connect timeout of one delivery.
pub const CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Longest wait for the subscriber's answer to start, and between two
/// chunks of it.
pub const ANSWER_TIMEOUT_MS: u64 = 10_000;

/// POSTs `body` as JSON to `http://<authority><path>` with the current
/// request id as `x-request-id` ([`platform::log::request_id`]: the
/// event's own, see [`send_one`]) and returns the status code.
///
/// `spin_sdk::http::send` passes no `request-options`, so deliveries go
/// through the `wasi:http/outgoing-handler` bindings directly with
/// [`CONNECT_TIMEOUT_MS`] and [`ANSWER_TIMEOUT_MS`] (connect, first byte,
/// between bytes). Hosts apply these to network requests; a host may
/// ignore them for in-process service chaining (the local runner does), so
/// a relay pass also has a wall-clock budget ([`PASS_BUDGET_MS`]), and a
/// delivery stuck past its lease is simply due again.
fn post(authority: &str, path: &str, body: Vec<u8>) -> Result<u16, String> {
    use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types as wh};
    let fail = |what: &str, e: &dyn std::fmt::Debug| format!("{what}: {e:?}");
    let mut list = vec![
        ("content-type".to_string(), b"application/json".to_vec()),
        ("x-saga-delivery".to_string(), b"1".to_vec()),
    ];
    if let Some(id) = platform::log::request_id() {
        list.push((platform::log::REQUEST_ID_HEADER.to_string(), id.into_bytes()));
    }
    let headers = wh::Fields::from_list(&list).map_err(|e| fail("headers", &e))?;
    let req = wh::OutgoingRequest::new(headers);
    req.set_method(&wh::Method::Post).map_err(|e| fail("method", &e))?;
    req.set_scheme(Some(&wh::Scheme::Http)).map_err(|e| fail("scheme", &e))?;
    req.set_authority(Some(authority)).map_err(|e| fail("authority", &e))?;
    req.set_path_with_query(Some(path)).map_err(|e| fail("path", &e))?;
    let out = req.body().map_err(|e| fail("body", &e))?;
    let options = wh::RequestOptions::new();
    // a host that does not support one of them says so; the others still apply
    let ms = |v: u64| Some(v * 1_000_000);
    let _ = options.set_connect_timeout(ms(CONNECT_TIMEOUT_MS));
    let _ = options.set_first_byte_timeout(ms(ANSWER_TIMEOUT_MS));
    let _ = options.set_between_bytes_timeout(ms(ANSWER_TIMEOUT_MS));
    let pending = outgoing_handler::handle(req, Some(options)).map_err(|e| fail("send", &e))?;
    {
        let stream = out.write().map_err(|e| fail("body stream", &e))?;
        for chunk in body.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| fail("body write", &e))?;
        }
    }
    wh::OutgoingBody::finish(out, None).map_err(|e| fail("body finish", &e))?;
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(resp))) => {
            let status = resp.status();
            // read the (short) answer to its end, so the subscriber's response completes
            if let Ok(body) = resp.consume() {
                if let Ok(stream) = body.stream() {
                    let mut read = 0;
                    while read < 64 * 1024 {
                        match stream.blocking_read(16 * 1024) {
                            Ok(chunk) => read += chunk.len(),
                            Err(_) => break, // closed: all read
                        }
                    }
                }
            }
            Ok(status)
        }
        Some(Ok(Err(code))) => Err(fail("no answer", &code)),
        other => Err(fail("no answer", &other.map(|r| r.map(|_| ())))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(2), 2_000);
        assert_eq!(backoff_ms(5), 16_000);
        assert_eq!(backoff_ms(11), 600_000);
        assert_eq!(backoff_ms(1_000), 600_000);
        assert_eq!(backoff_ms(0), 1_000);
        let total: i64 = (1..MAX_ATTEMPTS).map(backoff_ms).sum();
        assert!(total > 50 * 60_000 && total < 3 * 3_600_000, "retries span {total} ms");
    }
}
