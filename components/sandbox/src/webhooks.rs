//! Signed webhook deliveries back to the app, Stripe style: an event
//! envelope `{id, object:"event", type, created, data:{object}}` POSTed to
//! `payments` over service chaining with
//! `Stripe-Signature: t=<secs>,v1=<HMAC-SHA256 hex>` under
//! `payment_webhook_secret`. Delivery follows the mode set through
//! [`crate::faults`]. Sending happens after the state change committed.

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

/// Records an event of `event_type` about `object` (returns its raw body).
fn record(conn: &Connection, event_type: &str, object: &Json, created_s: i64) -> ApiResult<(String, Vec<u8>)> {
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
    Ok((id, body))
}

fn request(body: &[u8]) -> Request {
    let sig = crate::signature::header(secret().as_bytes(), platform::clock::now_secs(), body);
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
    let _ = conn.execute(
        "UPDATE sb_webhooks SET deliveries = deliveries + 1, last_status = ? WHERE id = ?",
        &[status, Value::Text(id.into())],
    );
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
                eprintln!("webhook {id}: {e}");
            }
            note(conn, id, r.ok().map(|r| *r.status()));
        }
    }
}

/// Makes and delivers the event `event_type` about `object` according to
/// the webhook mode.
pub fn emit(conn: &Connection, event_type: &str, object: &Json) -> ApiResult<()> {
    let now = platform::clock::now_secs();
    let (id, body) = record(conn, event_type, object, now)?;
    match crate::faults::webhook_mode(conn).as_str() {
        "none" => {}
        "duplicate" => send(conn, &id, &body, 3, false),
        "concurrent" => send(conn, &id, &body, 3, true),
        "out_of_order" => {
            send(conn, &id, &body, 1, false);
            if event_type == "payment_intent.succeeded" {
                // Stale news arriving late: earlier states of the same intent.
                let mut processing = object.clone();
                processing["status"] = json!("processing");
                let (pid, pbody) = record(conn, "payment_intent.processing", &processing, now - 5)?;
                send(conn, &pid, &pbody, 1, false);
                let mut failed = object.clone();
                failed["status"] = json!("requires_payment_method");
                failed["last_payment_error"] =
                    json!({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "stale"});
                let (fid, fbody) = record(conn, "payment_intent.payment_failed", &failed, now - 10)?;
                send(conn, &fid, &fbody, 1, false);
            }
        }
        _ => send(conn, &id, &body, 1, false),
    }
    Ok(())
}

/// `GET /sandbox/payments/admin/webhooks[?object=pi_…]`: events made, newest
/// last, with their raw bodies (tests replay them).
pub fn list(req: Request, _: Params) -> ApiResult<Response> {
    let q = platform::web::Query::of(&req);
    let conn = crate::db()?;
    let rows = match q.get("object") {
        Some(o) => conn.execute(
            "SELECT * FROM sb_webhooks WHERE object_id = ? ORDER BY created_ms, id",
            &[Value::Text(o.into())],
        )?,
        None => conn.execute("SELECT * FROM sb_webhooks ORDER BY created_ms DESC, id DESC LIMIT 100", &[])?,
    };
    let items: Vec<Json> = rows
        .rows()
        .map(|r| {
            json!({
                "id": r.get::<&str>("id"), "type": r.get::<&str>("event_type"), "object_id": r.get::<&str>("object_id"),
                "body": r.get::<&str>("body"), "deliveries": r.get::<i64>("deliveries"), "last_status": r.get::<i64>("last_status"),
            })
        })
        .collect();
    platform::web::ok(&json!({"items": items}))
}

/// `POST /sandbox/payments/admin/saga` `{event_type, payload, id?, producer?, to?}`:
/// wraps the payload in a saga envelope and delivers it to the chained-only
/// saga route of `to` (`payments`, the default, `tickets` or
/// `notifications`) — the test stand-in for a producer. Answers with the
/// subscriber's status and body.
pub fn deliver_saga(req: Request, _: Params) -> ApiResult<Response> {
    let body: Json = platform::web::read_json(&req)?;
    let Some(event_type) = body["event_type"].as_str() else {
        return Err(platform::ApiError::field("event_type", "required"));
    };
    let envelope = json!({
        "id": body["id"].as_str().map(str::to_string).unwrap_or_else(|| platform::ids::new("msg")),
        "event_type": event_type,
        "version": 1,
        "occurred_at": platform::clock::rfc3339(platform::clock::now_ms()),
        "producer": body["producer"].as_str().unwrap_or("booking"),
        "payload": body["payload"],
    });
    let to = body["to"].as_str().unwrap_or("payments");
    if !["payments", "tickets", "notifications"].contains(&to) {
        return Err(platform::ApiError::field("to", "one of payments, tickets, notifications"));
    }
    let out = Request::builder()
        .method(Method::Post)
        .uri(format!("http://{to}.spin.internal/api/{to}/saga"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&envelope).map_err(anyhow::Error::from)?)
        .build();
    let resp: Response = spin_sdk::http::run(spin_sdk::http::send(out))
        .map_err(|e| platform::ApiError::BadGateway(format!("{to} did not answer: {e}")))?;
    let answer: Json = serde_json::from_slice(resp.body()).unwrap_or(Json::Null);
    platform::web::ok(&json!({"status": *resp.status(), "body": answer}))
}
