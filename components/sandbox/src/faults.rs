//! Failure injection for tests (sandbox only).
//!
//! `PUT /sandbox/payments/admin/faults` with
//! `{"op":"confirm","mode":"timeout","count":1,"latency_ms":6000,"webhooks":"duplicate"}`
//! (every member optional):
//!
//! * `op`: which API call misbehaves — `create`, `confirm`, `retrieve`,
//!   `cancel`, `refund` or `any` (default `any`).
//! * `mode`: `latency` (wait `latency_ms`, then work normally), `timeout`
//!   (wait `latency_ms`, default 6000, then 504 without doing anything),
//!   `error` (500, nothing done), `malformed` (200 with a non-JSON body,
//!   nothing done), `redirect` (307 to `https://evil.example`, nothing
//!   done), `throttle` (`status` 429 — the default — or 503 with a
//!   `Retry-After` of `retry_after_secs`, default 1, nothing done: a
//!   rate-limited or overloaded provider; `retry_after_form` `seconds`,
//!   the default, writes it as delay-seconds, `http_date` as the HTTP-date
//!   that far ahead, RFC 9110 §10.2.3), `none` (clear).
//! * `count`: how many calls (default 1).
//! * `webhooks`: how webhooks are delivered from now on — `normal` (once),
//!   `none` (recorded, not sent), `duplicate` (three times in a row),
//!   `concurrent` (three copies at once), `out_of_order` (the real event,
//!   then stale earlier-state events for the same intent).

use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    op: Option<String>,
    mode: Option<String>,
    count: Option<u32>,
    latency_ms: Option<u32>,
    webhooks: Option<String>,
    status: Option<u16>,
    retry_after_secs: Option<u32>,
    retry_after_form: Option<String>,
}

const OPS: [&str; 6] = ["create", "confirm", "retrieve", "cancel", "refund", "any"];
const MODES: [&str; 7] = ["latency", "timeout", "error", "malformed", "redirect", "throttle", "none"];
const RETRY_AFTER_FORMS: [&str; 2] = ["seconds", "http_date"];
/// Webhook delivery modes.
pub const WEBHOOK_MODES: [&str; 5] = ["normal", "none", "duplicate", "concurrent", "out_of_order"];

/// `PUT /sandbox/payments/admin/faults`.
pub fn set(req: Request, _: Params) -> ApiResult<Response> {
    let body: FaultRequest = platform::web::read_json(&req)?;
    let conn = crate::store::open()?;
    let op = body.op.unwrap_or_else(|| "any".into());
    if !OPS.contains(&op.as_str()) {
        return Err(ApiError::field("op", format!("one of {OPS:?}")));
    }
    if let Some(mode) = body.mode {
        if !MODES.contains(&mode.as_str()) {
            return Err(ApiError::field("mode", format!("one of {MODES:?}")));
        }
        let latency = body.latency_ms.unwrap_or(if mode == "timeout" { 6_000 } else { 0 }).min(30_000);
        let count = if mode == "none" { 0 } else { body.count.unwrap_or(1) };
        let status = body.status.unwrap_or(429);
        if ![429, 503].contains(&status) {
            return Err(ApiError::field("status", "429 or 503"));
        }
        let form = body.retry_after_form.unwrap_or_else(|| "seconds".into());
        if !RETRY_AFTER_FORMS.contains(&form.as_str()) {
            return Err(ApiError::field("retry_after_form", format!("one of {RETRY_AFTER_FORMS:?}")));
        }
        let retry_after = body.retry_after_secs.unwrap_or(1).min(86_400);
        conn.execute(
            "INSERT INTO sb_faults (op, mode, remaining, latency_ms, status, retry_after_secs, retry_after_form) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (op) DO UPDATE SET mode = excluded.mode, remaining = excluded.remaining, latency_ms = excluded.latency_ms, \
             status = excluded.status, retry_after_secs = excluded.retry_after_secs, retry_after_form = excluded.retry_after_form",
            &[
                Value::Text(op.clone()),
                Value::Text(mode),
                Value::Integer(count.into()),
                Value::Integer(latency.into()),
                Value::Integer(status.into()),
                Value::Integer(retry_after.into()),
                Value::Text(form),
            ],
        )?;
    }
    if let Some(w) = body.webhooks {
        if !WEBHOOK_MODES.contains(&w.as_str()) {
            return Err(ApiError::field("webhooks", format!("one of {WEBHOOK_MODES:?}")));
        }
        conn.execute(
            "INSERT INTO sb_settings (name, value) VALUES ('webhooks', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[Value::Text(w)],
        )?;
    }
    platform::web::ok(&serde_json::json!({"ok": true}))
}

