//! Secrets that must never keep a published value outside the sandbox
//! (issue 17, item 8; OWASP ASVS 4.0 §2.10.4 and §6.4.1: no built-in or
//! default credentials, secrets managed outside the code).
//!
//! `spin.toml` ships development values for five secret variables so that a
//! local run (`cargo xtask up`, the test harnesses, the bench, the browser
//! tests) works out of the box. Those values are public — they are in this
//! repository — so anyone could sign an admin token with them, forge a
//! ticket, trigger ticks or forge payment webhooks. Outside the sandbox
//! (`sandbox_enabled` false, spin.toml's default), a secret that still
//! holds (or contains) its published value, or has none, is refused:
//!
//! * health answers 503 with a check `secret:<name>` whose error names the
//!   variable ([`health_check`]);
//! * every request that needs the secret answers 503 `unavailable` naming
//!   the variable ([`require`]), rather than use it.
//!
//! With `sandbox_enabled=true` the published values are accepted: that is
//! the local development setup, where the sandbox providers run too.

use crate::problem::{ApiError, ApiResult};

/// The secret variables shipped with a published development value, and
/// that value (or, for key sets, the published secret inside it).
pub const PUBLISHED: &[(&str, &str)] = &[
    ("jwt_keys", "boxoffice-development-signing-key-change-me"),
    ("ticket_signing_key", "boxoffice-development-ticket-signing-key-change-me"),
    ("tick_token", "boxoffice-development-tick-token"),
    ("payment_webhook_secret", "whsec_boxoffice_development_only"),
    ("payment_secret_key", "sk_test_boxoffice_sandbox"),
];

/// Whether this is a sandbox (local development) deployment: the
/// `sandbox_enabled` variable, false unless set.
pub fn sandbox_enabled() -> bool {
    crate::config::flag("sandbox_enabled", false)
}

/// Why `value` of secret `name` may not be used, or `None` when it may:
/// empty, or holding its [`PUBLISHED`] value while `sandbox` is false.
pub fn refusal(name: &str, value: Option<&str>, sandbox: bool) -> Option<String> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Some(format!("the secret variable `{name}` is not set"));
    };
    let published = PUBLISHED.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match published {
        Some(p) if !sandbox && value.contains(p) => Some(format!(
            "the secret variable `{name}` still holds the value published in spin.toml; outside the sandbox set SPIN_VARIABLE_{} to a secret of your own",
            name.to_ascii_uppercase()
        )),
        _ => None,
    }
}

/// The value of secret variable `name`, or why it may not be used (see
/// [`refusal`]).
pub fn get(name: &str) -> Result<String, String> {
    let value = crate::config::get(name);
    match refusal(name, value.as_deref(), sandbox_enabled()) {
        Some(why) => Err(why),
        None => Ok(value.unwrap_or_default()),
    }
}

/// [`get`] as a request's error: 503 `unavailable` naming the variable
/// (the reason is also logged).
pub fn require(name: &str) -> ApiResult<String> {
    get(name).map_err(|why| {
        crate::log::error!("refusing a request: {why}");
        ApiError::Unavailable(why)
    })
}

/// The health check `secret:<name>`: failed, with the reason, when the
/// secret may not be used.
pub fn health_check(name: &str) -> crate::health::Check {
    let r = get(name);
    crate::health::Check { name: format!("secret:{name}"), ok: r.is_ok(), error: r.err() }
}

/// [`health_check`] of each of `names`.
pub fn health_checks(names: &[&str]) -> Vec<crate::health::Check> {
    names.iter().map(|n| health_check(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_values_are_refused_outside_the_sandbox() {
        let jwt = r#"{"current":"dev1","keys":{"dev1":"boxoffice-development-signing-key-change-me"}}"#;
        let why = refusal("jwt_keys", Some(jwt), false).expect("refused");
        assert!(why.contains("`jwt_keys`") && why.contains("SPIN_VARIABLE_JWT_KEYS"), "{why}");
        assert_eq!(refusal("jwt_keys", Some(jwt), true), None, "the sandbox takes it");
        // a rotated set that still lists the published key is refused too
        let rotated = r#"{"current":"k2","keys":{"dev1":"boxoffice-development-signing-key-change-me","k2":"a-real-secret-of-forty-bytes-0123456789"}}"#;
        assert!(refusal("jwt_keys", Some(rotated), false).is_some());
        for (name, value) in PUBLISHED {
            assert!(refusal(name, Some(value), false).is_some(), "{name}");
            assert_eq!(refusal(name, Some("an-own-secret-value-that-nobody-published"), false), None, "{name}");
        }
        assert!(refusal("tick_token", None, true).unwrap().contains("not set"));
        assert!(refusal("tick_token", Some("  "), false).is_some());
    }
}
