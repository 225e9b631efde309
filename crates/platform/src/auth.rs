//! Bearer-token authentication shared by every component (docs/DESIGN.md §6).
//!
//! Access tokens are JWTs (RFC 7519) signed with HS256 (RFC 7518 §3.2). The
//! server fixes the algorithm: a token whose header says anything else
//! (including `none`), has no or an unknown `kid`, lacks `exp`, `iat`,
//! `sub`, `jti`, has the wrong `iss`/`aud`, or is not a JWT at all (an
//! opaque refresh token) is rejected with 401. Leeway for `exp`/`nbf`/`iat`
//! is [`LEEWAY_SECS`].
//!
//! Keys come from the secret Spin variable `jwt_keys`, a JSON key set:
//!
//! ```json
//! {"current": "k2", "keys": {"k1": "old secret ≥32 bytes", "k2": "new secret ≥32 bytes"}}
//! ```
//!
//! New tokens are signed with `current`; any listed key verifies, so keys
//! rotate without logging anyone out; removing a key invalidates its tokens.
//!
//! Handlers call [`require`] (or [`optional`]) and get a [`Caller`]; role
//! checks go through [`Caller::require_role`].
//!
//! The signatures are computed by `hs256`, a `jsonwebtoken` crypto provider
//! that knows HS256 and refuses every other algorithm (so no RSA, ECDSA or
//! Ed25519 code is linked into the components).

mod hs256;

use crate::problem::{ApiError, ApiResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use std::collections::BTreeMap;

/// `iss` of every access token.
pub const ISSUER: &str = "boxoffice";
/// `aud` of every access token.
pub const AUDIENCE: &str = "boxoffice-api";
/// Access-token lifetime, seconds (15 minutes).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
/// Clock-skew leeway when validating, seconds.
pub const LEEWAY_SECS: u64 = 60;
/// Smallest accepted HMAC secret, bytes (RFC 7518 §3.2: key ≥ hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Platform roles, least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Buys tickets; the default.
    Customer,
    /// Creates and manages their own events.
    Organizer,
    /// Checks tickets in at the door.
    Staff,
    /// Everything, explicitly.
    Admin,
}

impl Role {
    /// Lower-case wire name (`customer`, `organizer`, `staff`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Organizer => "organizer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "customer" => Ok(Role::Customer),
            "organizer" => Ok(Role::Organizer),
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            _ => Err(()),
        }
    }
}

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id (`usr_…`).
    pub sub: String,
    /// The user's role when the token was issued.
    pub role: Role,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Unique token id.
    pub jti: String,
    /// The account's token epoch when the token was issued (see
    /// [`current_epoch`]); tokens without one count as epoch 0.
    #[serde(default)]
    pub ep: u64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// User id (`usr_…`).
    pub user_id: String,
    /// Role carried by the token.
    pub role: Role,
    /// The raw bearer token, to forward on service chaining when needed.
    pub token: String,
}

/// The key-value store (label) holding every account's token epoch, shared
/// by every component that checks access tokens (`spin.toml`
/// `key_value_stores`); only auth writes it.
pub const EPOCH_STORE: &str = "sessions";

/// Key of `user_id`'s epoch, in the label's namespace (`sessions/`):
/// Spin 4.0.2's Redis key-value backend keeps every label in one database,
/// so each label's keys carry the label (see booking's `kv` module).
fn epoch_key(user_id: &str) -> String {
    format!("{EPOCH_STORE}/epoch:{user_id}")
}

/// The current token epoch of `user_id` (0 when never bumped).
///
/// Why an epoch: access tokens are stateless JWTs, valid for 15 minutes
/// wherever they are checked. Auth bumps an account's epoch when its
/// sessions must end at once — password change, "log out everywhere",
/// erasure ([`bump_epoch`]) — and every component refuses a token whose
/// `ep` claim is older than the account's epoch (OWASP ASVS 4.0 §3.3.1,
/// §3.3.3: sessions end on logout and password change, everywhere). The
/// epoch lives in one Spin key-value store every such component opens by
/// the same label, so checking costs one KV read per authenticated request
/// and no call to auth.
pub fn current_epoch(user_id: &str) -> Result<u64, spin_sdk::key_value::Error> {
    let store = spin_sdk::key_value::Store::open(EPOCH_STORE)?;
    Ok(store
        .get(&epoch_key(user_id))?
        .and_then(|v| std::str::from_utf8(&v).ok().and_then(|t| t.trim().parse().ok()))
        .unwrap_or(0))
}

