//! HTTP handlers of the `users` routes (see the crate docs for the table).

use crate::auth_client::{self, Account, AccountPage};
use crate::domain::{DisplayName, Locale, Phone, TimeZone};
use crate::profiles;
use crate::settings::{self, SettingsPatch};
use crate::store;
use platform::auth::{Caller, Role};
use platform::web::{no_content, ok, read_json, Query};
use platform::{health, ApiError, ApiResult, FieldError};
use serde::{Deserialize, Deserializer, Serialize};
use spin_sdk::http::{Method, Params, Request};

/// `GET /api/users/health`.
pub fn health(_req: Request, _p: Params) -> ApiResult {
    let mut checks = health::sqlite_migrated(crate::store::DB, || crate::store::open().map_err(|e| e.to_string()));
    checks.extend(platform::secrets::health_checks(&["jwt_keys"]));
    Ok(health::respond("users", checks))
}

/// The user `:id` names for `caller` (`me` = the caller).
///
/// Errors: 404 for another user's id unless the caller is an admin —
/// the same answer whether or not the id exists, and the same as holds,
/// bookings, payments and tickets give for another user's records (a
/// non-admin learns nothing about which ids exist); 404 for an admin and
/// a malformed or unknown id.
pub fn target(caller: &Caller, p: &Params) -> ApiResult<String> {
    let id = p.get("id").unwrap_or_default();
    if id == "me" || id == caller.user_id {
        return Ok(caller.user_id.clone());
    }
    if !caller.is_admin() {
        return Err(ApiError::NotFound(format!("no user {id}")));
    }
    if !platform::ids::is_valid("usr", id) {
        return Err(ApiError::NotFound(format!("no user {id}")));
    }
    Ok(id.to_string())
}

fn require_admin(caller: &Caller) -> ApiResult<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins can do this".into()))
    }
}

/// A profile as `GET` and `PATCH /api/users/:id` answer it: the stored
/// [`profiles::Profile`] members plus `email_verified` (bool), read from
/// `auth` on every request (it changes there, when the owner opens the
/// confirmation link).
#[derive(Debug, Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    profile: profiles::Profile,
    /// True once the account proved its address (`auth::verify`).
    email_verified: bool,
}

/// The [`ProfileView`] of `profile`. Errors: 502 when `auth` cannot answer.
fn view(profile: profiles::Profile) -> ApiResult<ProfileView> {
    let email_verified = auth_client::account(&profile.id)?.email_verified;
    Ok(ProfileView { profile, email_verified })
}

/// `GET /api/users/:id`.
pub fn get_profile(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = target(&caller, &p)?;
    ok(&view(profiles::ensure(&store::open()?, &id)?)?)
}

/// Present-and-null vs absent for JSON merge patch (RFC 7396).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// `PATCH /api/users/:id` body: absent = unchanged, `null` = clear.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "nullable")]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    time_zone: Option<Option<String>>,
}

