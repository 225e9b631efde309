//! The `profiles` table: read model [`Profile`] and write commands.
//!
//! A profile comes to exist lazily: the first request that needs it
//! ([`ensure`]) asks `auth` for the account over service chaining and
//! inserts the row (`ON CONFLICT DO NOTHING`, so concurrent first requests
//! create it once). Registration therefore never depends on `users` being up.

use crate::auth_client;
use platform::{clock, ApiError, ApiResult};
use serde::Serialize;
use spin_sdk::sqlite3::{Connection, Value};

const SELECT: &str =
    "SELECT user_id, email, display_name, phone, locale, time_zone, created_at, updated_at, deleted_at \
     FROM profiles WHERE user_id = ?";
const CREATE: &str = "INSERT INTO profiles (user_id, email, created_at, updated_at) VALUES (?, ?, ?, ?) \
     ON CONFLICT (user_id) DO NOTHING";
const TOMBSTONE: &str = "INSERT INTO profiles (user_id, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?) \
     ON CONFLICT (user_id) DO UPDATE SET email = NULL, display_name = NULL, phone = NULL, locale = NULL, \
       time_zone = NULL, updated_at = excluded.updated_at, deleted_at = COALESCE(profiles.deleted_at, excluded.deleted_at)";
const NAMES: &str = "SELECT user_id, display_name FROM profiles WHERE user_id IN (SELECT value FROM json_each(?))";

/// A user's profile as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// `usr_…`
    pub id: String,
    /// The account e-mail (read-only here).
    pub email: Option<String>,
    /// Name shown on tickets and in the site; `null` when unset.
    pub display_name: Option<String>,
    /// E.164 phone number; `null` when unset.
    pub phone: Option<String>,
    /// BCP 47 language tag; `null` = the site default.
    pub locale: Option<String>,
    /// IANA time zone; `null` = each event's own zone.
    pub time_zone: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    #[serde(skip)]
    deleted: bool,
}

fn load(conn: &Connection, user_id: &str) -> ApiResult<Option<Profile>> {
    let r = conn.execute(SELECT, &[Value::Text(user_id.into())])?;
    let profile = r.rows().next().map(|row| {
        let text = |c: &str| row.get::<&str>(c).map(str::to_string);
        Profile {
            id: text("user_id").unwrap_or_default(),
            email: text("email"),
            display_name: text("display_name"),
            phone: text("phone"),
            locale: text("locale"),
            time_zone: text("time_zone"),
            created_at: clock::rfc3339(row.get::<i64>("created_at").unwrap_or_default()),
            updated_at: clock::rfc3339(row.get::<i64>("updated_at").unwrap_or_default()),
            deleted: row.get::<i64>("deleted_at").is_some(),
        }
    });
    Ok(profile)
}

fn gone() -> ApiError {
    ApiError::Gone("this account was deleted".into())
}

/// The live profile of `user_id`, created from the auth account on first use.
///
/// Errors: 404 no such account; 410 the account was deleted; 502 auth unreachable.
pub fn ensure(conn: &Connection, user_id: &str) -> ApiResult<Profile> {
    if let Some(p) = load(conn, user_id)? {
        return if p.deleted { Err(gone()) } else { Ok(p) };
    }
    let account = auth_client::account(user_id)?;
    if account.erased {
        return Err(gone());
    }
    let now = clock::now_ms();
    conn.execute(
        CREATE,
        &[
            Value::Text(user_id.into()),
            account.email.map(Value::Text).unwrap_or(Value::Null),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )?;
    match load(conn, user_id)? {
        Some(p) if !p.deleted => Ok(p),
        Some(_) => Err(gone()),
        None => Err(ApiError::Internal(anyhow::anyhow!("profile {user_id} vanished after insert"))),
    }
}

/// Sets the given columns (`(column, value)`, value `None` = clear) on a
/// live profile. Column names come from code, never from the request.
pub fn update(conn: &Connection, user_id: &str, changes: &[(&'static str, Option<String>)]) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let sets: Vec<String> = changes.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let sql =
        format!("UPDATE profiles SET {}, updated_at = ? WHERE user_id = ? AND deleted_at IS NULL", sets.join(", "));
    let mut params: Vec<Value> =
        changes.iter().map(|(_, v)| v.clone().map(Value::Text).unwrap_or(Value::Null)).collect();
    params.push(Value::Integer(clock::now_ms()));
    params.push(Value::Text(user_id.into()));
    conn.execute(&sql, &params)?;
    Ok(())
}

/// Blanks every personal column of `user_id` and marks the profile
/// deleted (creating a tombstone when there was no profile yet).
pub fn anonymise(conn: &Connection, user_id: &str) -> ApiResult<()> {
    let now = clock::now_ms();
    conn.execute(
        TOMBSTONE,
        &[Value::Text(user_id.into()), Value::Integer(now), Value::Integer(now), Value::Integer(now)],
    )?;
    Ok(())
}

/// Display names of the given users (those that have one).
pub fn display_names(conn: &Connection, ids: &[String]) -> ApiResult<std::collections::HashMap<String, String>> {
    let list = serde_json::to_string(ids).map_err(anyhow::Error::from)?;
    let r = conn.execute(NAMES, &[Value::Text(list)])?;
    Ok(r.rows()
        .filter_map(|row| Some((row.get::<&str>("user_id")?.to_string(), row.get::<&str>("display_name")?.to_string())))
        .collect())
}
