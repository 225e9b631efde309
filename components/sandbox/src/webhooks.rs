//! Signed webhook deliveries back to the app, Stripe style: an event
//! envelope `{id, object:"event", type, created, data:{object}}` POSTed to
//! `payments` over service chaining with
//! `Stripe-Signature: t=<secs>,v1=<HMAC-SHA256 hex>` under
//! `payment_webhook_secret`. Delivery follows the mode set through
//! [`crate::faults`].
//!
//! Like a real provider (Stripe answers the API call, then sends its events
//! asynchronously), [`emit`] only records the event and queues its delivery
//! in `sb_webhook_queue`; the component entry point sends the queue with
//! [`deliver_queued`] after its own response went out, so the API answer
//! never waits for the webhook receiver (and whatever work that triggers).
//!
//! Deliveries send no `x-request-id`: a provider's webhook is the
//! provider's own request (Stripe's carry none of ours), so `payments`
//! serves it under an id of its own, as it will in production.

use platform::ApiResult;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Method, Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

/// Where webhooks go (the `payments` component, by service chaining).
pub const TARGET: &str = "http://payments.spin.internal/api/payments/webhook";
/// Development default of `payment_webhook_secret` (as in `payments`).
pub const DEFAULT_SECRET: &str = "whsec_boxoffice_development_only";

fn secret() -> String {
    platform::config::get_or("payment_webhook_secret", DEFAULT_SECRET)
}

/// Records an event of `event_type` about `object`; returns its id.
fn record(conn: &Connection, event_type: &str, object: &Json, created_s: i64) -> ApiResult<String> {
    let id = platform::ids::new("evt");
    let body = serde_json::to_vec(&json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": created_s,
        "type": event_type, "livemode": false, "data": {"object": object},
    }))
    .map_err(anyhow::Error::from)?;
    conn.execute(
        "INSERT INTO sb_webhooks (id, event_type, object_id, body, created_ms) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::Text(id.clone()),
            Value::Text(event_type.into()),
            Value::Text(object["id"].as_str().unwrap_or_default().into()),
            Value::Text(String::from_utf8_lossy(&body).into_owned()),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(id)
}

fn request(body: &[u8]) -> Request {
    let sig = webhook_signature::header(secret().as_bytes(), platform::clock::now_secs(), body);
    Request::builder()
        .method(Method::Post)
        .uri(TARGET)
        .header("content-type", "application/json")
        .header("stripe-signature", sig)
        .body(body.to_vec())
        .build()
}

fn note(conn: &Connection, id: &str, status: Option<u16>) {
    let status = status.map(|s| Value::Integer(s.into())).unwrap_or(Value::Null);
    if let Err(e) = conn.execute(
        "UPDATE sb_webhooks SET deliveries = deliveries + 1, last_status = ? WHERE id = ?",
        &[status, Value::Text(id.into())],
    ) {
        platform::log::warn!("sandbox: delivery of webhook {id} not counted: {e:?}");
    }
}

/// Sends `body` `copies` times, in a row or all at once.
fn send(conn: &Connection, id: &str, body: &[u8], copies: usize, at_once: bool) {
    if at_once {
        let futures = (0..copies).map(|_| spin_sdk::http::send::<_, Response>(request(body)));
        for r in spin_sdk::http::run(futures::future::join_all(futures)) {
            note(conn, id, r.ok().map(|r| *r.status()));
        }
    } else {
        for _ in 0..copies {
            let r = spin_sdk::http::run(spin_sdk::http::send::<_, Response>(request(body)));
            if let Err(e) = &r {
                platform::log::warn!("webhook {id}: {e}");
            }
            note(conn, id, r.ok().map(|r| *r.status()));
        }
    }
}

const ENQUEUE: &str = "INSERT INTO sb_webhook_queue (event_id, copies, at_once, created_ms) VALUES (?, ?, ?, ?)";
/// How long a claimed delivery may stay unsent before another instance may
/// take it (its instance died), ms.
pub const STALE_CLAIM_MS: i64 = 60_000;
const CLAIM: &str = "UPDATE sb_webhook_queue SET claimed_ms = ?1 WHERE seq = \
     (SELECT seq FROM sb_webhook_queue WHERE claimed_ms IS NULL OR claimed_ms < ?1 - ?2 ORDER BY seq LIMIT 1) \
     RETURNING seq, event_id, copies, at_once";
const BODY: &str = "SELECT body FROM sb_webhooks WHERE id = ?";
const SENT: &str = "DELETE FROM sb_webhook_queue WHERE seq = ?";

