//! Sandbox email provider: the same API shape as Resend's `POST /emails`
//! (what `notifications` speaks), messages kept in SQLite for tests and a
//! mailbox page for people, plus failure injection.
//!
//! | route | answer |
//! |---|---|
//! | `POST /sandbox/email/emails` | provider API: send `{"from","to":[…]|"…","subject","html"?,"text"?,"tags"?}` → `200 {"id":"em_…"}` |
//! | `GET  /sandbox/email/emails/:id` | provider API: one message (Resend's retrieve) |
//! | `GET  /sandbox/email/messages?to=&limit=` | tool: messages, newest first (tests) |
//! | `GET  /sandbox/email/requests` | tool: every `POST /emails` and its answer, oldest first (tests) |
//! | `PUT  /sandbox/email/faults` | tool (Bearer): failure injection (below) |
//! | `GET  /sandbox/email` | tool: the mailbox page (HTML) |
//! | `GET  /sandbox/email/view/:id` | tool: one message's HTML body, sandboxed by CSP |
//!
//! The tools need the sandbox admin token (see [`crate::access`]): the
//! mailbox holds every message sent, ticket codes included.
//!
//! Provider API rules, as the real API: `Authorization: Bearer
//! <email_api_token>` (401 `missing_api_key` without one — or when no
//! token is configured, since then none can be right — 403
//! `invalid_api_key` for a wrong one); 422 `validation_error` for a bad
//! `from`/`to`/`subject` or no body; `Idempotency-Key` (≤ 256 chars): the
//! same key with the same body answers the first result again and stores
//! nothing, with another body 409 `invalid_idempotent_request`.
//!
//! Failure injection: `PUT /sandbox/email/faults`
//! `{"mode":"status","status":503,"count":2}` makes the next 2 sends answer
//! 503 (any 4xx/5xx), with `"retry_after_secs": n` also a `Retry-After: n`
//! header (a rate-limited provider's 429); `{"mode":"timeout","delay_ms":1500,"count":1}` makes
//! the next send wait `delay_ms` (≤ 30 s) and answer 504 without storing;
//! `count` -1 means until cleared; `{"mode":"none"}` clears.

use askama::Template;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Row, Value};

/// A Resend-style error answer: `{"statusCode","name","message"}`.
fn provider_error(status: u16, name: &str, message: &str) -> Response {
    platform::web::json(status, &json!({"statusCode": status, "name": name, "message": message}))
}