/// Moves `user_id`'s token epoch on (auth only): every access token issued
/// before stops working at once. Returns the new epoch, which tokens
/// issued from now on carry.
pub fn bump_epoch(user_id: &str) -> ApiResult<u64> {
    let store = spin_sdk::key_value::Store::open(EPOCH_STORE)?;
    let next = current_epoch(user_id)? + 1;
    store.set(&epoch_key(user_id), next.to_string().as_bytes())?;
    Ok(next)
}

impl Caller {
    /// 403 unless the caller has one of `roles` (admins always pass).
    pub fn require_role(&self, roles: &[Role]) -> ApiResult<()> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role",
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
            )))
        }
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 unless the caller is `owner_id` or an admin.
    pub fn require_owner(&self, owner_id: &str) -> ApiResult<()> {
        if self.is_admin() || self.user_id == owner_id {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this belongs to another user".into()))
        }
    }
}

/// A parsed `jwt_keys` key set.
#[derive(Debug, Clone, Deserialize)]
pub struct KeySet {
    /// `kid` of the signing key.
    pub current: String,
    /// All verification keys by `kid`.
    pub keys: BTreeMap<String, String>,
}

impl KeySet {
    /// Parses the `jwt_keys` JSON; errors when `current` is not among the
    /// keys or a secret is shorter than [`MIN_SECRET_BYTES`].
    pub fn parse(json: &str) -> anyhow::Result<KeySet> {
        let ks: KeySet = serde_json::from_str(json)?;
        anyhow::ensure!(ks.keys.contains_key(&ks.current), "jwt_keys: current key `{}` is not in keys", ks.current);
        for (kid, secret) in &ks.keys {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "jwt_keys: key `{kid}` is shorter than {MIN_SECRET_BYTES} bytes"
            );
        }
        Ok(ks)
    }

    /// The key set from the `jwt_keys` Spin variable; an error naming it
    /// when it is missing, malformed, or still holds its published value
    /// outside the sandbox ([`crate::secrets`]).
    pub fn from_config() -> anyhow::Result<KeySet> {
        KeySet::parse(&crate::secrets::get("jwt_keys").map_err(anyhow::Error::msg)?)
    }

    /// Signs `claims` with the current key, setting `kid`.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        hs256::install();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.clone());
        let secret = &self.keys[&self.current];
        Ok(jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes()))?)
    }

    /// Verifies `token` as an access token at the current time.
    ///
    /// Errors (all mean 401): not a JWT, `alg` other than HS256, missing or
    /// unknown `kid`, bad signature, expired (beyond leeway), wrong
    /// `iss`/`aud`, a required claim missing.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        hs256::install();
        let header = jsonwebtoken::decode_header(token).map_err(|_| "not a valid access token".to_string())?;
        if header.alg != Algorithm::HS256 {
            return Err("token algorithm is not accepted".into());
        }
        let kid = header.kid.ok_or("token has no key id")?;
        let secret = self.keys.get(&kid).ok_or("token key id is unknown or retired")?;
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = LEEWAY_SECS;
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        v.validate_exp = true;
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
            .map(|d| d.claims)
            .map_err(|e| format!("token rejected: {}", describe(&e)))
    }
}

fn describe(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::ImmatureSignature => "not yet valid",
        _ => "malformed",
    }
}

/// The authenticated caller; 401 problem when the request carries no valid
/// bearer access token. 503 naming `jwt_keys` when the key set is not
/// configured, or holds its published value outside the sandbox.
pub fn require(req: &Request) -> ApiResult<Caller> {
    optional(req)?.ok_or_else(|| ApiError::Unauthorized("sign in to do this".into()))
}