/// An injected misbehaviour for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// One of the modes above.
    pub mode: String,
    /// Delay before answering, ms.
    pub latency_ms: i64,
    /// `throttle`: the status answered (429 or 503).
    pub status: u16,
    /// `throttle`: the `Retry-After` asked for, seconds.
    pub retry_after_secs: i64,
    /// `throttle`: `Retry-After` as an HTTP-date rather than delay-seconds.
    pub http_date: bool,
}

/// Takes one pending fault for `op` (or `any`), if any (one conditional write).
pub fn take(conn: &Connection, op: &str) -> ApiResult<Option<Fault>> {
    let taken = conn.execute(
        "UPDATE sb_faults SET remaining = remaining - 1 WHERE rowid = \
         (SELECT rowid FROM sb_faults WHERE op IN (?, 'any') AND remaining > 0 ORDER BY op = 'any' LIMIT 1) \
         RETURNING mode, latency_ms, status, retry_after_secs, retry_after_form",
        &[Value::Text(op.into())],
    )?;
    let fault = taken.rows().next().map(|r| Fault {
        mode: r.get::<&str>("mode").unwrap_or("none").to_string(),
        latency_ms: r.get::<i64>("latency_ms").unwrap_or(0),
        status: r.get::<i64>("status").and_then(|s| u16::try_from(s).ok()).unwrap_or(429),
        retry_after_secs: r.get::<i64>("retry_after_secs").unwrap_or(1),
        http_date: r.get::<&str>("retry_after_form") == Some("http_date"),
    });
    Ok(fault)
}

/// Applies `fault`: sleeps, then either lets the call proceed (`None`) or
/// returns the broken answer.
pub fn answer(fault: &Fault, path: &str) -> Option<Response> {
    if fault.latency_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(fault.latency_ms as u64));
    }
    let resp = |status: u16, ct: &str, body: &str| {
        Response::builder().status(status).header("content-type", ct).body(body.as_bytes().to_vec()).build()
    };
    match fault.mode.as_str() {
        "timeout" => {
            Some(resp(504, "application/json", r#"{"error":{"type":"api_error","message":"injected timeout"}}"#))
        }
        "error" => {
            Some(resp(500, "application/json", r#"{"error":{"type":"api_error","message":"injected failure"}}"#))
        }
        "malformed" => Some(resp(200, "text/html", "<html><body>surprise</body></html>")),
        "throttle" => {
            let mut r = resp(
                fault.status,
                "application/json",
                r#"{"error":{"type":"api_error","code":"rate_limit","message":"injected: too many requests, retry later"}}"#,
            );
            let wait = std::time::Duration::from_secs(fault.retry_after_secs.max(0) as u64);
            let value = if fault.http_date {
                httpdate::fmt_http_date(std::time::SystemTime::now() + wait)
            } else {
                wait.as_secs().to_string()
            };
            r.set_header("retry-after", value);
            Some(r)
        }
        "redirect" => {
            let mut r = resp(307, "text/plain", "moved");
            r.set_header("location", format!("https://evil.example{path}"));
            Some(r)
        }
        _ => None,
    }
}

/// The webhook delivery mode (`normal` unless set).
pub fn webhook_mode(conn: &Connection) -> String {
    conn.execute("SELECT value FROM sb_settings WHERE name = 'webhooks'", &[])
        .ok()
        .and_then(|r| r.rows().next().and_then(|row| row.get::<&str>("value").map(str::to_string)))
        .unwrap_or_else(|| "normal".into())
}
