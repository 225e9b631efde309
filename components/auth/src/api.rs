//! Public handlers: registration, sign-in, refresh, logout, password change.

use crate::email::Email;
use crate::password::{self, NewPassword};
use crate::ratelimit::{self, LOGIN_PER_IP, PASSWORD_CHANGE};
use crate::sessions::{self, Revocation};
use crate::store;
use crate::{accounts, bootstrap, tokens, verify};
use platform::auth::Role;
use platform::web::{no_content, ok, read_json};
use platform::{clock, health, ApiError, ApiResult, FieldError};
use serde::Deserialize;
use spin_sdk::http::{Params, Request};

/// `GET /api/auth/health`.
pub fn health(_req: Request, _p: Params) -> ApiResult {
    let mut checks = health::sqlite_migrated(crate::store::DB, || crate::store::open().map_err(|e| e.to_string()));
    checks.push(health::kv(ratelimit::STORE));
    checks.extend(platform::secrets::health_checks(&["jwt_keys"]));
    Ok(health::respond("auth", checks))
}

/// Body of register and login.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    /// E-mail address (any case, surrounding spaces ignored).
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /api/auth/register` — creates a customer account and signs it in.
/// The account starts unverified; its first confirmation link is made and
/// its `EmailVerificationRequested` event written in the same transaction
/// as the account, then relayed at once ([`verify::issue`]).
/// Registering never makes an admin, whatever the address: the first admin
/// comes from [`crate::bootstrap`] (run first, so a configured
/// `admin_email` is already taken by it: 409).
///
/// Rate limit (counted after validation, before the password is hashed):
/// per client IP, see [`ratelimit::register_per_ip`]. Errors: 422
/// `email`/`password` field errors (both reported at once); 429 with
/// `Retry-After`; 409 `/problems/email-taken`.
pub fn register(req: Request, _p: Params) -> ApiResult {
    tokens::keys()?;
    let body: Credentials = read_json(&req)?;
    let email = Email::parse(&body.email);
    let pw = NewPassword::parse(&body.password, body.email.trim());
    let (email, pw) = match (email, pw) {
        (Ok(e), Ok(p)) => (e, p),
        (e, p) => {
            let mut errors = Vec::new();
            if let Err(m) = e {
                errors.push(FieldError::new("email", m));
            }
            if let Err(m) = p {
                errors.push(FieldError::new("password", m));
            }
            return Err(ApiError::Validation(errors));
        }
    };
    let now = clock::now_ms();
    let ip = platform::web::client_ip(&req).unwrap_or_else(|| "unknown".into());
    ratelimit::hit(&ratelimit::register_per_ip(), &ip, now / 1000)?;
    let conn = store::open()?;
    bootstrap::ensure(&conn, now)?;
    if bootstrap::is_admin_address(&email) {
        platform::log::warn!(
            "auth: {} registered as a customer: admins come from the admin_email/admin_password bootstrap only",
            email.as_str()
        );
    }
    let hash = pw.hash()?;
    let role = Role::Customer;
    let id = platform::ids::new("usr");
    let event = platform::db::transaction(&conn, |c| {
        if !accounts::insert(c, &id, email.as_str(), &hash, role, now, None)? {
            return Err(ApiError::conflict("email-taken", "an account with this e-mail address already exists"));
        }
        verify::issue(c, &id, email.as_str(), now)
    })?;
    saga::relay_events(&conn, &[event]);
    let refresh = sessions::start(&conn, &id, now)?;
    let user = tokens::SignedInUser { id: id.clone(), email: email.as_str().into(), role, email_verified: false };
    tokens::answer(201, Some(&format!("/api/users/{id}")), &tokens::response(user, refresh)?)
}

/// `POST /api/auth/login` — checks the password and starts a new session.
///
/// Rate limits (counted before the password is checked): per client IP,
/// and a growing delay after repeated wrong passwords for this account
/// from this client ([`ratelimit::login_delay`]; never a lock-out of the
/// account for everyone). Errors: 401 for an unknown e-mail or a wrong
/// password alike; 429 with `Retry-After`.
pub fn login(req: Request, _p: Params) -> ApiResult {
    tokens::keys()?;
    let body: Credentials = read_json(&req)?;
    let now = clock::now_ms();
    let ip = platform::web::client_ip(&req).unwrap_or_else(|| "unknown".into());
    ratelimit::hit(&LOGIN_PER_IP, &ip, now / 1000)?;
    let email_key = body.email.trim().to_lowercase();
    ratelimit::login_delay(&email_key, &ip, now)?;
    let conn = store::open()?;
    bootstrap::ensure(&conn, now)?;
    let account = accounts::by_email(&conn, &email_key)?.filter(|a| a.erased_at.is_none());
    let stored = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let password_ok = body.password.chars().count() <= password::MAX_CHARS && password::verify(&body.password, stored);
    let Some(account) = account.filter(|_| password_ok) else {
        ratelimit::login_failed(&email_key, &ip, now)?;
        return Err(ApiError::Unauthorized("the e-mail address or password is wrong".into()));
    };
    ratelimit::login_succeeded(&email_key, &ip)?;
    let refresh = sessions::start(&conn, &account.id, now)?;
    tokens::answer(200, None, &tokens::response((&account).into(), refresh)?)
}

/// Body of refresh and logout.
#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    /// The opaque refresh token; when absent (or the body is empty), the
    /// [`tokens::REFRESH_COOKIE`] cookie's.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The refresh token of a refresh or logout request: the body's
/// `refresh_token` (API clients), else the [`tokens::REFRESH_COOKIE`]
/// cookie (browsers). An empty body is allowed. 401 when neither is there.
fn presented_refresh_token(req: &Request) -> ApiResult<String> {
    let blank = req.body().iter().all(|b| b.is_ascii_whitespace());
    let body: RefreshRequest = if blank { RefreshRequest { refresh_token: None } } else { read_json(req)? };
    body.refresh_token
        .filter(|t| !t.is_empty())
        .or_else(|| platform::web::cookie(req, tokens::REFRESH_COOKIE).filter(|t| !t.is_empty()).map(str::to_string))
        .ok_or_else(|| ApiError::Unauthorized("no refresh token (neither refresh_token nor the sign-in cookie)".into()))
}

/// `POST /api/auth/refresh` — rotates the refresh token and issues a new
/// access token carrying the account's current role. The token comes from
/// the body or the refresh cookie ([`presented_refresh_token`]); the new
/// one goes back in both. See [`sessions`] for reuse detection and the
/// concurrent-refresh rule.
pub fn refresh(req: Request, _p: Params) -> ApiResult {
    tokens::keys()?;
    let presented = presented_refresh_token(&req)?;
    let conn = store::open()?;
    let now = clock::now_ms();
    let (user_id, next) = sessions::rotate(&conn, &presented, now)?;
    let account = accounts::by_id(&conn, &user_id)?
        .filter(|a| a.erased_at.is_none())
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    tokens::answer(200, None, &tokens::response((&account).into(), next)?)
}

/// `POST /api/auth/logout` — ends the sign-in the refresh token (body or
/// cookie) belongs to and clears the cookie. Always 204 (an unknown token
/// has nothing left to end).
pub fn logout(req: Request, _p: Params) -> ApiResult {
    let presented = presented_refresh_token(&req).ok();
    if let Some(token) = presented {
        let conn = store::open()?;
        sessions::revoke_by_token(&conn, &token, clock::now_ms())?;
    }
    signed_out()
}

/// 204 that also removes the refresh cookie.
fn signed_out() -> ApiResult {
    let mut r = no_content()?;
    r.set_header("set-cookie", tokens::cleared_refresh_cookie());
    Ok(r)
}

/// `POST /api/auth/logout-all` — ends every sign-in of the caller: the
/// refresh tokens are revoked and the account's token epoch moves on, so
/// every access token already issued (this one included) stops working at
/// once ([`platform::auth::bump_epoch`]).
pub fn logout_all(req: Request, _p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    sessions::revoke_user(&conn, &caller.user_id, Revocation::LogoutAll, clock::now_ms())?;
    platform::auth::bump_epoch(&caller.user_id)?;
    signed_out()
}

/// Body of a password change.
#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// The new password (same policy as registration).
    pub new_password: String,
}

/// `POST /api/auth/password` — changes the caller's password, ends every
/// session (refresh tokens revoked, every access token refused from now
/// on through the token epoch), and answers with the tokens of a fresh one
/// (so the device that changed it stays signed in and every other device
/// is signed out).
///
/// Errors: 422 `current_password` (wrong) or `new_password` (policy); 429.
pub fn change_password(req: Request, _p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let body: PasswordChange = read_json(&req)?;
    let now = clock::now_ms();
    ratelimit::hit(&PASSWORD_CHANGE, &caller.user_id, now / 1000)?;
    let conn = store::open()?;
    let account = accounts::by_id(&conn, &caller.user_id)?
        .filter(|a| a.erased_at.is_none())
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    if !password::verify(&body.current_password, account.password_hash.as_deref()) {
        return Err(ApiError::field("current_password", "is wrong"));
    }
    let new = NewPassword::parse(&body.new_password, &account.email).map_err(|m| ApiError::field("new_password", m))?;
    let hash = new.hash()?;
    accounts::set_password(&conn, &account.id, &hash, now)?;
    sessions::revoke_user(&conn, &account.id, Revocation::PasswordChange, now)?;
    platform::auth::bump_epoch(&account.id)?;
    let refresh = sessions::start(&conn, &account.id, now)?;
    tokens::answer(200, None, &tokens::response((&account).into(), refresh)?)
}

/// `GET /api/auth/session` — what the presented access token says, and
/// whether the account's address is verified now:
/// `{"user_id": "usr_…", "role": "customer", "email_verified": false}`
/// (`role` is the token's; a changed role arrives with the next refresh;
/// `email_verified` is false for an account this database does not hold
/// live). 401 for any invalid token.
pub fn session(req: Request, _p: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let verified =
        accounts::by_id(&store::open()?, &caller.user_id)?.is_some_and(|a| a.erased_at.is_none() && a.email_verified());
    ok(&serde_json::json!({ "user_id": caller.user_id, "role": caller.role, "email_verified": verified }))
}