/// The caller when a bearer token is present; 401 when one is present but
/// invalid (a bad token is never silently treated as anonymous), or older
/// than its account's token epoch ([`current_epoch`]); 503 when the epoch
/// store cannot be read.
pub fn optional(req: &Request) -> ApiResult<Option<Caller>> {
    let Some(token) = crate::web::bearer_token(req) else {
        return Ok(None);
    };
    let keys = KeySet::from_config().map_err(|e| {
        crate::log::error!("auth misconfigured: {e:#}");
        ApiError::Unavailable(format!("authentication is not configured: {e}"))
    })?;
    let claims = keys.verify(token).map_err(ApiError::Unauthorized)?;
    if claims.ep < current_epoch(&claims.sub)? {
        return Err(ApiError::Unauthorized(
            "this sign-in has ended (password changed, signed out everywhere, or account deleted); sign in again"
                .into(),
        ));
    }
    Ok(Some(Caller { user_id: claims.sub, role: claims.role, token: token.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> KeySet {
        KeySet::parse(r#"{"current":"k2","keys":{"k1":"0123456789abcdef0123456789abcdef-one","k2":"0123456789abcdef0123456789abcdef-two"}}"#).unwrap()
    }

    fn claims(exp_in: i64) -> Claims {
        let now = crate::clock::now_secs();
        Claims {
            sub: "usr_1".into(),
            role: Role::Customer,
            iat: now,
            exp: now + exp_in,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: "j1".into(),
            ep: 0,
        }
    }

    #[test]
    fn round_trip_and_rotation() {
        let ks = keys();
        let t = ks.sign(&claims(900)).unwrap();
        assert_eq!(ks.verify(&t).unwrap().sub, "usr_1");
        // a token signed with the previous key still verifies
        let old = KeySet { current: "k1".into(), keys: ks.keys.clone() };
        let t1 = old.sign(&claims(900)).unwrap();
        assert!(ks.verify(&t1).is_ok());
        // once k1 is removed, its tokens fail
        let mut retired = ks.clone();
        retired.keys.remove("k1");
        assert!(retired.verify(&t1).is_err());
    }

    #[test]
    fn rejects_forgeries() {
        let ks = keys();
        assert!(ks.verify(&ks.sign(&claims(-120)).unwrap()).is_err(), "expired beyond leeway");
        let mut c = claims(900);
        c.iss = "evil".into();
        assert!(ks.verify(&ks.sign(&c).unwrap()).is_err(), "wrong iss");
        let mut c = claims(900);
        c.aud = "other".into();
        assert!(ks.verify(&ks.sign(&c).unwrap()).is_err(), "wrong aud");
        // alg none
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let h = b64.encode(r#"{"alg":"none","typ":"JWT","kid":"k2"}"#);
        let p = b64.encode(serde_json::to_string(&claims(900)).unwrap());
        assert!(ks.verify(&format!("{h}.{p}.")).is_err(), "alg none");
        // HS512 with the right secret is still refused: the server fixes the
        // algorithm (and the provider cannot even make one)
        let mut header = Header::new(Algorithm::HS512);
        header.kid = Some("k2".into());
        let e = jsonwebtoken::encode(&header, &claims(900), &EncodingKey::from_secret(ks.keys["k2"].as_bytes()))
            .unwrap_err();
        assert!(e.to_string().contains("HS256 tokens only"), "{e}");
        let h512 = b64.encode(r#"{"alg":"HS512","typ":"JWT","kid":"k2"}"#);
        let good = ks.sign(&claims(900)).unwrap();
        let sig = good.rsplit('.').next().unwrap();
        assert!(ks.verify(&format!("{h512}.{p}.{sig}")).is_err(), "swapped alg");
        // opaque refresh token
        assert!(ks.verify("rt_3q2+7w==").is_err());
        // missing exp
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k2".into());
        let no_exp = serde_json::json!({"sub":"usr_1","role":"customer","iat":1,"iss":ISSUER,"aud":AUDIENCE,"jti":"x"});
        let t = jsonwebtoken::encode(&header, &no_exp, &EncodingKey::from_secret(ks.keys["k2"].as_bytes())).unwrap();
        assert!(ks.verify(&t).is_err(), "missing exp");
    }

    #[test]
    fn key_set_validation() {
        assert!(KeySet::parse(r#"{"current":"a","keys":{"b":"0123456789abcdef0123456789abcdef"}}"#).is_err());
        assert!(KeySet::parse(r#"{"current":"a","keys":{"a":"short"}}"#).is_err());
    }
}
