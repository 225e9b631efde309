//! The `accounts` table: named statements and the typed rows they return.
//!
//! Read models ([`Account`], [`AccountSummary`]) are separate from the write
//! commands ([`insert`], [`set_role`], [`set_password`], [`mark_verified`],
//! [`erase`]).

use platform::auth::Role;
use platform::ApiResult;
use spin_sdk::sqlite3::{Connection, Value};

const INSERT: &str =
    "INSERT INTO accounts (id, email, password_hash, role, created_at, updated_at, email_verified_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id";
/// `SELECT <every column of Account> FROM accounts <rest>`.
macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT id, email, password_hash, role, created_at, erased_at, email_verified_ms FROM accounts ", $rest)
    };
}
const BY_EMAIL: &str = select!("WHERE email = ?");
const BY_ID: &str = select!("WHERE id = ?");
const SET_VERIFIED: &str = "UPDATE accounts SET email_verified_ms = ?, updated_at = ? \
     WHERE id = ? AND erased_at IS NULL AND email_verified_ms IS NULL RETURNING id";
const SET_ROLE: &str = "UPDATE accounts SET role = ?, updated_at = ? WHERE id = ? AND erased_at IS NULL AND role <> 'admin' RETURNING role";
const SET_PASSWORD: &str = "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ? AND erased_at IS NULL";
const ERASE: &str = "UPDATE accounts SET email = 'erased:' || id, password_hash = NULL, erased_at = ?, updated_at = ? \
     WHERE id = ? AND erased_at IS NULL";
const PAGE: &str = select!("WHERE id > ? AND (? IS NULL OR role = ?) ORDER BY id LIMIT ?");

/// One account as stored.
#[derive(Debug, Clone)]
pub struct Account {
    /// `usr_…`
    pub id: String,
    /// Normalised e-mail (`erased:<id>` once erased).
    pub email: String,
    /// argon2id PHC string; `None` once erased.
    pub password_hash: Option<String>,
    /// Current role.
    pub role: Role,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Erasure time, Unix ms.
    pub erased_at: Option<i64>,
    /// When the address was proven (a verification link or a completed
    /// password reset; the bootstrap admin at creation), Unix ms; `None`
    /// while unverified.
    pub email_verified_ms: Option<i64>,
}

/// What admins and other components see of an account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountSummary {
    /// `usr_…`
    pub id: String,
    /// Normalised e-mail; `null` once erased.
    pub email: Option<String>,
    /// Current role.
    pub role: Role,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// True once the owner deleted the account.
    pub erased: bool,
    /// True once the account proved it receives mail at its address
    /// ([`crate::verify`]); only verified accounts can be organizers or staff.
    pub email_verified: bool,
}

impl Account {
    /// The summary view of this account.
    pub fn summary(&self) -> AccountSummary {
        AccountSummary {
            id: self.id.clone(),
            email: self.erased_at.is_none().then(|| self.email.clone()),
            role: self.role,
            created_at: platform::clock::rfc3339(self.created_at),
            erased: self.erased_at.is_some(),
            email_verified: self.email_verified(),
        }
    }

    /// True once the address is proven ([`Account::email_verified_ms`]).
    pub fn email_verified(&self) -> bool {
        self.email_verified_ms.is_some()
    }
}

fn role_of(text: Option<&str>) -> Role {
    text.and_then(|r| r.parse().ok()).unwrap_or(Role::Customer)
}

fn account_rows(conn: &Connection, sql: &str, params: &[Value]) -> ApiResult<Vec<Account>> {
    let result = conn.execute(sql, params)?;
    Ok(result
        .rows()
        .map(|r| Account {
            id: r.get::<&str>("id").unwrap_or_default().to_string(),
            email: r.get::<&str>("email").unwrap_or_default().to_string(),
            password_hash: r.get::<&str>("password_hash").map(str::to_string),
            role: role_of(r.get::<&str>("role")),
            created_at: r.get::<i64>("created_at").unwrap_or_default(),
            erased_at: r.get::<i64>("erased_at"),
            email_verified_ms: r.get::<i64>("email_verified_ms"),
        })
        .collect())
}

/// Creates an account, its address proven at `verified_ms` (`None`:
/// unverified, as every registration); `Ok(false)` when the e-mail is
/// already taken.
pub fn insert(
    conn: &Connection,
    id: &str,
    email: &str,
    password_hash: &str,
    role: Role,
    now: i64,
    verified_ms: Option<i64>,
) -> ApiResult<bool> {
    let r = conn.execute(
        INSERT,
        &[
            Value::Text(id.into()),
            Value::Text(email.into()),
            Value::Text(password_hash.into()),
            Value::Text(role.as_str().into()),
            Value::Integer(now),
            Value::Integer(now),
            verified_ms.map(Value::Integer).unwrap_or(Value::Null),
        ],
    )?;
    Ok(!r.rows.is_empty())
}

/// The account with normalised e-mail `email`.
pub fn by_email(conn: &Connection, email: &str) -> ApiResult<Option<Account>> {
    Ok(account_rows(conn, BY_EMAIL, &[Value::Text(email.into())])?.into_iter().next())
}

/// The account `id`.
pub fn by_id(conn: &Connection, id: &str) -> ApiResult<Option<Account>> {
    Ok(account_rows(conn, BY_ID, &[Value::Text(id.into())])?.into_iter().next())
}

/// Sets the role of a live, non-admin account; `Ok(false)` when no such account.
pub fn set_role(conn: &Connection, id: &str, role: Role, now: i64) -> ApiResult<bool> {
    let r =
        conn.execute(SET_ROLE, &[Value::Text(role.as_str().into()), Value::Integer(now), Value::Text(id.into())])?;
    Ok(!r.rows.is_empty())
}

/// Replaces the password hash of a live account.
pub fn set_password(conn: &Connection, id: &str, hash: &str, now: i64) -> ApiResult<()> {
    conn.execute(SET_PASSWORD, &[Value::Text(hash.into()), Value::Integer(now), Value::Text(id.into())])?;
    Ok(())
}

/// Marks the address of live account `id` proven at `now`, unless it was
/// already (the first proof's time stays). `Ok(true)` when this call
/// marked it.
pub fn mark_verified(conn: &Connection, id: &str, now: i64) -> ApiResult<bool> {
    let r = conn.execute(SET_VERIFIED, &[Value::Integer(now), Value::Integer(now), Value::Text(id.into())])?;
    Ok(!r.rows.is_empty())
}

/// Erases the personal data of account `id` (e-mail, password hash); the
/// id and role stay so that records keyed by the id remain consistent.
pub fn erase(conn: &Connection, id: &str, now: i64) -> ApiResult<()> {
    conn.execute(ERASE, &[Value::Integer(now), Value::Integer(now), Value::Text(id.into())])?;
    Ok(())
}

/// Up to `limit` accounts with ids after `after` (keyset pagination by
/// id, which sorts by creation time), optionally only those with `role`.
pub fn page(conn: &Connection, after: &str, role: Option<Role>, limit: u32) -> ApiResult<Vec<Account>> {
    let role = match role {
        Some(r) => Value::Text(r.as_str().into()),
        None => Value::Null,
    };
    let mut rows =
        account_rows(conn, PAGE, &[Value::Text(after.into()), role.clone(), role, Value::Integer(i64::from(limit))])?;
    for a in &mut rows {
        a.password_hash = None;
    }
    Ok(rows)
}
