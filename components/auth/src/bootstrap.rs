//! The first admin: made from configuration with proof, once.
//!
//! Admins cannot be granted through the API (`PUT .../role` refuses
//! `admin`), so the first one comes from two variables:
//!
//! * `admin_email` — the address of the admin account;
//! * `admin_password` (secret) — its initial password, the proof: only
//!   whoever set the variable knows it.
//!
//! With both set, the first sign-in or registration that reaches `auth`
//! creates that account with role `admin` (the password meeting the same
//! policy as any other, see [`crate::password`]) and records it in
//! `admin_bootstrap`. That happens once per database: once recorded, the
//! variables are never read for this again, so erasing the admin and
//! registering its address anew makes an ordinary customer, and a changed
//! `admin_password` changes nothing (the admin changes their password with
//! `POST /api/auth/password`). The admin's address counts as verified
//! ([`crate::verify`]): the operator configured it. Registering `admin_email` never makes an
//! admin: before the bootstrap the address is taken by it (409), and an
//! account someone registered with the address before the variables were
//! set is never promoted (the bootstrap is skipped with a log line).
//! A database that already has an admin (made before this rule) counts as
//! bootstrapped.
//!
//! This is the "initial admin password" pattern of self-hosted platforms
//! (OWASP ASVS 4.0 §2.3.1: initial secrets are generated or set by the
//! operator, never a guessable registration); the README's production
//! checklist says to set a strong one, or leave both empty for no admin.

use crate::accounts;
use crate::email::Email;
use crate::password::NewPassword;
use platform::auth::Role;
use platform::ApiResult;
use spin_sdk::sqlite3::{Connection, Value};

const DONE: &str = "SELECT user_id FROM admin_bootstrap WHERE id = 1";
const RECORD: &str =
    "INSERT INTO admin_bootstrap (id, user_id, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id";
const ANY_ADMIN: &str = "SELECT id FROM accounts WHERE role = 'admin' ORDER BY id LIMIT 1";

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded before: nothing to do.
    Done,
    /// `admin_email` or `admin_password` is not set: no admin is made.
    NotConfigured,
    /// The variables are unusable or the address is taken; logged, nothing made.
    Skipped(String),
    /// The admin account was made now (`usr_…`).
    Created(String),
    /// An admin existed already and was recorded as the bootstrap (`usr_…`).
    Adopted(String),
}

/// Makes the first admin if it is due (see the module docs); cheap when
/// done (one indexed read). Errors only when the database fails.
pub fn ensure(conn: &Connection, now: i64) -> ApiResult<Outcome> {
    if conn.execute(DONE, &[])?.rows().next().is_some() {
        return Ok(Outcome::Done);
    }
    if let Some(id) = conn.execute(ANY_ADMIN, &[])?.rows().next().and_then(|r| r.get::<&str>("id").map(str::to_string))
    {
        conn.execute(RECORD, &[Value::Text(id.clone()), Value::Integer(now)])?;
        return Ok(Outcome::Adopted(id));
    }
    let (Some(raw_email), Some(raw_password)) =
        (platform::config::get("admin_email"), platform::config::get("admin_password"))
    else {
        return Ok(Outcome::NotConfigured);
    };
    let skip = |why: String| {
        platform::log::warn!("auth: no first admin made: {why}");
        Ok(Outcome::Skipped(why))
    };
    let email = match Email::parse(&raw_email) {
        Ok(e) => e,
        Err(m) => return skip(format!("admin_email {m}")),
    };
    let password = match NewPassword::parse(&raw_password, email.as_str()) {
        Ok(p) => p,
        Err(m) => return skip(format!("admin_password {m}")),
    };
    if accounts::by_email(conn, email.as_str())?.is_some() {
        return skip(format!("{} was registered by someone before the bootstrap; it is not promoted", email.as_str()));
    }
    let hash = password.hash()?;
    let id = platform::ids::new("usr");
    let made = platform::db::transaction(conn, |c| -> ApiResult<bool> {
        if c.execute(RECORD, &[Value::Text(id.clone()), Value::Integer(now)])?.rows.is_empty() {
            return Ok(false); // another request bootstrapped meanwhile
        }
        // verified from the start: the operator configured this address
        if !accounts::insert(c, &id, email.as_str(), &hash, Role::Admin, now, Some(now))? {
            return Err(platform::ApiError::conflict("email-taken", "the admin address was registered meanwhile"));
        }
        Ok(true)
    });
    match made {
        Ok(true) => {
            platform::log::info!("auth: first admin {} made ({id})", email.as_str());
            Ok(Outcome::Created(id))
        }
        Ok(false) => Ok(Outcome::Done),
        Err(platform::ApiError::Conflict { detail, .. }) => skip(detail),
        Err(e) => Err(e),
    }
}

/// True when `email` is the configured `admin_email`.
pub fn is_admin_address(email: &Email) -> bool {
    platform::config::get("admin_email").and_then(|a| Email::parse(&a).ok()).is_some_and(|a| &a == email)
}
