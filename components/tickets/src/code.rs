//! Ticket codes: signed, compact, URL-safe, verifiable offline.
//!
//! A code is `<kid>.<ticket_id>.<event_id>.<sig>` where `sig` is the
//! unpadded base64url (RFC 4648 §5) HMAC-SHA256 (RFC 2104, FIPS 180-4) of
//! `boxoffice-ticket/v1\n<kid>\n<ticket_id>\n<event_id>` under the key named
//! `kid`. Everything is in the URL-safe alphabet, so a code fits a QR code in
//! byte mode and a URL path without escaping (about 110 characters).
//!
//! A door scanner holding the key set verifies a code with no database: the
//! signature proves the ticket and event ids were issued by Boxoffice;
//! whether the ticket is still valid (not void, not yet admitted) is the
//! server's check-in.
//!
//! Keys come from the secret Spin variable `ticket_signing_key`, either a
//! key set `{"current":"t2","keys":{"t1":"…","t2":"…"}}` (rotation: new
//! codes use `current`, every listed key verifies) or one plain secret,
//! whose key id is `k` + the first 8 hex digits of its SHA-256 (so changing
//! the secret changes the key id). Secrets must be ≥ 32 bytes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// Domain-separation prefix of the signed message.
const CONTEXT: &str = "boxoffice-ticket/v1";
/// Smallest accepted secret, bytes (RFC 2104 §3: at least the hash length).
pub const MIN_SECRET_BYTES: usize = 32;

/// The signing keys of ticket codes.
#[derive(Debug, Clone)]
pub struct TicketKeys {
    current: String,
    keys: BTreeMap<String, Vec<u8>>,
}

/// What a verified code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCode {
    /// Key id that signed it.
    pub kid: String,
    /// `tkt_…`
    pub ticket_id: String,
    /// `evt_…`
    pub event_id: String,
}

/// Why a code was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    /// Not four dot-separated URL-safe parts of plausible sizes.
    Malformed,
    /// The key id is not (or no longer) in the key set.
    UnknownKey,
    /// The signature does not match: forged or altered.
    BadSignature,
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CodeError::Malformed => "the code is not a Boxoffice ticket code",
            CodeError::UnknownKey => "the code was signed with an unknown or retired key",
            CodeError::BadSignature => "the code's signature does not match: it is forged or altered",
        })
    }
}

fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl TicketKeys {
    /// Parses the `ticket_signing_key` value (see module docs).
    ///
    /// Errors: a key set whose `current` is missing from `keys`, a key id
    /// outside `[A-Za-z0-9_-]{1,32}`, or a secret shorter than
    /// [`MIN_SECRET_BYTES`].
    pub fn parse(value: &str) -> anyhow::Result<TicketKeys> {
        let trimmed = value.trim();
        let (current, keys) = if trimmed.starts_with('{') {
            #[derive(serde::Deserialize)]
            struct Set {
                current: String,
                keys: BTreeMap<String, String>,
            }
            let set: Set = serde_json::from_str(trimmed)?;
            anyhow::ensure!(set.keys.contains_key(&set.current), "ticket_signing_key: current key is not in keys");
            (set.current, set.keys.into_iter().map(|(k, v)| (k, v.into_bytes())).collect::<BTreeMap<_, _>>())
        } else {
            let digest = Sha256::digest(trimmed.as_bytes());
            let kid = format!("k{}", hex::encode(&digest[..4]));
            (kid.clone(), BTreeMap::from([(kid, trimmed.as_bytes().to_vec())]))
        };
        for (kid, secret) in &keys {
            anyhow::ensure!(is_token(kid, 32), "ticket_signing_key: key id `{kid}` must be 1-32 of [A-Za-z0-9_-]");
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "ticket_signing_key: key `{kid}` is shorter than {MIN_SECRET_BYTES} bytes"
            );
        }
        Ok(TicketKeys { current, keys })
    }

    /// The keys from the `ticket_signing_key` Spin variable; an error
    /// naming it when missing, malformed, or its published value outside
    /// the sandbox ([`platform::secrets`]).
    pub fn from_config() -> anyhow::Result<TicketKeys> {
        TicketKeys::parse(&platform::secrets::get("ticket_signing_key").map_err(anyhow::Error::msg)?)
    }

    /// [`TicketKeys::from_config`] as a request's error: 503 naming
    /// `ticket_signing_key` (issuing and check-in refuse rather than sign
    /// or verify with a public key).
    pub fn required() -> platform::ApiResult<TicketKeys> {
        TicketKeys::from_config().map_err(|e| {
            platform::log::error!("tickets: {e:#}");
            platform::ApiError::Unavailable(format!("ticket signing is not configured: {e}"))
        })
    }

    fn mac(secret: &[u8], kid: &str, ticket_id: &str, event_id: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
        mac.update(format!("{CONTEXT}\n{kid}\n{ticket_id}\n{event_id}").as_bytes());
        mac
    }

    /// The code of ticket `ticket_id` for event `event_id`, signed with the
    /// current key. Both ids must be URL-safe tokens (they are `ids::new`
    /// output).
    pub fn sign(&self, ticket_id: &str, event_id: &str) -> String {
        let secret = &self.keys[&self.current];
        let sig = Self::mac(secret, &self.current, ticket_id, event_id).finalize().into_bytes();
        format!("{}.{ticket_id}.{event_id}.{}", self.current, URL_SAFE_NO_PAD.encode(sig))
    }

    /// The query of a signed, expiring link to ticket `ticket_id`'s
    /// calendar file, for e-mails opened where nobody is signed in (a
    /// phone's mail app): `k=<kid>&expires=<unix s>&sig=<base64url HMAC-SHA256
    /// of "boxoffice-ics-link/v1\n<kid>\n<ticket_id>\n<expires>">` under the
    /// current key — the same keys as codes, another context, so neither can
    /// stand in for the other.
    pub fn sign_link(&self, ticket_id: &str, expires_s: i64) -> String {
        let secret = &self.keys[&self.current];
        let sig = Self::link_mac(secret, &self.current, ticket_id, expires_s).finalize().into_bytes();
        format!("k={}&expires={expires_s}&sig={}", self.current, URL_SAFE_NO_PAD.encode(sig))
    }

    /// Whether a link signed by [`TicketKeys::sign_link`] for `ticket_id`
    /// holds at `now_s`: a known key, a matching signature (constant time),
    /// not expired.
    pub fn verify_link(&self, ticket_id: &str, kid: &str, expires_s: i64, sig: &str, now_s: i64) -> bool {
        let (Some(secret), Ok(sig)) = (self.keys.get(kid), URL_SAFE_NO_PAD.decode(sig)) else { return false };
        now_s < expires_s && Self::link_mac(secret, kid, ticket_id, expires_s).verify_slice(&sig).is_ok()
    }

    fn link_mac(secret: &[u8], kid: &str, ticket_id: &str, expires_s: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
        mac.update(format!("boxoffice-ics-link/v1\n{kid}\n{ticket_id}\n{expires_s}").as_bytes());
        mac
    }

    /// Verifies `code` in constant time (as far as the signature goes).
    pub fn verify(&self, code: &str) -> Result<VerifiedCode, CodeError> {
        let parts: Vec<&str> = code.trim().split('.').collect();
        let [kid, ticket_id, event_id, sig] = parts.as_slice() else {
            return Err(CodeError::Malformed);
        };
        if !is_token(kid, 32) || !is_token(ticket_id, 64) || !is_token(event_id, 64) || !is_token(sig, 64) {
            return Err(CodeError::Malformed);
        }
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| CodeError::Malformed)?;
        let secret = self.keys.get(*kid).ok_or(CodeError::UnknownKey)?;
        Self::mac(secret, kid, ticket_id, event_id).verify_slice(&sig).map_err(|_| CodeError::BadSignature)?;
        Ok(VerifiedCode { kid: kid.to_string(), ticket_id: ticket_id.to_string(), event_id: event_id.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = r#"{"current":"t2","keys":{"t1":"first-ticket-secret-0123456789abcdef","t2":"second-ticket-secret-0123456789abcdef"}}"#;

    #[test]
    fn calendar_links_are_bound_to_the_ticket_and_expire() {
        let keys = TicketKeys::parse(SET).unwrap();
        let q = keys.sign_link("tkt_1", 2_000);
        let part = |k: &str| q.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap().to_string();
        let (kid, sig) = (part("k"), part("sig"));
        assert!(keys.verify_link("tkt_1", &kid, 2_000, &sig, 1_999));
        assert!(!keys.verify_link("tkt_1", &kid, 2_000, &sig, 2_000), "expired");
        assert!(!keys.verify_link("tkt_2", &kid, 2_000, &sig, 1_000), "another ticket");
        assert!(!keys.verify_link("tkt_1", &kid, 9_000, &sig, 1_000), "a later expiry");
        assert!(!keys.verify_link("tkt_1", "t9", 2_000, &sig, 1_000), "unknown key");
    }

    #[test]
    fn round_trip_and_shape() {
        let keys = TicketKeys::parse(SET).unwrap();
        let code = keys.sign("tkt_01jabc", "evt_01jxyz");
        assert!(code.starts_with("t2.tkt_01jabc.evt_01jxyz."), "{code}");
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "URL-safe: {code}");
        let v = keys.verify(&code).unwrap();
        assert_eq!((v.kid.as_str(), v.ticket_id.as_str(), v.event_id.as_str()), ("t2", "tkt_01jabc", "evt_01jxyz"));
    }

    #[test]
    fn rotation_keeps_old_codes_and_retiring_kills_them() {
        let old =
            TicketKeys::parse(r#"{"current":"t1","keys":{"t1":"first-ticket-secret-0123456789abcdef"}}"#).unwrap();
        let code = old.sign("tkt_1", "evt_1");
        assert!(TicketKeys::parse(SET).unwrap().verify(&code).is_ok());
        let retired =
            TicketKeys::parse(r#"{"current":"t2","keys":{"t2":"second-ticket-secret-0123456789abcdef"}}"#).unwrap();
        assert_eq!(retired.verify(&code), Err(CodeError::UnknownKey));
    }

    #[test]
    fn forgeries_are_refused() {
        let keys = TicketKeys::parse(SET).unwrap();
        let code = keys.sign("tkt_1", "evt_1");
        // another ticket or event under the same signature
        assert_eq!(keys.verify(&code.replace("tkt_1", "tkt_2")), Err(CodeError::BadSignature));
        assert_eq!(keys.verify(&code.replace("evt_1", "evt_2")), Err(CodeError::BadSignature));
        // a signature made with a different secret
        let other =
            TicketKeys::parse(r#"{"current":"t2","keys":{"t2":"attacker-ticket-secret-0123456789abcdef"}}"#).unwrap();
        assert_eq!(keys.verify(&other.sign("tkt_1", "evt_1")), Err(CodeError::BadSignature));
        for junk in ["", "abc", "a.b.c", "t2.tkt_1.evt_1.!!", "t2.tkt_1.evt_1.sig.extra", "t2..evt_1.AAAA"] {
            assert!(keys.verify(junk).is_err(), "{junk}");
        }
        // truncated signature
        assert_eq!(keys.verify(&code[..code.len() - 4]), Err(CodeError::BadSignature));
    }

    #[test]
    fn plain_secret_gets_a_derived_kid() {
        let keys = TicketKeys::parse("a-plain-development-secret-that-is-long-enough").unwrap();
        let code = keys.sign("tkt_1", "evt_1");
        assert!(code.starts_with('k') && code.split('.').next().unwrap().len() == 9, "{code}");
        assert!(keys.verify(&code).is_ok());
        assert!(TicketKeys::parse("short").is_err());
        assert!(TicketKeys::parse(r#"{"current":"x","keys":{"y":"0123456789abcdef0123456789abcdef"}}"#).is_err());
        assert!(TicketKeys::parse(r#"{"current":"a.b","keys":{"a.b":"0123456789abcdef0123456789abcdef"}}"#).is_err());
    }
}
