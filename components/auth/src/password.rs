//! Passwords: the policy a new password must meet ([`NewPassword`]) and the
//! argon2id hashing of stored credentials.
//!
//! Policy (NIST SP 800-63B §5.1.1.2): at least [`MIN_CHARS`] characters, at
//! most [`MAX_CHARS`], not one of the most common passwords (the list ships
//! in `common_passwords.txt`, compared case-insensitively), not the account's
//! own e-mail address. No composition rules.
//!
//! Hashing: argon2id (RFC 9106) with the OWASP Password Storage Cheat Sheet
//! minimum, m = 19 456 KiB, t = 2, p = 1, a 16-byte random salt, stored as a
//! PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). Verification
//! reads the parameters from the stored string, so they can be raised later
//! without invalidating existing hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Fewest characters (Unicode scalar values) in a password.
pub const MIN_CHARS: usize = 8;
/// Most characters in a password (bounds the hashing work per request).
pub const MAX_CHARS: usize = 128;
/// argon2id memory cost, KiB.
pub const M_COST_KIB: u32 = 19_456;
/// argon2id iterations.
pub const T_COST: u32 = 2;
/// argon2id lanes.
pub const P_COST: u32 = 1;

const COMMON: &str = include_str!("common_passwords.txt");

/// True when `candidate` (any case) is on the shipped common-password list.
pub fn is_common(candidate: &str) -> bool {
    let c = candidate.to_lowercase();
    COMMON.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l.to_lowercase() == c)
}

/// A password that meets the policy; only [`NewPassword::parse`] makes one.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Checks `raw` against the policy for the account `email`.
    pub fn parse(raw: &str, email: &str) -> Result<NewPassword, String> {
        let n = raw.chars().count();
        if n < MIN_CHARS {
            return Err(format!("must be at least {MIN_CHARS} characters"));
        }
        if n > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        if is_common(raw) || is_common(raw.trim()) {
            return Err("is one of the most common passwords; choose another".into());
        }
        if raw.trim().eq_ignore_ascii_case(email) {
            return Err("must not be your e-mail address".into());
        }
        Ok(NewPassword(raw.to_string()))
    }

    /// The argon2id PHC hash of this password with a fresh random salt.
    pub fn hash(&self) -> anyhow::Result<String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let phc = hasher().hash_password(self.0.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(phc.to_string())
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks `password` against a stored PHC string. `None` (no account, or
/// an erased one) still spends one hash's worth of time so that the answer
/// time does not tell whether the account exists.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(phc) => hasher().verify_password(password.as_bytes(), &phc).is_ok(),
        None => {
            let mut out = [0u8; 32];
            let _ = hasher().hash_password_into(password.as_bytes(), b"boxoffice-no-account", &mut out);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(NewPassword::parse("short", "a@x.com").is_err());
        assert!(NewPassword::parse("password123", "a@x.com").is_err());
        assert!(NewPassword::parse("PassWord123", "a@x.com").is_err(), "case-insensitive list");
        assert!(NewPassword::parse("abcdefghij@x.com", "abcdefghij@x.com").is_err());
        assert!(NewPassword::parse(&"x".repeat(129), "a@x.com").is_err());
        assert!(NewPassword::parse("blue-harbour-lantern", "a@x.com").is_ok());
        assert!(NewPassword::parse("ünïcødé-pässwörd", "a@x.com").is_ok());
    }

    #[test]
    fn list_is_loaded_and_long_enough() {
        let n = COMMON.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
        assert!(n >= 200, "{n}");
        assert!(is_common("QWERTYUIOP"));
    }

    #[test]
    fn hash_and_verify() {
        let p = NewPassword::parse("blue-harbour-lantern", "a@x.com").unwrap();
        let h = p.hash().unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("blue-harbour-lantern", Some(&h)));
        assert!(!verify("blue-harbour-lanterN", Some(&h)));
        assert!(!verify("anything", None));
        assert_ne!(h, p.hash().unwrap(), "salted");
    }
}
