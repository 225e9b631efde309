//! Stripe-style webhook signatures (`Stripe-Signature: t=<unix secs>,v1=<hex>`).
//!
//! The signature is HMAC-SHA256 (RFC 2104, FIPS 180-4) keyed with the
//! endpoint's webhook secret over the signed payload `"{t}.{raw body}"`,
//! hex-encoded. A header may carry several `v1` values (during secret
//! rotation the provider signs with every active secret); one matching is
//! enough. Unknown schemes (`v0`, …) are ignored, as Stripe documents.
//! The timestamp must lie within [`TOLERANCE_SECS`] of now in BOTH
//! directions, which bounds replays and rejects future-dated deliveries.
//!
//! The `sandbox` component signs with this crate and `payments` verifies
//! with it, so both sides agree by construction.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Largest accepted distance between the signature time and now, seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No header, or it has no `t=` or no `v1=` element.
    Malformed,
    /// `t` is older or newer than now by more than the tolerance.
    OutsideTolerance,
    /// No `v1` matches the body under the secret.
    Mismatch,
}

/// Lower-case hex of the HMAC-SHA256 of `"{t}.{body}"` under `secret`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` header value for `body` signed at `t`.
pub fn header(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

/// Checks `header` against the exact raw `body` at time `now` (Unix seconds).
/// Returns the signature timestamp. Comparison is constant-time
/// (`Mac::verify_slice`).
pub fn verify(header: &str, body: &[u8], secret: &[u8], now: i64) -> Result<i64, SignatureError> {
    let mut t: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::OutsideTolerance);
    }
    for c in &candidates {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(c).is_ok() {
            return Ok(t);
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn accepts_own_signature_and_rotation() {
        let h = header(SECRET, 1_000, BODY);
        assert_eq!(verify(&h, BODY, SECRET, 1_000), Ok(1_000));
        let rotated = format!("t=1000,v1={},v1={}", sign(b"old", 1_000, BODY), sign(SECRET, 1_000, BODY));
        assert_eq!(verify(&rotated, BODY, SECRET, 1_100), Ok(1_000));
        let with_v0 = format!("t=1000,v0=abc,v1={}", sign(SECRET, 1_000, BODY));
        assert!(verify(&with_v0, BODY, SECRET, 1_000).is_ok());
    }

    #[test]
    fn tolerance_both_ways() {
        let h = header(SECRET, 1_000, BODY);
        assert!(verify(&h, BODY, SECRET, 1_300).is_ok());
        assert!(verify(&h, BODY, SECRET, 700).is_ok());
        assert_eq!(verify(&h, BODY, SECRET, 1_301), Err(SignatureError::OutsideTolerance));
        assert_eq!(verify(&h, BODY, SECRET, 699), Err(SignatureError::OutsideTolerance));
    }

    #[test]
    fn refuses_forged_reserialised_and_malformed() {
        let h = header(SECRET, 1_000, BODY);
        assert_eq!(verify(&h, BODY, b"other", 1_000), Err(SignatureError::Mismatch));
        let reserialised = br#"{"id": "evt_1", "type": "payment_intent.succeeded"}"#;
        assert_eq!(verify(&h, reserialised, SECRET, 1_000), Err(SignatureError::Mismatch));
        let moved_t = h.replace("t=1000", "t=1001");
        assert_eq!(verify(&moved_t, BODY, SECRET, 1_000), Err(SignatureError::Mismatch));
        for bad in ["", "t=1000", "v1=00", "t=abc,v1=00", "t=1000,v1=zz"] {
            assert_eq!(verify(bad, BODY, SECRET, 1_000), Err(SignatureError::Malformed), "{bad}");
        }
    }
}
