//! Stand-in saga producer for the end-to-end tests. The harness
//! (`tests/e2e/src/lib.rs`) adds this component to its copy of `spin.toml`
//! on the public route `/test/saga`; the app's own manifest never has it,
//! so in a deployed app nothing outside reaches a saga inbox.
//!
//! `POST /test/saga` `{"to", "event_type", "payload", "id"?, "producer"?}`
//! wraps `payload` in a saga envelope (version 1, `occurred_at` now, `id` a
//! fresh `msg_…` unless given, `producer` default `booking`) and POSTs it to
//! `to`'s saga route on its private component
//! (`http://<to>-internal.spin.internal/api/<prefix>/saga`, see
//! `saga::chaining_host`). Answers `200 {"status": <the inbox's status>,
//! "body": <its JSON body or null>}`; 422 for an unknown `to` or a missing
//! `event_type`; 502 when the inbox did not answer.

use platform::web::Router;
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Method, Params, Request, Response};

/// The route table.
pub fn router() -> Router {
    let mut r = Router::new();
    r.post("/test/saga", deliver);
    r
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> Response {
        platform::web::serve("saga-injector", &router(), req)
    }
}

fn deliver(req: Request, _: Params) -> ApiResult {
    let body: Json = platform::web::read_json(&req)?;
    let Some(event_type) = body["event_type"].as_str() else {
        return Err(ApiError::field("event_type", "required"));
    };
    let to = body["to"].as_str().unwrap_or("payments");
    let Some(path) = saga::saga_path(to) else {
        return Err(ApiError::field("to", "a service that subscribes to saga events"));
    };
    let envelope = json!({
        "id": body["id"].as_str().map(str::to_string).unwrap_or_else(|| platform::ids::new("msg")),
        "event_type": event_type,
        "version": 1,
        "occurred_at": platform::clock::rfc3339(platform::clock::now_ms()),
        "producer": body["producer"].as_str().unwrap_or("booking"),
        "payload": body["payload"],
    });
    let out = Request::builder()
        .method(Method::Post)
        .uri(format!("http://{}{path}", saga::chaining_host(to)))
        .header("content-type", "application/json")
        .body(envelope.to_string().into_bytes())
        .build();
    let resp: Response =
        platform::web::send(out).map_err(|e| ApiError::BadGateway(format!("{to} did not answer: {e}")))?;
    let answer: Json = serde_json::from_slice(resp.body()).unwrap_or(Json::Null);
    platform::web::ok(&json!({"status": *resp.status(), "body": answer}))
}
