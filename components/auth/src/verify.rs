//! E-mail verification of new accounts (issue 13, item 7, second half).
//!
//! An account proves it receives mail at its address by opening a link
//! sent there; `accounts.email_verified_ms` records when.
//!
//! * Registration issues the first link ([`issue`], in the same
//!   transaction as the account) as the saga event
//!   `EmailVerificationRequested`; notifications sends it as a
//!   transactional e-mail (whatever the user's settings say), with its
//!   e-mail jobs' retries.
//! * A link carries a 256-bit random token, stored only as its SHA-256,
//!   valid for [`TTL_MS`] (24 hours) and used once: the OWASP cheat sheets'
//!   rule for e-mailed tokens (Forgot Password Cheat Sheet: random, single
//!   use, stored hashed, expiring). No standard fixes the lifetime of a
//!   sign-up confirmation link; a day is common practice, longer than a
//!   password reset's hour because the link grants no access to the
//!   account and people open sign-up mail later.
//! * `POST /api/auth/email/verify` `{"token"}` ([`verify`]) marks the
//!   account verified. Opening a used link again while it is valid answers
//!   the same 200 when the account is verified (a double click; a mail
//!   scanner that opened the link first); an unknown or expired token
//!   answers 409 `verification-token-invalid`. Two uses at once both
//!   answer 200, and the account is marked verified once (one conditional
//!   UPDATE uses the token; the verified time is set only when unset).
//! * `POST /api/auth/email/verify/resend` (bearer, [`resend`]) sends a new
//!   link, replacing the account's unused earlier ones; at most
//!   [`RESEND_PER_ACCOUNT`] an hour; 409 `email-already-verified`.
//! * A completed password reset marks the address verified too: the
//!   reset link reached it ([`crate::reset::reset`]); so does the first
//!   admin's bootstrap (the operator configured that address).
//!
//! What an unverified account may do: everything a customer does —
//! browse, hold, book, pay, receive its tickets (they go to the buyer's
//! address anyway, and refusing checkout in the middle of an on-sale would
//! lose the sale). It may not be made an organizer or staff member: those
//! roles handle attendees' data and money, and their password resets must
//! reach a proven address (`PUT /api/auth/internal/accounts/:id/role`
//! answers 409 `email-unverified`, [`crate::internal::set_role`]).
//! Roles granted before this rule stay as they are.

use crate::ratelimit::{self, Limit};
use crate::store;
use crate::{accounts, tokens, PRODUCER};
use platform::{clock, ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

/// How long a verification link works, ms (24 hours; see the module docs).
pub const TTL_MS: i64 = 24 * 3_600_000;
/// Verification attempts (token guesses, repeated clicks) per client
/// address: 60 per 15 minutes — the reset links' limit tripled, since
/// people behind one address (a venue's wifi, a shared NAT) verify at once
/// after an on-sale's registrations.
pub const VERIFY_PER_CLIENT: Limit = Limit { name: "verify-ip", max: 60, window_secs: 900 };
/// New links per account: 3 an hour (the first, sent at registration, not counted).
pub const RESEND_PER_ACCOUNT: Limit = Limit { name: "verify-resend", max: 3, window_secs: 3600 };

const REPLACE_UNUSED: &str = "DELETE FROM email_verifications WHERE user_id = ? AND used_ms IS NULL";
const INSERT: &str =
    "INSERT INTO email_verifications (token_hash, user_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)";
const FIND: &str = "SELECT user_id FROM email_verifications WHERE token_hash = ? AND expires_ms > ?";
const USE: &str = "UPDATE email_verifications SET used_ms = ? \
     WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ? RETURNING user_id";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    token: String,
}