fn log(conn: &Connection, key: Option<&str>, status: u16, outcome: &str, email_id: Option<&str>) -> ApiResult<()> {
    conn.execute(
        "INSERT INTO sb_email_requests (idempotency_key, status, outcome, email_id, at_ms) VALUES (?, ?, ?, ?, ?)",
        &[
            key.map(|k| Value::Text(k.into())).unwrap_or(Value::Null),
            Value::Integer(status.into()),
            Value::Text(outcome.into()),
            email_id.map(|k| Value::Text(k.into())).unwrap_or(Value::Null),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum To {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct SendRequest {
    from: String,
    to: To,
    subject: String,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tags: Option<Json>,
}

fn plausible_address(a: &str) -> bool {
    let addr = match (a.find('<'), a.rfind('>')) {
        (Some(i), Some(j)) if i < j => &a[i + 1..j],
        _ => a,
    };
    let Some((local, domain)) = addr.split_once('@') else { return false };
    !local.is_empty()
        && (domain == "localhost" || (domain.contains('.') && !domain.starts_with('.')))
        && !addr.chars().any(char::is_whitespace)
}

/// One injected failure as stored.
struct Fault {
    mode: String,
    status: u16,
    delay_ms: u64,
    retry_after_secs: Option<i64>,
}

/// Takes one injected failure, if any (one conditional write).
fn take_fault(conn: &Connection) -> ApiResult<Option<Fault>> {
    let rs = conn.execute(
        "UPDATE sb_email_faults SET remaining = CASE WHEN remaining > 0 THEN remaining - 1 ELSE remaining END \
         WHERE id = 1 AND remaining != 0 RETURNING mode, status, delay_ms, retry_after_secs",
        &[],
    )?;
    let fault = rs.rows().next().map(|r| Fault {
        mode: r.get::<&str>("mode").unwrap_or("status").to_string(),
        status: r.get::<i64>("status").unwrap_or(503) as u16,
        delay_ms: r.get::<i64>("delay_ms").unwrap_or(0).max(0) as u64,
        retry_after_secs: r.get::<i64>("retry_after_secs"),
    });
    Ok(fault)
}

/// `POST /sandbox/email/emails`: accepts one message (see module docs).
pub fn send(req: Request, _: Params) -> ApiResult {
    let conn = crate::store::open()?;
    let key = platform::web::header_last(&req, "idempotency-key").map(str::to_string);
    let key = key.as_deref();
    if let Err(status) = crate::access::provider_key(&req, "email_api_token") {
        log(&conn, key, status, "refused", None)?;
        return Ok(key_refused(status));
    }
    if let Some(f) = take_fault(&conn)? {
        if f.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(f.delay_ms));
        }
        let status = if f.mode == "timeout" { 504 } else { f.status };
        log(&conn, key, status, "fault", None)?;
        let mut resp = provider_error(status, "application_error", &format!("injected {} failure", f.mode));
        if let Some(secs) = f.retry_after_secs {
            resp.set_header("retry-after", secs.to_string());
        }
        return Ok(resp);
    }
    if key.is_some_and(|k| k.is_empty() || k.len() > 256) {
        log(&conn, key, 400, "refused", None)?;
        return Ok(provider_error(400, "invalid_idempotency_key", "The key must be between 1-256 chars"));
    }
    let body: SendRequest = match platform::web::read_json(&req) {
        Ok(b) => b,
        Err(e) => {
            log(&conn, key, 422, "refused", None)?;
            return Ok(provider_error(422, "validation_error", &format!("{:?}", e.problem().detail)));
        }
    };
    let to = match body.to {
        To::One(a) => vec![a],
        To::Many(v) => v,
    };
    let invalid = if !plausible_address(&body.from) {
        Some("Invalid `from` field")
    } else if to.is_empty() || to.len() > 50 || !to.iter().all(|a| plausible_address(a)) {
        Some("Invalid `to` field: 1-50 email addresses")
    } else if body.subject.trim().is_empty() {
        Some("Missing `subject` field")
    } else if body.html.as_deref().unwrap_or("").is_empty() && body.text.as_deref().unwrap_or("").is_empty() {
        Some("Missing `html` or `text` field")
    } else {
        None
    };
    if let Some(msg) = invalid {
        log(&conn, key, 422, "refused", None)?;
        return Ok(provider_error(422, "validation_error", msg));
    }
    let hash = hex::encode(Sha256::digest(req.body()));
    let id = platform::ids::new("em");
    let inserted = conn.execute(
        "INSERT INTO sb_emails (id, idempotency_key, request_hash, from_addr, to_json, subject, html, text, tags_json, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING RETURNING id",
        &[
            Value::Text(id.clone()),
            key.map(|k| Value::Text(k.into())).unwrap_or(Value::Null),
            Value::Text(hash.clone()),
            Value::Text(body.from),
            Value::Text(serde_json::to_string(&to).unwrap_or_default()),
            Value::Text(body.subject),
            body.html.map(Value::Text).unwrap_or(Value::Null),
            body.text.map(Value::Text).unwrap_or(Value::Null),
            body.tags.map(|t| Value::Text(t.to_string())).unwrap_or(Value::Null),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    if inserted.rows().next().is_some() {
        log(&conn, key, 200, "accepted", Some(&id))?;
        return platform::web::ok(&json!({"id": id}));
    }
    // The key was used before: replay or conflict.
    let prior = conn.execute(
        "SELECT id, request_hash FROM sb_emails WHERE idempotency_key = ?",
        &[Value::Text(key.unwrap_or_default().into())],
    )?;
    let Some((prior_id, prior_hash)) = prior.rows().next().map(|r| {
        (
            r.get::<&str>("id").unwrap_or_default().to_string(),
            r.get::<&str>("request_hash").unwrap_or_default().to_string(),
        )
    }) else {
        return Err(ApiError::Unavailable("try again".into()));
    };
    if prior_hash != hash {
        log(&conn, key, 409, "refused", None)?;
        return Ok(provider_error(
            409,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload",
        ));
    }
    log(&conn, key, 200, "replayed", Some(&prior_id))?;
    platform::web::ok(&json!({"id": prior_id}))
}

const COLUMNS: &str = "id, idempotency_key, from_addr, to_json, subject, html, text, tags_json, created_ms";

fn view(r: &Row<'_>) -> Json {
    json!({
        "id": r.get::<&str>("id"),
        "idempotency_key": r.get::<&str>("idempotency_key"),
        "from": r.get::<&str>("from_addr"),
        "to": serde_json::from_str::<Json>(r.get::<&str>("to_json").unwrap_or("[]")).unwrap_or_default(),
        "subject": r.get::<&str>("subject"),
        "html": r.get::<&str>("html"),
        "text": r.get::<&str>("text"),
        "tags": r.get::<&str>("tags_json").and_then(|t| serde_json::from_str::<Json>(t).ok()),
        "created_at": platform::clock::rfc3339(r.get::<i64>("created_ms").unwrap_or_default()),
    })
}

fn messages(conn: &Connection, to: Option<&str>, limit: u32) -> ApiResult<Vec<Json>> {
    // `to` matches one recipient exactly (JSON-quoted inside the array text).
    let pattern = to.map(|t| format!("%{}%", serde_json::to_string(t).unwrap_or_default()));
    let rs = conn.execute(
        &format!("SELECT {COLUMNS} FROM sb_emails WHERE (?1 IS NULL OR to_json LIKE ?1) ORDER BY created_ms DESC, id DESC LIMIT ?2"),
        &[pattern.map(Value::Text).unwrap_or(Value::Null), Value::Integer(limit.into())],
    )?;
    let items = rs.rows().map(|r| view(&r)).collect();
    Ok(items)
}

/// `GET /sandbox/email/messages?to=&limit=` → `{"items":[{id,idempotency_key,from,to,subject,html,text,tags,created_at}]}`.
pub fn list(req: Request, _: Params) -> ApiResult {
    let q = platform::web::Query::of(&req);
    let conn = crate::store::open()?;
    platform::web::ok(&json!({"items": messages(&conn, q.get("to"), q.limit(100, 1000)?)?}))
}

/// Resend's answer to a refused API key: 401 `missing_api_key`, 403 `invalid_api_key`.
fn key_refused(status: u16) -> Response {
    if status == 401 {
        provider_error(401, "missing_api_key", "Missing API key in the authorization header")
    } else {
        provider_error(403, "invalid_api_key", "API key is invalid")
    }
}

/// `GET /sandbox/email/emails/{id}`: one message (provider API key
/// required, as for send; 404 unknown).
pub fn get(req: Request, params: Params) -> ApiResult {
    if let Err(status) = crate::access::provider_key(&req, "email_api_token") {
        return Ok(key_refused(status));
    }
    let id = params.get("id").unwrap_or_default();
    let conn = crate::store::open()?;
    let rs = conn.execute(&format!("SELECT {COLUMNS} FROM sb_emails WHERE id = ?"), &[Value::Text(id.into())])?;
    let item = rs.rows().next().map(|r| view(&r)).ok_or_else(|| ApiError::NotFound(format!("no email {id}")))?;
    platform::web::ok(&item)
}

/// `GET /sandbox/email/requests` → `{"items":[{idempotency_key,status,outcome,email_id,at}]}`, oldest first.
pub fn requests(_: Request, _: Params) -> ApiResult {
    let conn = crate::store::open()?;
    let rs = conn.execute(
        "SELECT idempotency_key, status, outcome, email_id, at_ms FROM sb_email_requests ORDER BY seq LIMIT 10000",
        &[],
    )?;
    let items: Vec<Json> = rs
        .rows()
        .map(|r| {
            json!({"idempotency_key": r.get::<&str>("idempotency_key"), "status": r.get::<i64>("status"),
                   "outcome": r.get::<&str>("outcome"), "email_id": r.get::<&str>("email_id"),
                   "at": platform::clock::rfc3339(r.get::<i64>("at_ms").unwrap_or_default())})
        })
        .collect();
    platform::web::ok(&json!({"items": items}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultPlan {
    mode: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    delay_ms: Option<u32>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    retry_after_secs: Option<u32>,
}

/// `PUT /sandbox/email/faults` (see module docs) → the plan in force.
pub fn set_faults(req: Request, _: Params) -> ApiResult {
    let plan: FaultPlan = platform::web::read_json(&req)?;
    let conn = crate::store::open()?;
    if plan.mode == "none" {
        conn.execute("DELETE FROM sb_email_faults", &[])?;
        return platform::web::ok(&json!({"mode": "none"}));
    }
    if plan.mode != "status" && plan.mode != "timeout" {
        return Err(ApiError::field("mode", "one of status, timeout, none"));
    }
    let status = plan.status.unwrap_or(if plan.mode == "timeout" { 504 } else { 503 });
    if !(400..=599).contains(&status) {
        return Err(ApiError::field("status", "must be 400-599"));
    }
    let count = plan.count.unwrap_or(1);
    if count == 0 || count < -1 {
        return Err(ApiError::field("count", "must be positive, or -1 for until cleared"));
    }
    let delay = i64::from(plan.delay_ms.unwrap_or(if plan.mode == "timeout" { 6_000 } else { 0 }).min(30_000));
    conn.execute(
        "INSERT INTO sb_email_faults (id, mode, status, delay_ms, remaining, retry_after_secs) VALUES (1, ?, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET mode = excluded.mode, status = excluded.status, delay_ms = excluded.delay_ms, \
         remaining = excluded.remaining, retry_after_secs = excluded.retry_after_secs",
        &[
            Value::Text(plan.mode.clone()),
            Value::Integer(status.into()),
            Value::Integer(delay),
            Value::Integer(count),
            plan.retry_after_secs.map_or(Value::Null, |s| Value::Integer(s.into())),
        ],
    )?;
    platform::web::ok(&json!({"mode": plan.mode, "status": status, "delay_ms": delay, "count": count}))
}

/// One message of the mailbox page, as shown.
struct MailRow {
    subject: String,
    /// Every recipient, comma-separated.
    to: String,
    created_at: String,
    id: String,
    from: String,
    text: String,
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct Mailbox {
    title: &'static str,
    messages: Vec<MailRow>,
}

/// `GET /sandbox/email`: the mailbox page, newest first, each message with
/// its text body and a link to its HTML body.
pub fn mailbox(_: Request, _: Params) -> ApiResult {
    let conn = crate::store::open()?;
    let mut rows = Vec::new();
    for m in messages(&conn, None, 200)? {
        let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
        let to = m["to"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        rows.push(MailRow {
            subject: s("subject"),
            to,
            created_at: s("created_at"),
            id: s("id"),
            from: s("from"),
            text: s("text"),
        });
    }
    Ok(crate::pages::html(200, &Mailbox { title: "Sandbox mailbox", messages: rows }))
}

#[derive(Template)]
#[template(path = "text_body.html")]
struct TextBody<'a> {
    text: &'a str,
}

/// `GET /sandbox/email/view/{id}`: the stored HTML body as a page (a
/// message without one: its text, escaped, in a `<pre>`), with a
/// `Content-Security-Policy: sandbox` so nothing in it runs.
pub fn view_html(_: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let conn = crate::store::open()?;
    let rs = conn.execute("SELECT html, text FROM sb_emails WHERE id = ?", &[Value::Text(id.into())])?;
    let row = rs.rows().next().ok_or_else(|| ApiError::NotFound(format!("no email {id}")))?;
    let mut page = match row.get::<&str>("html") {
        Some(stored) => Response::builder()
            .status(200)
            .header("content-type", "text/html; charset=utf-8")
            .body(stored.to_string())
            .build(),
        None => crate::pages::html(200, &TextBody { text: row.get::<&str>("text").unwrap_or_default() }),
    };
    page.set_header("content-security-policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    Ok(page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses() {
        for ok in ["ada@example.com", "Boxoffice <tickets@boxoffice.local>", "a@localhost"] {
            assert!(super::plausible_address(ok), "{ok}");
        }
        for bad in ["", "ada", "@example.com", "ada@", "a b@example.com", "Ada <ada>"] {
            assert!(!super::plausible_address(bad), "{bad}");
        }
    }
}
