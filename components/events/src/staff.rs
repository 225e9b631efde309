//! Door staff of an event: who may check tickets in there (issue 17, item
//! 7; OWASP ASVS 4.0 §4.1.3 least privilege, §4.2.1 object-level checks).
//!
//! The staff role alone admits nowhere: an event's organizer (or an admin)
//! assigns staff accounts to that event, and the tickets component asks
//! this one, over service chaining to the private `events-internal`
//! component ([`access`]), whether a scanning staff member is assigned.
//!
//! | route | who | answer |
//! |---|---|---|
//! | `GET /api/events/:id/staff` | owner, admin | `{"event_id","items":[{"user_id","added_by","added_at"}]}` |
//! | `PUT /api/events/:id/staff/:user_id` | owner, admin | 200 the list; assigning twice changes nothing |
//! | `DELETE /api/events/:id/staff/:user_id` | owner, admin | 204 (also when not assigned) |
//! | `GET /api/events/internal/:id/access?user_id=` | `events-internal` only | `{"event_id","organizer_id","status","staff":bool}` |
//!
//! `user_id` is any account id (`usr_…`); the assignment counts while that
//! account's token carries the staff role (tickets checks the role).

use crate::events::{organizer, owned_event};
use crate::store::{self, int};
use platform::web::{no_content, ok, Query};
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// Most staff accounts one event may have.
pub const MAX_STAFF: i64 = 500;

fn user_param(params: &Params) -> ApiResult<String> {
    let id = params.get("user_id").unwrap_or_default();
    if !platform::ids::is_valid("usr", id) {
        return Err(ApiError::field("user_id", "must be an account id (usr_…)"));
    }
    Ok(id.to_string())
}

fn list_of(conn: &Connection, event_id: &str) -> ApiResult<Json> {
    let rows = conn.execute(
        "SELECT user_id, added_by, added_ms FROM event_staff WHERE event_id = ? ORDER BY added_ms, user_id",
        &[store::text(event_id)],
    )?;
    let items: Vec<Json> = rows
        .rows()
        .map(|r| {
            json!({"user_id": r.get::<&str>("user_id"), "added_by": r.get::<&str>("added_by"),
                   "added_at": platform::clock::rfc3339(r.get::<i64>("added_ms").unwrap_or_default())})
        })
        .collect();
    Ok(json!({"event_id": event_id, "items": items}))
}

/// `GET /api/events/:id/staff` (owner, admin): the event's door staff,
/// oldest assignment first. 401, 403 not the owner, 404 unknown event.
pub fn list(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let conn = store::open()?;
    let e = owned_event(&conn, &caller, params.get("id").unwrap_or_default())?;
    ok(&list_of(&conn, &e.id)?)
}

/// `PUT /api/events/:id/staff/:user_id` (owner, admin): assigns a staff
/// account to the event; 200 with the list. 422 a bad user id; 409
/// `too-many-staff` past [`MAX_STAFF`]; 401, 403, 404 as [`list`].
pub fn assign(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let user_id = user_param(&params)?;
    let conn = store::open()?;
    let e = owned_event(&conn, &caller, params.get("id").unwrap_or_default())?;
    platform::db::transaction(&conn, |c| -> ApiResult<()> {
        let n = c.execute("SELECT COUNT(*) AS n FROM event_staff WHERE event_id = ?", &[store::text(&e.id)])?;
        if n.rows().next().and_then(|r| r.get::<i64>("n")).unwrap_or(0) >= MAX_STAFF {
            return Err(ApiError::conflict("too-many-staff", format!("an event has at most {MAX_STAFF} staff")));
        }
        c.execute(
            "INSERT INTO event_staff (event_id, user_id, added_by, added_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            &[store::text(&e.id), store::text(&user_id), store::text(&caller.user_id), int(platform::clock::now_ms())],
        )?;
        Ok(())
    })?;
    ok(&list_of(&conn, &e.id)?)
}

/// `DELETE /api/events/:id/staff/:user_id` (owner, admin): 204, whether or
/// not the account was assigned. 401, 403, 404, 422 as [`assign`].
pub fn unassign(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let user_id = user_param(&params)?;
    let conn = store::open()?;
    let e = owned_event(&conn, &caller, params.get("id").unwrap_or_default())?;
    conn.execute(
        "DELETE FROM event_staff WHERE event_id = ? AND user_id = ?",
        &[store::text(&e.id), store::text(&user_id)],
    )?;
    no_content()
}

/// `GET /api/events/internal/:id/access?user_id=usr_…` — internal (the
/// private `events-internal` component only): who runs event `id` and
/// whether `user_id` is assigned to its door,
/// `{"event_id","organizer_id","status","staff":bool}` (`staff` false
/// without `user_id`), for any status. 404 unknown event.
pub fn access(req: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    let e = crate::read::event(&conn, id)?.ok_or_else(|| ApiError::NotFound(format!("event {id} does not exist")))?;
    let q = Query::of(&req);
    let staff = match q.get("user_id") {
        Some(u) => conn
            .execute(
                "SELECT 1 AS one FROM event_staff WHERE event_id = ? AND user_id = ?",
                &[store::text(&e.id), store::text(u)],
            )?
            .rows()
            .next()
            .is_some(),
        None => false,
    };
    ok(&json!({"event_id": e.id, "organizer_id": e.organizer_id, "status": e.status, "staff": staff}))
}
