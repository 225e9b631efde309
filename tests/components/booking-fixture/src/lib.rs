//! Stand-in for `events` and `payments` in booking's end-to-end tests
//! (`tests/e2e/src/booking.rs` deploys this one wasm under both component
//! ids in a test manifest). Never part of the app's `spin.toml`.
//!
//! | route | what |
//! |---|---|
//! | `PUT /fixture/events/:id` | store an inventory document (the events contract) and announce it as events does: `EventChanged {event_id, version, status}` through the saga outbox, relayed at once (its `version` is the body's, or one more than the last one stored) |
//! | `GET /api/events/:id/inventory` | serve it (404 when unknown) |
//! | `POST /fixture/payments/emit` `{"event_type","payload"}` | emit as `payments` through the saga outbox (`PaymentSucceeded`, `PaymentFailed`, `PaymentRefunded` or `EventCancelled`, the payload read as its `saga::contract` type: 422 when it does not fit), relay at once |
//! | `POST /fixture/payments/deliver` (an Event) | POST it straight to booking's saga route; `{"status","body"}` |
//! | `POST /fixture/payments/down` · `/up` | make `POST /api/payments/saga` answer 503 / 200 |
//! | `POST /api/payments/saga` | the subscriber: counts each delivered event id |
//! | `GET /fixture/payments/received` | `{"<event id>": {"type", "count"}}` |

use platform::web::Router;
use platform::{ApiError, ApiResult};
use spin_sdk::http::{Method, Params, Request, Response};
use spin_sdk::key_value::Store;

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.put("/fixture/events/:id", put_inventory);
    r.get("/api/events/:id/inventory", get_inventory);
    r.post("/fixture/payments/emit", emit);
    r.post("/fixture/payments/deliver", deliver);
    r.post("/fixture/payments/down", down);
    r.post("/fixture/payments/up", up);
    r.post("/api/payments/saga", receive);
    r.get("/fixture/payments/received", received);
    r
}

/// Entry point (wasm only).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> Response {
        platform::web::serve("booking-fixture", &router(), req)
    }
}

fn store() -> ApiResult<Store> {
    Ok(Store::open_default()?)
}

fn put_inventory(req: Request, p: Params) -> ApiResult {
    let id = p.get("id").unwrap_or_default().to_string();
    let mut doc: serde_json::Value = platform::web::read_json(&req)?;
    let s = store()?;
    let last = s
        .get(&format!("inv:{id}"))?
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["version"].as_i64())
        .unwrap_or(0);
    let version = doc["version"].as_i64().unwrap_or(last + 1);
    doc["version"] = serde_json::json!(version);
    s.set(&format!("inv:{id}"), &serde_json::to_vec(&doc).map_err(|e| ApiError::Internal(e.into()))?)?;
    let payload = saga::contract::EventChanged {
        event_id: id.clone(),
        version,
        status: platform::event_status::EventStatus::parse(doc["status"].as_str().unwrap_or_default())
            .ok_or_else(|| ApiError::field("status", "must be draft, published or cancelled"))?,
    };
    let conn = db()?;
    let event = platform::db::transaction(&conn, |c| Ok::<_, ApiError>(saga::emit(c, "events", &payload)?))?;
    saga::relay_events(&conn, std::slice::from_ref(&event));
    platform::web::no_content()
}

fn get_inventory(_: Request, p: Params) -> ApiResult {
    match store()?.get(&format!("inv:{}", p.get("id").unwrap_or_default()))? {
        Some(body) => Ok(Response::builder().status(200).header("content-type", "application/json").body(body).build()),
        None => Err(ApiError::NotFound("no such event".into())),
    }
}

fn db() -> ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(saga::open("default", &[])?)
}

fn emit(req: Request, _: Params) -> ApiResult {
    let body: serde_json::Value = platform::web::read_json(&req)?;
    let conn = db()?;
    let event_type = body["event_type"].as_str().unwrap_or_default().to_string();
    let event = platform::db::transaction(&conn, |c| {
        use saga::contract::*;
        match event_type.as_str() {
            saga::types::PAYMENT_SUCCEEDED => emit_as::<PaymentSucceeded>(c, &body["payload"]),
            saga::types::PAYMENT_FAILED => emit_as::<PaymentFailed>(c, &body["payload"]),
            saga::types::PAYMENT_REFUNDED => emit_as::<PaymentRefunded>(c, &body["payload"]),
            saga::types::EVENT_CANCELLED => emit_as::<EventCancelled>(c, &body["payload"]),
            other => Err(ApiError::field("event_type", format!("the fixture does not emit {other}"))),
        }
    })?;
    let report = saga::relay_events(&conn, std::slice::from_ref(&event));
    platform::web::ok(&serde_json::json!({"event": event, "relay": report}))
}

/// Emits `payload` read as contract `E` (422 when it does not fit).
fn emit_as<E: saga::Contract>(
    c: &spin_sdk::sqlite3::Connection,
    payload: &serde_json::Value,
) -> ApiResult<saga::Event> {
    let typed: E = platform::web::parse_json(payload.to_string().as_bytes())?;
    Ok(saga::emit(c, "payments", &typed)?)
}

fn deliver(req: Request, _: Params) -> ApiResult {
    let out = Request::builder()
        .method(Method::Post)
        .uri(format!("http://{}/api/bookings/saga", saga::chaining_host("booking")))
        .header("content-type", "application/json")
        .body(req.body().to_vec())
        .build();
    let resp: Response = platform::web::send(out).map_err(|e| ApiError::BadGateway(e.to_string()))?;
    let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap_or_default();
    platform::web::ok(&serde_json::json!({"status": resp.status(), "body": body}))
}

fn down(_: Request, _: Params) -> ApiResult {
    switch(true)
}

fn up(_: Request, _: Params) -> ApiResult {
    switch(false)
}

fn switch(down: bool) -> ApiResult {
    let s = store()?;
    if down {
        s.set("down", b"1")?;
    } else {
        s.delete("down")?;
    }
    platform::web::no_content()
}

fn receive(req: Request, _: Params) -> ApiResult {
    let s = store()?;
    if s.exists("down")? {
        return Err(ApiError::Unavailable("payments fixture is down".into()));
    }
    let event = saga::parse_event(&req)?;
    let key = format!("recv:{}", event.id);
    let count = s
        .get(&key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|t| t.split('|').next()?.parse::<u32>().ok())
        .unwrap_or(0);
    s.set(&key, format!("{}|{}", count + 1, event.event_type).as_bytes())?;
    platform::web::ok(&serde_json::json!({"ok": true}))
}

fn received(_: Request, _: Params) -> ApiResult {
    let s = store()?;
    let mut out = serde_json::Map::new();
    for key in s.get_keys()?.into_iter().filter(|k| k.starts_with("recv:")) {
        let v = String::from_utf8(s.get(&key)?.unwrap_or_default()).unwrap_or_default();
        let (count, kind) = v.split_once('|').unwrap_or(("0", ""));
        out.insert(key[5..].to_string(), serde_json::json!({"count": count.parse::<u32>().unwrap_or(0), "type": kind}));
    }
    platform::web::ok(&out)
}
