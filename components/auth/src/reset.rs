//! Password reset by e-mail (issue 13, item 7), after the OWASP Forgot
//! Password Cheat Sheet:
//!
//! * `POST /api/auth/password/forgot` `{"email"}` answers the same 202
//!   whether or not the address has an account (no enumeration), rate
//!   limited per address and per client;
//! * a token is 256 random bits, sent only in the e-mailed link, stored
//!   only as its SHA-256, valid for [`TTL_MS`] (one hour), single use; a
//!   new request replaces the account's earlier tokens;
//! * the e-mail goes through notifications' provider path (its e-mail jobs
//!   retry with backoff) as the saga event `PasswordResetRequested`,
//!   written in the same transaction as the token;
//! * `POST /api/auth/password/reset` `{"token","new_password"}` sets the
//!   password and ends every session of the account (refresh tokens
//!   revoked, token epoch moved on: every access token is refused at once);
//!   it also marks the address verified ([`crate::verify`]): the link
//!   reached it.

use crate::email::Email;
use crate::password::NewPassword;
use crate::ratelimit::{self, Limit};
use crate::sessions::{self, Revocation};
use crate::store;
use crate::{accounts, tokens, PRODUCER};
use platform::{clock, ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Value;

/// How long a reset link works, ms (OWASP: short-lived; the issue: at most an hour).
pub const TTL_MS: i64 = 3_600_000;
/// Reset requests per address: 3 an hour (whether or not it has an account).
pub const FORGOT_PER_ADDRESS: Limit = Limit { name: "forgot-address", max: 3, window_secs: 3600 };
/// Reset requests per client address: 10 an hour.
pub const FORGOT_PER_CLIENT: Limit = Limit { name: "forgot-ip", max: 10, window_secs: 3600 };
/// Reset attempts (token guesses) per client address: 20 per 15 minutes.
pub const RESET_PER_CLIENT: Limit = Limit { name: "reset-ip", max: 20, window_secs: 900 };

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forgot {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    token: String,
    new_password: String,
}

/// The answer to every well-formed request, known address or not.
const SENT: &str = "If an account exists for this address, we sent it a link to choose a new password. The link works for one hour, once.";

/// `POST /api/auth/password/forgot` `{"email"}`: 202 `{"detail"}` (the same
/// for any well-formed address); 422 not an address; 429 + `Retry-After`
/// past [`FORGOT_PER_ADDRESS`] or [`FORGOT_PER_CLIENT`].
pub fn forgot(req: Request, _: Params) -> ApiResult {
    let body: Forgot = platform::web::read_json(&req)?;
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    let now = clock::now_ms();
    let ip = platform::web::client_ip(&req).unwrap_or_else(|| "unknown".into());
    ratelimit::hit(&FORGOT_PER_CLIENT, &ip, now / 1000)?;
    ratelimit::hit(&FORGOT_PER_ADDRESS, email.as_str(), now / 1000)?;
    let conn = store::open()?;
    if let Some(account) = accounts::by_email(&conn, email.as_str())?.filter(|a| a.erased_at.is_none()) {
        let token = tokens::new_refresh_token()?;
        let link = tokens::site_link(&format!("reset-password/{token}"));
        let event = platform::db::transaction(&conn, |c| {
            c.execute(
                "DELETE FROM password_resets WHERE user_id = ? AND used_ms IS NULL",
                &[Value::Text(account.id.clone())],
            )?;
            c.execute(
                "INSERT INTO password_resets (token_hash, user_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
                &[
                    Value::Text(tokens::hash_refresh_token(&token)),
                    Value::Text(account.id.clone()),
                    Value::Integer(now),
                    Value::Integer(now + TTL_MS),
                ],
            )?;
            let payload = saga::contract::PasswordResetRequested {
                user_id: account.id.clone(),
                email: account.email.clone(),
                reset_url: link.clone(),
                expires_at: clock::rfc3339(now + TTL_MS),
            };
            Ok::<_, ApiError>(saga::emit(c, PRODUCER, &payload)?)
        })?;
        saga::relay_events(&conn, &[event]);
    }
    Ok(platform::web::json(202, &serde_json::json!({"detail": SENT})))
}

/// `POST /api/auth/password/reset` `{"token","new_password"}`: 200
/// `{"reset": true}` — the password is set, every session of the account
/// ended, the address marked verified; sign in again. 409 `reset-token-invalid` for a token that is
/// unknown, used or expired (one answer for all three); 422 a password the
/// policy refuses (the token stays usable); 429 past [`RESET_PER_CLIENT`].
pub fn reset(req: Request, _: Params) -> ApiResult {
    let body: Reset = platform::web::read_json(&req)?;
    let now = clock::now_ms();
    let ip = platform::web::client_ip(&req).unwrap_or_else(|| "unknown".into());
    ratelimit::hit(&RESET_PER_CLIENT, &ip, now / 1000)?;
    let invalid = || {
        ApiError::conflict(
            "reset-token-invalid",
            "this reset link is not valid any more (used, expired or mistyped); ask for a new one",
        )
    };
    if body.token.is_empty() || body.token.len() > 100 {
        return Err(invalid());
    }
    let hash = tokens::hash_refresh_token(&body.token);
    let conn = store::open()?;
    let found = conn.execute(
        "SELECT user_id FROM password_resets WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ?",
        &[Value::Text(hash.clone()), Value::Integer(now)],
    )?;
    let user_id = found.rows().next().and_then(|r| r.get::<&str>("user_id").map(str::to_string)).ok_or_else(invalid)?;
    let account = accounts::by_id(&conn, &user_id)?.filter(|a| a.erased_at.is_none()).ok_or_else(invalid)?;
    // the policy first: a refused password leaves the link usable
    let new = NewPassword::parse(&body.new_password, &account.email).map_err(|m| ApiError::field("new_password", m))?;
    let password_hash = new.hash()?;
    let used = platform::db::transaction(&conn, |c| {
        let won = c.execute(
            "UPDATE password_resets SET used_ms = ? WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ? RETURNING user_id",
            &[Value::Integer(now), Value::Text(hash.clone()), Value::Integer(now)],
        )?;
        if won.rows.is_empty() {
            return Ok::<_, ApiError>(false);
        }
        accounts::set_password(c, &account.id, &password_hash, now)?;
        accounts::mark_verified(c, &account.id, now)?;
        sessions::revoke_user(c, &account.id, Revocation::PasswordChange, now)?;
        Ok(true)
    })?;
    if !used {
        return Err(invalid());
    }
    platform::auth::bump_epoch(&account.id)?;
    platform::web::ok(&serde_json::json!({"reset": true}))
}

/// `POST /api/auth/tick` (tick token): retries auth's saga deliveries (the
/// reset and verification e-mails' events) that failed on the first try.
pub fn tick(req: Request, _: Params) -> ApiResult {
    saga::require_tick(&req)?;
    let conn = store::open()?;
    let relay = saga::relay(&conn);
    platform::web::ok(&serde_json::json!({"relay": relay}))
}
