//! The JWT cryptography of Boxoffice: HS256 and nothing else.
//!
//! `jsonwebtoken` 10 leaves its cryptography to a
//! [`CryptoProvider`] (a signer and a verifier factory). Its bundled
//! `rust_crypto` provider brings RSA, ECDSA and Ed25519 into every
//! component that checks tokens (about 630 KB of WebAssembly each, and the
//! `rsa` crate with RUSTSEC-2023-0071), although the server fixes the
//! algorithm to HS256 (RFC 7518 §3.2). This provider implements HS256 on
//! the RustCrypto `hmac` and `sha2` crates — the same ones `rust_crypto`
//! uses for it — and refuses every other algorithm with
//! [`ErrorKind::Provider`] naming it. Parsing, `exp`/`nbf`/`iss`/`aud`
//! validation and the claims stay in `jsonwebtoken`; `kid` rotation stays in
//! [`super::KeySet`].
//!
//! The verifier compares MACs with `hmac`'s constant-time `verify_slice`.
//! JWK support is not provided ([`JwkUtils::new_unimplemented`]): Boxoffice
//! publishes and reads no JWKs.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;

/// HMAC-SHA-256 keyed with one secret of the key set.
struct Hs256(Hmac<Sha256>);

impl Hs256 {
    /// Keys a MAC with `secret` (any length; `KeySet::parse` enforces the
    /// 32-byte minimum of RFC 7518 §3.2).
    fn new(secret: &[u8]) -> Result<Hs256> {
        Ok(Hs256(Hmac::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat)?))
    }

    /// The MAC over `msg` (the JWS signing input `header.payload`).
    fn over(&self, msg: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(msg);
        mac
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(self.over(msg).finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        self.over(msg).verify_slice(sig).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// The error for any algorithm but HS256.
fn refused(alg: &Algorithm) -> jsonwebtoken::errors::Error {
    ErrorKind::Provider(format!("{alg:?} is refused: Boxoffice signs and verifies HS256 tokens only")).into()
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match alg {
        Algorithm::HS256 => Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?)),
        other => Err(refused(other)),
    }
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match alg {
        Algorithm::HS256 => Ok(Box::new(Hs256::new(key.try_get_hmac_secret()?)?)),
        other => Err(refused(other)),
    }
}

/// The HS256-only provider.
static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory: signer, verifier_factory: verifier, jwk_utils: JwkUtils::new_unimplemented() };

/// Makes [`PROVIDER`] the process's `jsonwebtoken` provider; call before
/// any `jsonwebtoken::encode`/`decode`. Idempotent. When the process
/// already chose another provider (a native program that enabled one of
/// `jsonwebtoken`'s own), that one stays; [`super::KeySet::verify`] still
/// accepts HS256 only, as it checks the header and sets the validation's
/// algorithm itself.
pub(crate) fn install() {
    let _ = PROVIDER.install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_matches_rfc_4231_and_other_algorithms_are_refused() {
        // RFC 4231 §4.3, test case 2: key "Jefe", "what do ya want for nothing?"
        let key = EncodingKey::from_secret(b"Jefe");
        let mac = signer(&Algorithm::HS256, &key).unwrap().try_sign(b"what do ya want for nothing?").unwrap();
        let hex = hex::encode(&mac);
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let v = verifier(&Algorithm::HS256, &DecodingKey::from_secret(b"Jefe")).unwrap();
        assert!(v.verify(b"what do ya want for nothing?", &mac).is_ok());
        assert!(v.verify(b"what do ya want for nothing!", &mac).is_err());
        assert!(v.verify(b"what do ya want for nothing?", &mac[..31].to_vec()).is_err(), "truncated MAC");
        for alg in [Algorithm::HS384, Algorithm::HS512, Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            let e = signer(&alg, &key).err().expect("refused");
            assert!(e.to_string().contains("HS256 tokens only"), "{alg:?}: {e}");
            assert!(verifier(&alg, &DecodingKey::from_secret(b"Jefe")).is_err(), "{alg:?}");
        }
    }
}
