//! Fixed-window rate limits on the `auth` key-value store.
//!
//! Each (limit, subject, window) has one counter key
//! `rl:<limit>:<window index>:<sha256(subject) prefix>`, bumped with the
//! atomic `wasi:keyvalue/atomics.increment` (docs/DESIGN.md §5: atomic on Spin's
//! SQLite and Redis backends). The counter is never `set`. The subject
//! (an e-mail address or an IP) is hashed so the store holds no personal
//! data. When a window's first hit arrives the previous window's key is
//! deleted, so the store keeps at most two keys per active subject.
//!
//! Over the limit the request fails with 429 and `Retry-After` = seconds
//! until the window ends (RFC 9110 §10.2.3, RFC 6585 §4).
//!
//! Wrong passwords are slowed down, never locked out ([`login_delay`]):
//! failures count per account *and* client address, and past
//! [`FREE_FAILURES`] each further one makes that client wait longer before
//! its next try for that account (1 s, 2 s, 4 s … at most
//! [`MAX_DELAY_SECS`]). A fixed count per account (the previous rule: 10
//! per 15 minutes, then 429 even for the right password) let anyone lock a
//! known account for minutes; now a stranger's failures slow only the
//! stranger (OWASP Authentication Cheat Sheet, "account lockout": prefer
//! throttling, exponential back-off keyed by account and source). Sign-ins
//! per client address stay capped ([`LOGIN_PER_IP`]), so guessing across
//! many accounts from one address stays slow too.

use platform::{ApiError, ApiResult};
use sha2::{Digest, Sha256};
use spin_sdk::wit::wasi::keyvalue::{atomics, store};

/// KV label of the counters.
pub const STORE: &str = "auth";

/// One limit: at most `max` hits per `window_secs` for a subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Key namespace, e.g. `login-account`.
    pub name: &'static str,
    /// Allowed hits per window.
    pub max: i64,
    /// Window length, seconds.
    pub window_secs: i64,
}

/// Sign-in attempts per client IP: 50 per 15 minutes (room for a shared NAT).
pub const LOGIN_PER_IP: Limit = Limit { name: "login-ip", max: 50, window_secs: 900 };
/// Password-change attempts per account: 10 per 15 minutes.
pub const PASSWORD_CHANGE: Limit = Limit { name: "password-change", max: 10, window_secs: 900 };

/// Registrations per client IP: `register_limit_per_hour` (default 20)
/// per hour. Every registration runs argon2id and a 409 `email-taken`
/// tells whether an address has an account, so both are capped per address
/// (OWASP Authentication Cheat Sheet, account enumeration and automated
/// attacks).
pub fn register_per_ip() -> Limit {
    Limit { name: "register-ip", max: platform::config::parsed_or("register_limit_per_hour", 20), window_secs: 3600 }
}

/// The counter key of `subject` in window `window` (pure, for tests), in
/// the label's namespace (`auth/`): Spin 4.0.2's Redis key-value backend
/// keeps every label in one database.
pub fn key(limit: &Limit, subject: &str, window: i64) -> String {
    let digest = Sha256::digest(subject.as_bytes());
    format!("{STORE}/rl:{}:{}:{}", limit.name, window, crate::tokens::hex(&digest[..12]))
}

/// Counts one hit of `subject` against `limit` at `now_secs`.
///
/// Errors: 429 with the seconds left in the window when this hit is over
/// the limit; 503 when the store is unavailable.
pub fn hit(limit: &Limit, subject: &str, now_secs: i64) -> ApiResult<()> {
    let window = now_secs.div_euclid(limit.window_secs);
    let bucket = store::open(STORE).map_err(kv_error)?;
    let k = key(limit, subject, window);
    let count = atomics::increment(&bucket, &k, 1).map_err(kv_error)?;
    if count == 1 {
        if let Err(e) = bucket.delete(&key(limit, subject, window - 1)) {
            platform::log::warn!("rate limit: could not drop the previous window: {e:?}");
        }
    }
    if count > limit.max {
        let retry_after = (window + 1) * limit.window_secs - now_secs;
        return Err(ApiError::TooManyRequests {
            retry_after_secs: retry_after.max(1) as u64,
            detail: "too many attempts; try again later".into(),
        });
    }
    Ok(())
}