impl ProfilePatch {
    /// The validated column changes, or every field error at once.
    pub fn changes(&self) -> ApiResult<Vec<(&'static str, Option<String>)>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut field = |name: &'static str,
                         value: &Option<Option<String>>,
                         parse: &dyn Fn(&str) -> Result<String, &'static str>| {
            match value {
                None => {}
                Some(None) => out.push((name, None)),
                Some(Some(v)) => match parse(v) {
                    Ok(v) => out.push((name, Some(v))),
                    Err(m) => errors.push(FieldError::new(name, m)),
                },
            }
        };
        field("display_name", &self.display_name, &|v| DisplayName::parse(v).map(DisplayName::into_inner));
        field("phone", &self.phone, &|v| Phone::parse(v).map(Phone::into_inner));
        field("locale", &self.locale, &|v| Locale::parse(v).map(Locale::into_inner));
        field("time_zone", &self.time_zone, &|v| TimeZone::parse(v).map(TimeZone::into_inner));
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// `PATCH /api/users/:id`.
pub fn patch_profile(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = target(&caller, &p)?;
    let patch: ProfilePatch = read_json(&req)?;
    let changes = patch.changes()?;
    let conn = store::open()?;
    profiles::ensure(&conn, &id)?;
    profiles::update(&conn, &id, &changes)?;
    ok(&view(profiles::ensure(&conn, &id)?)?)
}

/// `DELETE /api/users/:id` — erases the account (see crate docs).
pub fn delete_account(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = target(&caller, &p)?;
    auth_client::call(Method::Post, &format!("/accounts/{id}/erase"), None)?.ok()?;
    let conn = store::open()?;
    let erased = saga::contract::AccountErased {
        user_id: id.clone(),
        erased_at: Some(platform::clock::rfc3339(platform::clock::now_ms())),
    };
    let event = platform::db::transaction(&conn, |c| -> ApiResult<saga::Event> {
        settings::clear(c, &id)?;
        profiles::anonymise(c, &id)?;
        Ok(saga::emit(c, "users", &erased)?)
    })?;
    saga::relay_events(&conn, &[event]);
    no_content()
}

/// `POST /api/users/tick` (tick token): retries pending `AccountErased`
/// deliveries; answers the relay report.
pub fn tick(req: Request, _p: Params) -> ApiResult {
    saga::require_tick(&req)?;
    ok(&saga::relay(&store::open()?))
}

/// `GET /api/users/:id/settings`.
pub fn get_settings(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = target(&caller, &p)?;
    let conn = store::open()?;
    profiles::ensure(&conn, &id)?;
    ok(&settings::load(&conn, &id)?)
}

/// `PATCH /api/users/:id/settings`.
pub fn patch_settings(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let id = target(&caller, &p)?;
    let patch: SettingsPatch = read_json(&req)?;
    let conn = store::open()?;
    profiles::ensure(&conn, &id)?;
    settings::apply(&conn, &id, &patch)?;
    ok(&settings::load(&conn, &id)?)
}

#[derive(Debug, Deserialize, Serialize)]
struct RoleChange {
    role: String,
}

/// `PUT /api/users/:id/role` (admin) — forwarded to `auth`.
///
/// Errors: 422 `role` unless customer/organizer/staff; 404; 409
/// `admin-role-fixed` for an admin target; 409 `email-unverified` for
/// organizer or staff while the account has not confirmed its address
/// (see `auth::verify`).
pub fn set_role(req: Request, p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    require_admin(&caller)?;
    let id = target(&caller, &p)?;
    let body: RoleChange = read_json(&req)?;
    let account: Account =
        auth_client::call(Method::Put, &format!("/accounts/{id}/role"), Some(serde_json::json!(body)))?.into_json()?;
    ok(&account)
}

/// One row of the admin list.
#[derive(Debug, Serialize)]
pub struct UserRow {
    id: String,
    email: Option<String>,
    display_name: Option<String>,
    role: Role,
    created_at: String,
    deleted: bool,
    email_verified: bool,
}

/// `GET /api/users` (admin) — accounts from `auth`, names from profiles.
pub fn list(req: Request, _p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    require_admin(&caller)?;
    let q = Query::of(&req);
    let limit = q.limit(50, 100)?;
    let mut query = format!("limit={limit}");
    if let Some(role) = q.get("role") {
        role.parse::<Role>().map_err(|_| ApiError::field("role", "must be customer, organizer, staff or admin"))?;
        query.push_str(&format!("&role={role}"));
    }
    if let Some(cursor) = q.get("cursor") {
        if !platform::ids::is_valid("usr", cursor) {
            return Err(ApiError::field("cursor", "is not a cursor from a previous page"));
        }
        query.push_str(&format!("&cursor={cursor}"));
    }
    let page: AccountPage = auth_client::call(Method::Get, &format!("/accounts?{query}"), None)?.into_json()?;
    let ids: Vec<String> = page.items.iter().map(|a| a.id.clone()).collect();
    let names = profiles::display_names(&store::open()?, &ids)?;
    let items: Vec<UserRow> = page
        .items
        .into_iter()
        .map(|a| UserRow {
            display_name: names.get(&a.id).cloned(),
            id: a.id,
            email: a.email,
            role: a.role,
            created_at: a.created_at,
            deleted: a.erased,
            email_verified: a.email_verified,
        })
        .collect();
    ok(&serde_json::json!({ "items": items, "next_cursor": page.next_cursor }))
}

/// `GET /api/users/internal/:id/contact` — for `notifications` (chained only):
/// where and how to reach a user.
///
/// Answer: `{"user_id", "email", "display_name", "locale", "time_zone",
/// "notifications": {kind: {"email": bool, "in_app": bool}}}`; 404 unknown
/// user; 410 deleted (send nothing).
pub fn contact(_req: Request, p: Params) -> ApiResult {
    let id = p.get("id").unwrap_or_default();
    if !platform::ids::is_valid("usr", id) {
        return Err(ApiError::NotFound(format!("no user {id}")));
    }
    let conn = store::open()?;
    let profile = profiles::ensure(&conn, id)?;
    let s = settings::load(&conn, id)?;
    ok(&serde_json::json!({
        "user_id": profile.id,
        "email": profile.email,
        "display_name": profile.display_name,
        "locale": profile.locale,
        "time_zone": profile.time_zone,
        "notifications": s.notifications,
    }))
}
