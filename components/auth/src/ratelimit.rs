//! Fixed-window rate limits on the `auth` key-value store.
//!
//! Each (limit, subject, window) has one counter key
//! `rl:<limit>:<window index>:<sha256(subject) prefix>`, bumped with the
//! atomic `wasi:keyvalue/atomics.increment` (DESIGN §5: atomic on Spin's
//! SQLite and Redis backends). The counter is never `set`. The subject
//! (an e-mail address or an IP) is hashed so the store holds no personal
//! data. When a window's first hit arrives the previous window's key is
//! deleted, so the store keeps at most two keys per active subject.
//!
//! Over the limit the request fails with 429 and `Retry-After` = seconds
//! until the window ends (RFC 9110 §10.2.3, RFC 6585 §4).

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

/// Sign-in attempts per account (normalised e-mail): 10 per 15 minutes
/// (OWASP Authentication Cheat Sheet, "account lockout" guidance).
pub const LOGIN_PER_ACCOUNT: Limit = Limit { name: "login-account", max: 10, window_secs: 900 };
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

/// The counter key of `subject` in window `window` (pure, for tests).
pub fn key(limit: &Limit, subject: &str, window: i64) -> String {
    let digest = Sha256::digest(subject.as_bytes());
    format!("rl:{}:{}:{}", limit.name, window, crate::tokens::hex(&digest[..12]))
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
            eprintln!("rate limit: could not drop the previous window: {e:?}");
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

fn kv_error(e: store::Error) -> ApiError {
    eprintln!("key-value error: {e:?}");
    ApiError::Unavailable("the key-value store is unavailable; try again".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_window_and_hide_the_subject() {
        let a = key(&LOGIN_PER_ACCOUNT, "ann@x.com", 7);
        assert!(a.starts_with("rl:login-account:7:"));
        assert!(!a.contains("ann"));
        assert_ne!(a, key(&LOGIN_PER_ACCOUNT, "ann@x.com", 8));
        assert_ne!(a, key(&LOGIN_PER_IP, "ann@x.com", 7));
    }
}
