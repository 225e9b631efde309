//! Refresh-token families: one per sign-in, rotated on every use.
//!
//! Rotation is decided by ONE conditional statement ([`ROTATE`]): it marks
//! the presented token rotated only if it is unrotated, unexpired and its
//! family is live, and returns the family only when it did. Among any number
//! of concurrent refreshes with one token exactly one sees a row back and
//! issues the successor; the others fall through to [`Outcome`] analysis.
//!
//! Reuse detection. A presented token that was already rotated normally
//! means it was copied: the whole family is revoked (RFC 9700 §4.14.2,
//! OAuth 2.0 Security BCP). One exception, so that a legitimate client that
//! fires several refreshes at once (two tabs, a retry after a timeout) is not
//! logged out by its own race: when the token was rotated less than
//! [`RACE_GRACE_MS`] ago AND its successor has not been used yet, the loser
//! gets `409 refresh-race` with no new token and the family stays live.
//! This gives an attacker nothing (no token is issued to the loser), and any
//! later presentation of the old token — after the grace period, or once
//! the successor itself was rotated — revokes the family.

use crate::tokens::{hash_refresh_token, new_refresh_token, REFRESH_TTL_MS};
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};

/// How long after a rotation a second presentation of the same token counts
/// as a concurrent race of the same client rather than reuse, milliseconds.
pub const RACE_GRACE_MS: i64 = 5_000;

const NEW_FAMILY: &str = "INSERT INTO refresh_families (id, user_id, created_at) VALUES (?, ?, ?)";
const NEW_TOKEN: &str =
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)";
const ROTATE: &str = "UPDATE refresh_tokens SET rotated_at = ?, replaced_by = ? \
     WHERE token_hash = ? AND rotated_at IS NULL AND expires_at > ? \
       AND family_id IN (SELECT id FROM refresh_families WHERE revoked_at IS NULL) \
     RETURNING family_id, user_id";
const INSPECT: &str = "SELECT t.family_id, t.rotated_at, t.expires_at, f.revoked_at, \
       (SELECT s.rotated_at IS NULL FROM refresh_tokens s WHERE s.token_hash = t.replaced_by) AS successor_live \
     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = ?";
const REVOKE_FAMILY: &str =
    "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL";
const REVOKE_USER: &str =
    "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL";
const FAMILY_OF: &str = "SELECT family_id FROM refresh_tokens WHERE token_hash = ?";
const DROP_USER_TOKENS: &str = "DELETE FROM refresh_tokens WHERE user_id = ?";

/// Why a family was revoked (stored in `revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The owner logged out of this session.
    Logout,
    /// The owner logged out everywhere.
    LogoutAll,
    /// The password changed.
    PasswordChange,
    /// A rotated refresh token was presented again.
    Reuse,
    /// The account was erased.
    Erased,
}

impl Revocation {
    fn as_str(self) -> &'static str {
        match self {
            Revocation::Logout => "logout",
            Revocation::LogoutAll => "logout-all",
            Revocation::PasswordChange => "password-change",
            Revocation::Reuse => "reuse",
            Revocation::Erased => "erased",
        }
    }
}

/// Starts a new family for `user_id`; returns its first refresh token.
pub fn start(conn: &Connection, user_id: &str, now: i64) -> ApiResult<String> {
    let family = platform::ids::new("rtf");
    conn.execute(NEW_FAMILY, &[Value::Text(family.clone()), Value::Text(user_id.into()), Value::Integer(now)])?;
    add_token(conn, &family, user_id, now)
}

fn add_token(conn: &Connection, family: &str, user_id: &str, now: i64) -> ApiResult<String> {
    let token = new_refresh_token()?;
    insert_token(conn, &hash_refresh_token(&token), family, user_id, now)?;
    Ok(token)
}

fn insert_token(conn: &Connection, hash: &str, family: &str, user_id: &str, now: i64) -> ApiResult<()> {
    conn.execute(
        NEW_TOKEN,
        &[
            Value::Text(hash.into()),
            Value::Text(family.into()),
            Value::Text(user_id.into()),
            Value::Integer(now),
            Value::Integer(now + REFRESH_TTL_MS),
        ],
    )?;
    Ok(())
}

/// What a refresh attempt that lost (or never had) the rotation means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Unknown token.
    Unknown,
    /// Its family was revoked earlier.
    Revoked,
    /// Unrotated but past its 30 days.
    Expired,
    /// Rotated moments ago by a concurrent request; successor unused.
    Race,
    /// Rotated earlier: reuse of an old token; the family must be revoked.
    Reuse(String),
}

/// The stored state of a presented token that did not rotate.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// Its family.
    pub family: String,
    /// When it was rotated, Unix ms.
    pub rotated_at: Option<i64>,
    /// When it expires, Unix ms.
    pub expires_at: i64,
    /// When its family was revoked, Unix ms.
    pub revoked_at: Option<i64>,
    /// Whether its successor is still unrotated (`None`: not written yet).
    pub successor_live: Option<bool>,
}

/// Classifies a failed rotation (pure: the inspected row in, the verdict out).
pub fn classify(row: Option<Inspected>, now: i64) -> Outcome {
    let Some(Inspected { family, rotated_at, expires_at, revoked_at, successor_live }) = row else {
        return Outcome::Unknown;
    };
    if revoked_at.is_some() {
        return Outcome::Revoked;
    }
    match rotated_at {
        None if expires_at <= now => Outcome::Expired,
        // Unrotated and live yet the UPDATE matched nothing: the family was
        // revoked between the two statements. Treat as revoked.
        None => Outcome::Revoked,
        // A successor still being written (None) counts as unused.
        Some(at) if now - at <= RACE_GRACE_MS && successor_live != Some(false) => Outcome::Race,
        Some(_) => Outcome::Reuse(family),
    }
}

