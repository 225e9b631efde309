//! Tokens handed to clients: JWT access tokens and opaque refresh tokens,
//! and the OAuth 2.0 token response that carries them.
//!
//! * Access token: HS256 JWT signed by [`platform::auth::KeySet::sign`] with
//!   the current key (`kid` header), claims `sub`, `role`, `iat`, `exp`
//!   (15 minutes), `iss`, `aud`, `jti`.
//! * Refresh token: 256 random bits, base64url without padding (43
//!   characters); the server keeps only its SHA-256 (hex), so a database
//!   leak gives nobody a usable token.

use base64::Engine;
use platform::auth::{Claims, KeySet, Role, ACCESS_TOKEN_TTL_SECS, AUDIENCE, ISSUER};
use platform::ApiError;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Refresh-token lifetime, milliseconds (30 days; each rotation starts a new 30 days).
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// A fresh opaque refresh token (256 bits, base64url, no padding).
pub fn new_refresh_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a refresh token, lower-case hex: the only form stored.
pub fn hash_refresh_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The site's page `#/{route}` as an absolute link for e-mails:
/// `{public_base_url}/#/{route}` (`public_base_url` defaults to
/// `http://127.0.0.1:3000`, a local `spin up`).
pub fn site_link(route: &str) -> String {
    let base = platform::config::get_or("public_base_url", "http://127.0.0.1:3000");
    format!("{}/#/{route}", base.trim_end_matches('/'))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// RFC 6749 §5.1 successful token response, plus the signed-in user.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The JWT access token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Access-token lifetime in seconds (900).
    pub expires_in: i64,
    /// The opaque refresh token; single use.
    pub refresh_token: String,
    /// Who signed in (extension member, allowed by RFC 6749 §5.1).
    pub user: SignedInUser,
}

/// The `user` member of a [`TokenResponse`].
#[derive(Debug, Serialize)]
pub struct SignedInUser {
    /// `usr_…`
    pub id: String,
    /// Normalised e-mail address.
    pub email: String,
    /// Role carried by the access token.
    pub role: Role,
    /// Whether the address is proven ([`crate::verify`]).
    pub email_verified: bool,
}

impl From<&crate::accounts::Account> for SignedInUser {
    fn from(a: &crate::accounts::Account) -> Self {
        SignedInUser { id: a.id.clone(), email: a.email.clone(), role: a.role, email_verified: a.email_verified() }
    }
}

/// The configured key set; 503 naming `jwt_keys` when it is missing,
/// invalid, or its published value outside the sandbox
/// ([`platform::secrets`]). Handlers that end in a token call it first, so
/// a refused key set changes nothing (no account made, no session
/// started).
pub fn keys() -> Result<KeySet, ApiError> {
    KeySet::from_config().map_err(|e| {
        platform::log::error!("auth misconfigured: {e:#}");
        ApiError::Unavailable(format!("authentication is not configured: {e}"))
    })
}

/// Signs an access token for `user_id` with `role` using the configured
/// key set, carrying the account's current token epoch
/// ([`platform::auth::current_epoch`]).
///
/// Errors: 503 as [`keys`], or when the epoch store cannot be read.
pub fn sign_access_token(user_id: &str, role: Role) -> Result<String, ApiError> {
    let keys = keys()?;
    let ep = platform::auth::current_epoch(user_id)?;
    let now = platform::clock::now_secs();
    let claims = Claims {
        sub: user_id.to_string(),
        role,
        iat: now,
        exp: now + ACCESS_TOKEN_TTL_SECS,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        jti: platform::ids::new("jti"),
        ep,
    };
    Ok(keys.sign(&claims)?)
}

/// Name of the cookie that carries the refresh token to browsers.
pub const REFRESH_COOKIE: &str = "boxoffice_refresh";
/// Path of [`REFRESH_COOKIE`]: auth's own routes, where refresh and logout
/// read it; no other component ever receives it.
pub const REFRESH_COOKIE_PATH: &str = "/api/auth";

/// The `Set-Cookie` value that hands `refresh_token` to a browser:
/// `HttpOnly` (no script, so no XSS, can read it), `Secure`,
/// `SameSite=Strict` (never sent from another site), scoped to
/// [`REFRESH_COOKIE_PATH`], for the refresh token's lifetime (issue 17,
/// item 12; OWASP ASVS 4.0 §3.4.1-§3.4.5).
pub fn refresh_cookie(refresh_token: &str) -> String {
    format!(
        "{REFRESH_COOKIE}={refresh_token}; Path={REFRESH_COOKIE_PATH}; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        REFRESH_TTL_MS / 1000
    )
}

/// The `Set-Cookie` value that removes [`REFRESH_COOKIE`] (logout).
pub fn cleared_refresh_cookie() -> String {
    format!("{REFRESH_COOKIE}=; Path={REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// A token response as `status` with `location` (for 201), carrying the
/// refresh token twice: in the JSON body for API clients, and in the
/// [`refresh_cookie`] for browsers (the site keeps no refresh token in
/// script-readable storage).
pub fn answer(status: u16, location: Option<&str>, tokens: &TokenResponse) -> platform::ApiResult {
    let mut r = platform::web::json(status, tokens);
    if let Some(l) = location {
        r.set_header("location", l);
    }
    r.set_header("set-cookie", refresh_cookie(&tokens.refresh_token));
    Ok(r)
}

/// Builds the token response of `user` for a session whose refresh token
/// is `refresh_token`.
pub fn response(user: SignedInUser, refresh_token: String) -> Result<TokenResponse, ApiError> {
    Ok(TokenResponse {
        access_token: sign_access_token(&user.id, user.role)?,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bit_and_hashed() {
        let t = new_refresh_token().unwrap();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_refresh_token().unwrap());
        let h = hash_refresh_token(&t);
        assert_eq!(h.len(), 64);
        assert_eq!(h, hash_refresh_token(&t));
        assert_eq!(hash_refresh_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
