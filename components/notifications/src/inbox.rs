//! The in-site inbox of the signed-in user.

use crate::store;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Row, Value};

const LIST: &str = "SELECT id, kind, title, body, link, booking_id, created_ms, read_ms FROM messages \
     WHERE user_id = ? AND (?2 IS NULL OR id < ?2) AND (?3 = 0 OR read_ms IS NULL) ORDER BY id DESC LIMIT ?4";
const UNREAD: &str = "SELECT COUNT(*) AS n FROM messages WHERE user_id = ? AND read_ms IS NULL";
const MARK_ONE: &str = "UPDATE messages SET read_ms = COALESCE(read_ms, ?) WHERE id = ? AND user_id = ? \
     RETURNING id, kind, title, body, link, booking_id, created_ms, read_ms";
const MARK_ALL: &str = "UPDATE messages SET read_ms = ? WHERE user_id = ? AND read_ms IS NULL";

/// The API view of one message:
/// `{"id","kind","title","body","link","booking_id","created_at","read","read_at"}`.
fn view(r: &Row<'_>) -> Json {
    let read_ms = r.get::<i64>("read_ms");
    json!({
        "id": r.get::<&str>("id"),
        "kind": r.get::<&str>("kind"),
        "title": r.get::<&str>("title"),
        "body": r.get::<&str>("body"),
        "link": r.get::<&str>("link"),
        "booking_id": r.get::<&str>("booking_id"),
        "created_at": platform::clock::rfc3339(r.get::<i64>("created_ms").unwrap_or_default()),
        "read": read_ms.is_some(),
        "read_at": read_ms.map(platform::clock::rfc3339),
    })
}

fn unread_count(conn: &spin_sdk::sqlite3::Connection, user: &str) -> ApiResult<i64> {
    let rs = conn.execute(UNREAD, &[Value::Text(user.to_string())])?;
    let n = rs.rows().next().and_then(|r| r.get::<i64>("n")).unwrap_or(0);
    Ok(n)
}

/// `GET /api/notifications?cursor=&limit=&unread=true`: the caller's
/// messages, newest first (`limit` 1–100, default 20).
///
/// ```json
/// {"items":[…],"next_cursor":"ntf_…"|null,"unread_count":3}
/// ```
/// Errors: 401; 422 bad `limit`/`cursor`/`unread`.
pub fn list(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let q = Query::of(&req);
    let limit = q.limit(20, 100)?;
    let cursor = q.get("cursor");
    if let Some(c) = cursor {
        if !platform::ids::is_valid("ntf", c) {
            return Err(ApiError::field("cursor", "is not a cursor from this list"));
        }
    }
    let unread_only = q.parse_opt::<bool>("unread")?.unwrap_or(false);
    let conn = store::open()?;
    let rs = conn.execute(
        LIST,
        &[
            Value::Text(caller.user_id.clone()),
            cursor.map(|c| Value::Text(c.to_string())).unwrap_or(Value::Null),
            Value::Integer(i64::from(unread_only)),
            Value::Integer(i64::from(limit) + 1),
        ],
    )?;
    let mut items: Vec<Json> = rs.rows().map(|r| view(&r)).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().and_then(|m| m["id"].as_str().map(str::to_string))
    } else {
        None
    };
    ok(&json!({"items": items, "next_cursor": next, "unread_count": unread_count(&conn, &caller.user_id)?}))
}

/// `GET /api/notifications/unread-count` → `{"unread": n}`.
pub fn unread(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    ok(&json!({"unread": unread_count(&conn, &caller.user_id)?}))
}

/// `POST /api/notifications/{id}/read`: marks one message read
/// (idempotent; the first read time is kept) and answers its view.
/// Errors: 401; 404 unknown or another user's message.
pub fn mark_read(req: Request, params: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    let rs = conn.execute(
        MARK_ONE,
        &[Value::Integer(platform::clock::now_ms()), Value::Text(id.to_string()), Value::Text(caller.user_id.clone())],
    )?;
    let item = rs.rows().next().map(|r| view(&r)).ok_or_else(|| ApiError::NotFound(format!("no notification {id}")))?;
    ok(&item)
}

/// `POST /api/notifications/read-all` → `{"marked": n, "unread": 0}`.
pub fn mark_all_read(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    conn.execute(MARK_ALL, &[Value::Integer(platform::clock::now_ms()), Value::Text(caller.user_id.clone())])?;
    let marked = conn.execute("SELECT changes() AS n", &[])?.rows().next().and_then(|r| r.get::<i64>("n")).unwrap_or(0);
    ok(&json!({"marked": marked, "unread": unread_count(&conn, &caller.user_id)?}))
}