/// Rotates refresh token `presented`: on success returns the owner's id
/// and the new refresh token.
///
/// Errors: 401 `unauthorized` for unknown, expired, revoked or reused
/// tokens (reuse also revokes the family); 409 `refresh-race` for the
/// losers of a concurrent refresh (see module docs).
pub fn rotate(conn: &Connection, presented: &str, now: i64) -> ApiResult<(String, String)> {
    let old_hash = hash_refresh_token(presented);
    let next = new_refresh_token()?;
    let next_hash = hash_refresh_token(&next);
    let won = conn.execute(
        ROTATE,
        &[Value::Integer(now), Value::Text(next_hash.clone()), Value::Text(old_hash.clone()), Value::Integer(now)],
    )?;
    if let Some(row) = won.rows().next() {
        let family = row.get::<&str>("family_id").unwrap_or_default().to_string();
        let user_id = row.get::<&str>("user_id").unwrap_or_default().to_string();
        insert_token(conn, &next_hash, &family, &user_id, now)?;
        return Ok((user_id, next));
    }
    let inspected = conn.execute(INSPECT, &[Value::Text(old_hash)])?;
    let row = inspected.rows().next().map(|r| Inspected {
        family: r.get::<&str>("family_id").unwrap_or_default().to_string(),
        rotated_at: r.get::<i64>("rotated_at"),
        expires_at: r.get::<i64>("expires_at").unwrap_or_default(),
        revoked_at: r.get::<i64>("revoked_at"),
        successor_live: r.get::<bool>("successor_live"),
    });
    match classify(row, now) {
        Outcome::Unknown => Err(ApiError::Unauthorized("the refresh token is not valid".into())),
        Outcome::Revoked => Err(ApiError::Unauthorized("this session has ended; sign in again".into())),
        Outcome::Expired => Err(ApiError::Unauthorized("the refresh token has expired; sign in again".into())),
        Outcome::Race => Err(ApiError::conflict(
            "refresh-race",
            "this refresh token was just rotated by a concurrent request; use the token that request received",
        )),
        Outcome::Reuse(family) => {
            revoke_family(conn, &family, Revocation::Reuse, now)?;
            platform::log::warn!("refresh token reuse detected; family {family} revoked");
            Err(ApiError::Unauthorized(
                "this refresh token was already used; every session of this sign-in was ended".into(),
            ))
        }
    }
}

/// Revokes family `family` (no-op when already revoked).
pub fn revoke_family(conn: &Connection, family: &str, why: Revocation, now: i64) -> ApiResult<()> {
    conn.execute(REVOKE_FAMILY, &[Value::Integer(now), Value::Text(why.as_str().into()), Value::Text(family.into())])?;
    Ok(())
}

/// Revokes the family that refresh token `presented` belongs to, if any.
pub fn revoke_by_token(conn: &Connection, presented: &str, now: i64) -> ApiResult<()> {
    let r = conn.execute(FAMILY_OF, &[Value::Text(hash_refresh_token(presented))])?;
    if let Some(family) = r.rows().next().and_then(|row| row.get::<&str>("family_id").map(str::to_string)) {
        revoke_family(conn, &family, Revocation::Logout, now)?;
    }
    Ok(())
}

/// Revokes every live family of `user_id`.
pub fn revoke_user(conn: &Connection, user_id: &str, why: Revocation, now: i64) -> ApiResult<()> {
    conn.execute(REVOKE_USER, &[Value::Integer(now), Value::Text(why.as_str().into()), Value::Text(user_id.into())])?;
    Ok(())
}

/// Deletes every stored refresh-token hash of `user_id` (account erasure).
pub fn drop_user_tokens(conn: &Connection, user_id: &str) -> ApiResult<()> {
    conn.execute(DROP_USER_TOKENS, &[Value::Text(user_id.into())])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rotated_at: Option<i64>, revoked_at: Option<i64>, successor_live: Option<bool>) -> Option<Inspected> {
        Some(Inspected { family: "rtf_1".into(), rotated_at, expires_at: 10_000_000, revoked_at, successor_live })
    }

    #[test]
    fn classification() {
        let now = 1_000_000;
        assert_eq!(classify(None, now), Outcome::Unknown);
        assert_eq!(classify(row(None, Some(1), None), now), Outcome::Revoked);
        assert_eq!(classify(row(Some(now - 10), Some(1), Some(true)), now), Outcome::Revoked);
        let expired = Inspected {
            family: "f".into(),
            rotated_at: None,
            expires_at: now - 1,
            revoked_at: None,
            successor_live: None,
        };
        assert_eq!(classify(Some(expired), now), Outcome::Expired);
        assert_eq!(classify(row(Some(now - 100), None, Some(true)), now), Outcome::Race);
        assert_eq!(classify(row(Some(now - 100), None, None), now), Outcome::Race, "successor still being written");
        assert_eq!(
            classify(row(Some(now - 100), None, Some(false)), now),
            Outcome::Reuse("rtf_1".into()),
            "successor used"
        );
        assert_eq!(classify(row(Some(now - RACE_GRACE_MS - 1), None, Some(true)), now), Outcome::Reuse("rtf_1".into()));
    }
}
