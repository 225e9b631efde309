//! Admin view of the email queue: list jobs by status (dead letters
//! first of all) and requeue a dead one.

use crate::store;
use platform::auth::Role;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Row, Value};

const STATUSES: [&str; 4] = ["pending", "sent", "dead", "skipped"];
const LIST: &str = "SELECT id, dedupe_key, kind, user_id, booking_id, to_email, subject, status, attempts, next_attempt_ms, last_error, \
     provider_id, created_ms, finished_ms FROM email_jobs WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR booking_id = ?2) \
     AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4";
const REQUEUE: &str = "UPDATE email_jobs SET status = 'pending', attempts = 0, next_attempt_ms = ?, last_error = NULL, finished_ms = NULL \
     WHERE id = ? AND status = 'dead' RETURNING id";

fn view(r: &Row<'_>) -> Json {
    let at = |c: &str| r.get::<i64>(c).map(platform::clock::rfc3339);
    json!({
        "id": r.get::<&str>("id"),
        "dedupe_key": r.get::<&str>("dedupe_key"),
        "kind": r.get::<&str>("kind"),
        "user_id": r.get::<&str>("user_id"),
        "booking_id": r.get::<&str>("booking_id"),
        "to": r.get::<&str>("to_email"),
        "subject": r.get::<&str>("subject"),
        "status": r.get::<&str>("status"),
        "attempts": r.get::<i64>("attempts"),
        "next_attempt_at": at("next_attempt_ms"),
        "last_error": r.get::<&str>("last_error"),
        "provider_id": r.get::<&str>("provider_id"),
        "created_at": at("created_ms"),
        "finished_at": at("finished_ms"),
    })
}

/// `GET /api/notifications/admin/jobs?status=dead&booking_id=&cursor=&limit=`
/// (admins): email jobs newest first → `{"items":[…],"next_cursor"}`.
/// Errors: 401, 403, 422 unknown status.
pub fn jobs(req: Request, _: Params) -> ApiResult {
    platform::auth::require(&req)?.require_role(&[Role::Admin])?;
    let q = Query::of(&req);
    let limit = q.limit(50, 200)?;
    let status = q.get("status");
    if let Some(s) = status {
        if !STATUSES.contains(&s) {
            return Err(ApiError::field("status", format!("must be one of {}", STATUSES.join(", "))));
        }
    }
    let opt = |v: Option<&str>| v.map(|s| Value::Text(s.to_string())).unwrap_or(Value::Null);
    let conn = store::open()?;
    let rs = conn.execute(
        LIST,
        &[opt(status), opt(q.get("booking_id")), opt(q.get("cursor")), Value::Integer(i64::from(limit) + 1)],
    )?;
    let mut items: Vec<Json> = rs.rows().map(|r| view(&r)).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().and_then(|m| m["id"].as_str().map(str::to_string))
    } else {
        None
    };
    ok(&json!({"items": items, "next_cursor": next}))
}

/// `POST /api/notifications/admin/jobs/{id}/retry` (admins): a dead job
/// becomes pending again (attempts reset, due now) and is tried at once.
/// Errors: 401, 403, 404 no dead job with that id.
pub fn retry(req: Request, params: Params) -> ApiResult {
    platform::auth::require(&req)?.require_role(&[Role::Admin])?;
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    let rs = conn.execute(REQUEUE, &[Value::Integer(platform::clock::now_ms()), Value::Text(id.to_string())])?;
    if rs.rows().next().is_none() {
        return Err(ApiError::NotFound(format!("no dead job {id}")));
    }
    let report = crate::jobs::deliver_due(&conn, 20);
    ok(&json!({"id": id, "status": "pending", "delivery": report}))
}