/// Failed sign-ins per (account, client) that cost no delay.
pub const FREE_FAILURES: i64 = 4;
/// The longest delay between sign-in attempts of one client for one
/// account, seconds.
pub const MAX_DELAY_SECS: i64 = 30;
/// How long failures are remembered after the last one, seconds.
pub const FAILURE_MEMORY_SECS: i64 = 900;

/// The delay after the `failures`-th consecutive failure, seconds: none up
/// to [`FREE_FAILURES`], then 1, 2, 4 … capped at [`MAX_DELAY_SECS`].
pub fn delay_after(failures: i64) -> i64 {
    if failures <= FREE_FAILURES {
        0
    } else {
        (1i64 << (failures - FREE_FAILURES - 1).min(16)).min(MAX_DELAY_SECS)
    }
}

/// The failure record key of `account` (normalised e-mail) from `client`
/// (an IP), hashed like the counters.
fn failure_key(account: &str, client: &str) -> String {
    let digest = Sha256::digest(format!("{account}\n{client}").as_bytes());
    format!("{STORE}/lf:{}", crate::tokens::hex(&digest[..12]))
}

/// `(failures, retry_at_ms)` of a record, unless its last failure is
/// older than [`FAILURE_MEMORY_SECS`] at `now_ms`.
fn failures(bucket: &store::Bucket, key: &str, now_ms: i64) -> ApiResult<Option<(i64, i64)>> {
    let Some(raw) = bucket.get(key).map_err(kv_error)? else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
    let (n, retry_at, last) =
        (v["n"].as_i64().unwrap_or(0), v["retry_at"].as_i64().unwrap_or(0), v["last"].as_i64().unwrap_or(0));
    Ok((now_ms - last < FAILURE_MEMORY_SECS * 1000).then_some((n, retry_at)))
}

/// Before checking a password: 429 with `Retry-After` while `client` must
/// still wait after its last failure for `account`.
pub fn login_delay(account: &str, client: &str, now_ms: i64) -> ApiResult<()> {
    let bucket = store::open(STORE).map_err(kv_error)?;
    if let Some((_, retry_at)) = failures(&bucket, &failure_key(account, client), now_ms)? {
        if retry_at > now_ms {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: ((retry_at - now_ms + 999) / 1000).max(1) as u64,
                detail: "too many wrong passwords from here; wait a moment and try again".into(),
            });
        }
    }
    Ok(())
}

/// After a wrong password: one more failure of `client` for `account`,
/// and its next try waits [`delay_after`] that many.
pub fn login_failed(account: &str, client: &str, now_ms: i64) -> ApiResult<()> {
    let bucket = store::open(STORE).map_err(kv_error)?;
    let key = failure_key(account, client);
    let n = failures(&bucket, &key, now_ms)?.map(|(n, _)| n).unwrap_or(0) + 1;
    let record = serde_json::json!({"n": n, "retry_at": now_ms + delay_after(n) * 1000, "last": now_ms});
    bucket.set(&key, record.to_string().as_bytes()).map_err(kv_error)
}

/// After a right password: `client`'s failures for `account` are forgotten.
pub fn login_succeeded(account: &str, client: &str) -> ApiResult<()> {
    let bucket = store::open(STORE).map_err(kv_error)?;
    bucket.delete(&failure_key(account, client)).map_err(kv_error)
}

fn kv_error(e: store::Error) -> ApiError {
    platform::log::error!("key-value error: {e:?}");
    ApiError::storage("the key-value store is unavailable; try again")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_window_and_hide_the_subject() {
        let a = key(&LOGIN_PER_IP, "ann@x.com", 7);
        assert!(a.starts_with("auth/rl:login-ip:7:"));
        assert!(!a.contains("ann"));
        assert_ne!(a, key(&LOGIN_PER_IP, "ann@x.com", 8));
        assert_ne!(a, key(&PASSWORD_CHANGE, "ann@x.com", 7));
        let f = failure_key("ann@x.com", "203.0.113.7");
        assert!(!f.contains("ann") && !f.contains("203"));
        assert_ne!(f, failure_key("ann@x.com", "198.51.100.2"));
    }

    #[test]
    fn delays_grow_and_stay_short() {
        let d: Vec<i64> = (1..=12).map(delay_after).collect();
        assert_eq!(d, [0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(delay_after(10_000), MAX_DELAY_SECS);
    }
}