/// Makes a new verification link for account `user_id` at `email`,
/// replacing its unused earlier ones, and emits `EmailVerificationRequested`
/// `{user_id, email, verify_url, expires_at}`; the link is
/// `{public_base_url}/#/verify-email/{token}`. Run it inside the
/// transaction of the change that asks for it, then relay the event.
pub fn issue(conn: &Connection, user_id: &str, email: &str, now: i64) -> ApiResult<saga::Event> {
    let token = tokens::new_refresh_token()?;
    conn.execute(REPLACE_UNUSED, &[Value::Text(user_id.into())])?;
    conn.execute(
        INSERT,
        &[
            Value::Text(tokens::hash_refresh_token(&token)),
            Value::Text(user_id.into()),
            Value::Integer(now),
            Value::Integer(now + TTL_MS),
        ],
    )?;
    let payload = saga::contract::EmailVerificationRequested {
        user_id: user_id.to_string(),
        email: email.to_string(),
        verify_url: tokens::site_link(&format!("verify-email/{token}")),
        expires_at: clock::rfc3339(now + TTL_MS),
    };
    Ok(saga::emit(conn, PRODUCER, &payload)?)
}

/// `POST /api/auth/email/verify` `{"token"}` (whoever holds the link):
/// 200 `{"email_verified": true}`, the account marked verified. 409
/// `verification-token-invalid` for a token that is unknown, expired, or
/// replaced by a newer link, or whose account was erased; 422 a body that
/// is not `{"token": "<text>"}`; 429 + `Retry-After` past
/// [`VERIFY_PER_CLIENT`]. See the module docs for a used token.
pub fn verify(req: Request, _: Params) -> ApiResult {
    let body: Verify = platform::web::read_json(&req)?;
    let now = clock::now_ms();
    let ip = platform::web::client_ip(&req).unwrap_or_else(|| "unknown".into());
    ratelimit::hit(&VERIFY_PER_CLIENT, &ip, now / 1000)?;
    let invalid = || {
        ApiError::conflict(
            "verification-token-invalid",
            "this confirmation link is not valid (expired, replaced by a newer one, or mistyped); sign in and ask for a new one",
        )
    };
    if body.token.is_empty() || body.token.len() > 100 {
        return Err(invalid());
    }
    let hash = tokens::hash_refresh_token(&body.token);
    let conn = store::open()?;
    let found = conn.execute(FIND, &[Value::Text(hash.clone()), Value::Integer(now)])?;
    let user_id = found.rows().next().and_then(|r| r.get::<&str>("user_id").map(str::to_string)).ok_or_else(invalid)?;
    platform::db::transaction(&conn, |c| -> ApiResult<()> {
        // a used token matches nothing here; whoever used it marked the account
        if !c.execute(USE, &[Value::Integer(now), Value::Text(hash.clone()), Value::Integer(now)])?.rows.is_empty() {
            accounts::mark_verified(c, &user_id, now)?;
        }
        Ok(())
    })?;
    let verified = accounts::by_id(&conn, &user_id)?.is_some_and(|a| a.erased_at.is_none() && a.email_verified());
    if !verified {
        return Err(invalid());
    }
    platform::web::ok(&serde_json::json!({"email_verified": true}))
}

/// `POST /api/auth/email/verify/resend` (bearer): 202 `{"detail"}` — a new
/// link is e-mailed to the caller's address and earlier unused links stop
/// working. 409 `email-already-verified`; 429 + `Retry-After` past
/// [`RESEND_PER_ACCOUNT`]; 401 without a valid token.
pub fn resend(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    let account = accounts::by_id(&conn, &caller.user_id)?
        .filter(|a| a.erased_at.is_none())
        .ok_or_else(|| ApiError::Unauthorized("this account no longer exists".into()))?;
    if account.email_verified() {
        return Err(ApiError::conflict("email-already-verified", "this account's e-mail address is already confirmed"));
    }
    let now = clock::now_ms();
    ratelimit::hit(&RESEND_PER_ACCOUNT, &account.id, now / 1000)?;
    let event = platform::db::transaction(&conn, |c| issue(c, &account.id, &account.email, now))?;
    saga::relay_events(&conn, &[event]);
    let detail = format!(
        "We sent a new confirmation link to {}. It works for 24 hours; earlier links no longer work.",
        account.email
    );
    Ok(platform::web::json(202, &serde_json::json!({"detail": detail})))
}
