//! `GET /api/venues` — venue lists (the read side of [`crate::venues`]).
//!
//! * `?mine=true` (organizer or admin): the caller's own venues, the ones
//!   the organizer form offers when creating an event.
//! * otherwise: every venue (public).
//!
//! Newest first, cursor paged (`?limit=` 1–100, default 20; `?cursor=` the
//! `next_cursor` of the previous page, a venue id: ids are time-sortable
//! ULIDs, so the order is stable while venues are added). Seat maps are
//! left out (`seat_count` says how big they are; `GET /api/venues/{id}`
//! has the map).
//!
//! ```json
//! {"items":[{"id":"ven_…","name":"…","address":"…","city":"…","region":"…","postal_code":"…","country":"US",
//!            "timezone":"America/New_York","latitude":null,"longitude":null,"seat_count":120,"ga_areas":[…]}],
//!  "next_cursor":"ven_…"|null}
//! ```
//!
//! Errors: 401 without a token and 403 for customers (with `mine=true`);
//! 422 for a bad `mine`, `limit` or `cursor`.

use crate::store::{self, int};
use crate::venues;
use platform::auth::Role;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult};
use serde_json::json;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Value;

/// Ids of one page of everyone's venues, newest first; `?1` cursor (NULL =
/// from the newest: `~` sorts after every id), `?2` page size + 1.
const PAGE: &str = "SELECT id FROM venues WHERE id < COALESCE(?1, '~') ORDER BY id DESC LIMIT ?2";

/// [`PAGE`] of one owner's venues (`?3`), answered from index
/// `venues_by_owner (owner_id, id)` alone. Two statements rather than one
/// with `?3 IS NULL OR owner_id = ?3`: SQLite cannot use an index for that.
const PAGE_OF_OWNER: &str =
    "SELECT id FROM venues WHERE owner_id = ?3 AND id < COALESCE(?1, '~') ORDER BY id DESC LIMIT ?2";

/// `GET /api/venues?mine=true&limit=&cursor=`.
pub fn list(req: Request, _: Params) -> ApiResult {
    let q = Query::of(&req);
    let owner = match q.get("mine") {
        Some("true") => {
            let caller = platform::auth::require(&req)?;
            caller.require_role(&[Role::Organizer])?;
            Value::Text(caller.user_id)
        }
        None | Some("false") => Value::Null,
        Some(_) => return Err(ApiError::field("mine", "must be true or false")),
    };
    let limit = q.limit(20, 100)?;
    let cursor = match q.get("cursor") {
        None => Value::Null,
        Some(c)
            if c.starts_with("ven_") && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            store::text(c)
        }
        Some(_) => return Err(ApiError::field("cursor", "is not a cursor from this list")),
    };
    let conn = store::open()?;
    let rs = match owner {
        Value::Null => conn.execute(PAGE, &[cursor, int(i64::from(limit) + 1)])?,
        owner => conn.execute(PAGE_OF_OWNER, &[cursor, int(i64::from(limit) + 1), owner])?,
    };
    let mut ids: Vec<String> = rs.rows().filter_map(|r| r.get::<&str>("id").map(str::to_string)).collect();
    let next = if ids.len() > limit as usize {
        ids.truncate(limit as usize);
        ids.last().cloned()
    } else {
        None
    };
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(v) = venues::load(&conn, id, false)? {
            items.push(venues::view(&v));
        }
    }
    ok(&json!({"items": items, "next_cursor": next}))
}