fn enqueue(conn: &Connection, event_id: &str, copies: i64, at_once: bool) -> ApiResult<()> {
    conn.execute(
        ENQUEUE,
        &[
            Value::Text(event_id.into()),
            Value::Integer(copies),
            Value::Integer(at_once.into()),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(())
}

/// Makes the event `event_type` about `object` and queues its delivery
/// according to the webhook mode (`none`: recorded, never sent). Nothing is
/// sent here: see [`deliver_queued`].
pub fn emit(conn: &Connection, event_type: &str, object: &Json) -> ApiResult<()> {
    let now = platform::clock::now_secs();
    let id = record(conn, event_type, object, now)?;
    match crate::faults::webhook_mode(conn).as_str() {
        "none" => {}
        "duplicate" => enqueue(conn, &id, 3, false)?,
        "concurrent" => enqueue(conn, &id, 3, true)?,
        "out_of_order" => {
            enqueue(conn, &id, 1, false)?;
            if event_type == "payment_intent.succeeded" {
                // Stale news arriving late: earlier states of the same intent.
                let mut processing = object.clone();
                processing["status"] = json!("processing");
                let pid = record(conn, "payment_intent.processing", &processing, now - 5)?;
                enqueue(conn, &pid, 1, false)?;
                let mut failed = object.clone();
                failed["status"] = json!("requires_payment_method");
                failed["last_payment_error"] = json!({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "stale"});
                let fid = record(conn, "payment_intent.payment_failed", &failed, now - 10)?;
                enqueue(conn, &fid, 1, false)?;
            }
        }
        _ => enqueue(conn, &id, 1, false)?,
    }
    Ok(())
}

/// Sends queued deliveries, oldest first, at most `limit` of them (claimed
/// one at a time with a conditional write, so concurrent instances never
/// send the same queued delivery twice); returns how many were sent.
/// Called after the response went out; best effort (a failed delivery is
/// noted on the event with its status, as a provider's dashboard would).
pub fn deliver_queued(conn: &Connection, limit: usize) -> usize {
    let mut sent = 0;
    while sent < limit {
        let now = platform::clock::now_ms();
        let claimed = match conn.execute(CLAIM, &[Value::Integer(now), Value::Integer(STALE_CLAIM_MS)]) {
            Ok(r) => r,
            Err(e) => {
                platform::log::error!("webhook queue not read: {e}");
                break;
            }
        };
        let Some(row) = claimed.rows().next().map(|r| {
            (
                r.get::<i64>("seq").unwrap_or(0),
                r.get::<&str>("event_id").unwrap_or_default().to_string(),
                r.get::<i64>("copies").unwrap_or(1).clamp(1, 3) as usize,
                r.get::<i64>("at_once").unwrap_or(0) != 0,
            )
        }) else {
            break;
        };
        let (seq, id, copies, at_once) = row;
        let body = conn
            .execute(BODY, &[Value::Text(id.clone())])
            .ok()
            .and_then(|r| r.rows().next().and_then(|b| b.get::<&str>("body").map(|s| s.as_bytes().to_vec())));
        if let Some(body) = body {
            send(conn, &id, &body, copies, at_once);
        }
        if let Err(e) = conn.execute(SENT, &[Value::Integer(seq)]) {
            platform::log::warn!("sandbox: webhook {seq} not marked sent (sent again next time): {e:?}");
        }
        sent += 1;
    }
    sent
}

/// `GET /sandbox/payments/admin/webhooks[?object=pi_…]`: events made, newest
/// last, with their raw bodies (tests replay them) and `queued` (a delivery
/// is still waiting to be sent).
pub fn list(req: Request, _: Params) -> ApiResult<Response> {
    let q = platform::web::Query::of(&req);
    let conn = crate::store::open()?;
    let rows = match q.get("object") {
        Some(o) => conn.execute(
            "SELECT w.*, (SELECT COUNT(*) FROM sb_webhook_queue q WHERE q.event_id = w.id) AS queued \
             FROM sb_webhooks w WHERE object_id = ? ORDER BY created_ms, id",
            &[Value::Text(o.into())],
        )?,
        None => conn.execute(
            "SELECT w.*, (SELECT COUNT(*) FROM sb_webhook_queue q WHERE q.event_id = w.id) AS queued \
             FROM sb_webhooks w ORDER BY created_ms DESC, id DESC LIMIT 100",
            &[],
        )?,
    };
    let items: Vec<Json> = rows
        .rows()
        .map(|r| {
            json!({
                "id": r.get::<&str>("id"), "type": r.get::<&str>("event_type"), "object_id": r.get::<&str>("object_id"),
                "body": r.get::<&str>("body"), "deliveries": r.get::<i64>("deliveries"), "last_status": r.get::<i64>("last_status"),
                "queued": r.get::<i64>("queued").unwrap_or(0) > 0,
            })
        })
        .collect();
    platform::web::ok(&json!({"items": items}))
}
