//! Private endpoints for other components, served only by the private
//! component `auth-internal` (`route = { private = true }`), so reachable
//! only through Spin service chaining
//! (`http://auth-internal.spin.internal/api/auth/internal/...`); the public
//! `auth` component has no such routes (404). The caller (the `users`
//! component) authorises its own caller before it calls these.
//!
//! Contract (JSON):
//! * `GET accounts[?role=<role>&limit=1..100&cursor=<id>]` →
//!   `{"items": [AccountSummary], "next_cursor": "usr_…" | null}`
//! * `GET accounts/:id` → `AccountSummary` (`{id, email|null, role, created_at, erased, email_verified}`); 404
//! * `PUT accounts/:id/role` `{"role": "customer"|"organizer"|"staff"}` → `AccountSummary`;
//!   422 for `admin` or an unknown role; 404 unknown or erased; 409 `admin-role-fixed`
//!   when the target is an admin (admins come from configuration only); 409
//!   `email-unverified` for `organizer` or `staff` when the account's address
//!   is not verified
//! * `POST accounts/:id/erase` → 204 (idempotent): e-mail and password hash
//!   erased, every session revoked, refresh-token hashes deleted, the
//!   address dropped from auth's saga events (reset and confirmation
//!   e-mails), the token epoch moved on (every access token refused at once).

use crate::accounts::{self, AccountSummary};
use crate::sessions::{self, Revocation};
use crate::store;
use platform::auth::Role;
use platform::web::{no_content, ok, read_json, Query};
use platform::{clock, ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request};

fn id_param(p: &Params) -> ApiResult<String> {
    let id = p.get("id").unwrap_or_default();
    if platform::ids::is_valid("usr", id) {
        Ok(id.to_string())
    } else {
        Err(ApiError::NotFound(format!("no account {id}")))
    }
}

/// A page of accounts.
#[derive(Debug, serde::Serialize)]
pub struct AccountPage {
    /// Accounts in id (creation) order.
    pub items: Vec<AccountSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/auth/internal/accounts`.
pub fn list(req: Request, _p: Params) -> ApiResult {
    let q = Query::of(&req);
    let limit = q.limit(50, 100)?;
    let role = match q.get("role") {
        None => None,
        Some(r) => Some(
            r.parse::<Role>().map_err(|_| ApiError::field("role", "must be customer, organizer, staff or admin"))?,
        ),
    };
    let after = q.get("cursor").unwrap_or("");
    let conn = store::open()?;
    let rows = accounts::page(&conn, after, role, limit + 1)?;
    let more = rows.len() > limit as usize;
    let items: Vec<AccountSummary> = rows.iter().take(limit as usize).map(|a| a.summary()).collect();
    let next_cursor = if more { items.last().map(|a| a.id.clone()) } else { None };
    ok(&AccountPage { items, next_cursor })
}

/// `GET /api/auth/internal/accounts/:id`.
pub fn get(_req: Request, p: Params) -> ApiResult {
    let id = id_param(&p)?;
    let conn = store::open()?;
    let account = accounts::by_id(&conn, &id)?.ok_or_else(|| ApiError::NotFound(format!("no account {id}")))?;
    ok(&account.summary())
}

#[derive(Debug, Deserialize)]
struct RoleChange {
    role: String,
}

/// `PUT /api/auth/internal/accounts/:id/role`. The new role is carried by
/// access tokens issued from the next refresh or sign-in on. Organizer and
/// staff need a verified address (409 `email-unverified`, see
/// [`crate::verify`]: those roles handle attendees' data and money);
/// customer can always be given. The check reads the account before the
/// update: verification is never undone, so it cannot go stale.
pub fn set_role(req: Request, p: Params) -> ApiResult {
    let id = id_param(&p)?;
    let body: RoleChange = read_json(&req)?;
    let role = match body.role.parse::<Role>() {
        Ok(r @ (Role::Customer | Role::Organizer | Role::Staff)) => r,
        Ok(Role::Admin) => return Err(ApiError::field("role", "admins come from configuration and cannot be granted")),
        Err(()) => return Err(ApiError::field("role", "must be customer, organizer or staff")),
    };
    let conn = store::open()?;
    let account = accounts::by_id(&conn, &id)?
        .filter(|a| a.erased_at.is_none())
        .ok_or_else(|| ApiError::NotFound(format!("no account {id}")))?;
    if account.role == Role::Admin {
        return Err(ApiError::conflict("admin-role-fixed", "an admin's role cannot be changed"));
    }
    if role != Role::Customer && !account.email_verified() {
        return Err(ApiError::conflict(
            "email-unverified",
            "this account has not confirmed its e-mail address yet; organizers and staff need a confirmed one",
        ));
    }
    if !accounts::set_role(&conn, &id, role, clock::now_ms())? {
        return Err(ApiError::NotFound(format!("no account {id}")));
    }
    let updated = accounts::by_id(&conn, &id)?.ok_or_else(|| ApiError::NotFound(format!("no account {id}")))?;
    ok(&updated.summary())
}

/// `POST /api/auth/internal/accounts/:id/erase`.
pub fn erase(_req: Request, p: Params) -> ApiResult {
    let id = id_param(&p)?;
    let conn = store::open()?;
    accounts::by_id(&conn, &id)?.ok_or_else(|| ApiError::NotFound(format!("no account {id}")))?;
    let now = clock::now_ms();
    platform::db::transaction(&conn, |c| -> ApiResult<()> {
        accounts::erase(c, &id, now)?;
        sessions::revoke_user(c, &id, Revocation::Erased, now)?;
        sessions::drop_user_tokens(c, &id)?;
        // the address in the reset and confirmation e-mails' events
        Ok(saga::forget_person(c, &id)?)
    })?;
    // every access token of the account stops working at once
    platform::auth::bump_epoch(&id)?;
    no_content()
}
