//! Who may use the sandbox's tools.
//!
//! The sandbox has three kinds of routes:
//!
//! * **Provider APIs** (`/sandbox/payments/v1/...`, `POST /sandbox/email/emails`,
//!   `GET /sandbox/email/emails/:id`): what `payments` and `notifications`
//!   call, each checking its provider's own key exactly as the real provider
//!   does (`payment_secret_key`, `email_api_token`), see [`provider_key`].
//! * **Buyer pages**: the 3-D Secure page `/sandbox/payments/authenticate/:id`
//!   (the buyer's browser is sent there, as to a card issuer's page) and
//!   `GET /sandbox/health`. No credential.
//! * **Tools** for the people and tests running the sandbox: fault injection,
//!   the webhook list, settle, the payments dashboard, the mailbox page and
//!   its JSON (every message sent, ticket codes included). They need the
//!   secret variable `sandbox_admin_token`:
//!   - `Authorization: Bearer <sandbox_admin_token>` on any tool ([`tool`]);
//!   - or, for reading only (`GET` pages and lists, [`reader`]), the
//!     `sandbox_admin` cookie that the sign-in form sets: a page asked for
//!     without a credential answers 401 with that form, which posts the
//!     token to `POST /sandbox/login` ([`login`]). The cookie holds an
//!     HMAC of the token, not the token, and is `HttpOnly; SameSite=Strict;
//!     Path=/sandbox`; a change of the token ends every cookie.
//!
//!   No credential → 401 (`WWW-Authenticate: Bearer`); a wrong one → 403;
//!   `sandbox_admin_token` empty (its default) → 403 for everyone: the tools
//!   are closed until the local run sets a token (`cargo xtask up` makes one
//!   and prints it; the e2e harness sets its own).
//!
//! Changing state (faults, settle) never accepts the cookie: a page on
//! another port of the same host is "same-site" for the browser and would
//! carry it along on a form post.

use askama::Template;
use hmac::{Hmac, Mac};
use platform::{ApiError, ApiResult};
use sha2::Sha256;
use spin_sdk::http::{Params, Request, Response};

/// The variable holding the tools' credential (secret; empty = tools closed).
pub const TOKEN_VARIABLE: &str = "sandbox_admin_token";
/// Name of the reader cookie set by [`login`].
pub const COOKIE: &str = "sandbox_admin";

/// A sandbox route handler.
pub type Handler = fn(Request, Params) -> ApiResult<Response>;

/// Constant-time comparison of two byte strings (`subtle`; unequal
/// lengths compare unequal).
fn same(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// The cookie value for `token`: hex HMAC-SHA256 keyed by the token.
pub fn cookie_value(token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"boxoffice sandbox reader cookie v1");
    hex::encode(mac.finalize().into_bytes())
}

/// How a request stands with the tools' credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The right credential.
    Allowed,
    /// No credential at all.
    Missing,
    /// A wrong credential.
    Wrong,
    /// `sandbox_admin_token` is not set: nobody gets in.
    Closed,
}

/// Checks `req` against `expected` (the token, `None` when unset); the
/// cookie counts only when `cookie_ok`.
pub fn standing(req: &Request, expected: Option<&str>, cookie_ok: bool) -> Standing {
    let bearer = platform::web::bearer_token(req);
    let jar = if cookie_ok { platform::web::cookie(req, COOKIE) } else { None };
    let Some(expected) = expected else { return Standing::Closed };
    match (bearer, jar) {
        (Some(b), _) if same(b.as_bytes(), expected.as_bytes()) => Standing::Allowed,
        (_, Some(c)) if same(c.as_bytes(), cookie_value(expected).as_bytes()) => Standing::Allowed,
        (None, None) => Standing::Missing,
        _ => Standing::Wrong,
    }
}

fn configured() -> Option<String> {
    platform::config::get(TOKEN_VARIABLE)
}

/// The problem for a refused tool call (401, or 403).
fn refusal(s: Standing) -> ApiError {
    match s {
        Standing::Missing => {
            ApiError::Unauthorized(format!("sandbox tools need Authorization: Bearer <{TOKEN_VARIABLE}>"))
        }
        Standing::Wrong => ApiError::Forbidden("that is not the sandbox admin token".into()),
        _ => ApiError::Forbidden(format!("the sandbox tools are closed: {TOKEN_VARIABLE} is not set")),
    }
}

/// A tool that changes state: Bearer `sandbox_admin_token` only.
pub fn tool(handler: Handler) -> impl Fn(Request, Params) -> ApiResult<Response> {
    move |req, params| match standing(&req, configured().as_deref(), false) {
        Standing::Allowed => handler(req, params),
        s => Err(refusal(s)),
    }
}

/// A tool that only reads (JSON lists): Bearer or the reader cookie.
pub fn reader(handler: Handler) -> impl Fn(Request, Params) -> ApiResult<Response> {
    move |req, params| match standing(&req, configured().as_deref(), true) {
        Standing::Allowed => handler(req, params),
        s => Err(refusal(s)),
    }
}

/// An HTML page for people: like [`reader`], but a refusal is an HTML page
/// with the sign-in form (401 missing, 403 wrong or closed).
pub fn page(handler: Handler) -> impl Fn(Request, Params) -> ApiResult<Response> {
    move |req, params| match standing(&req, configured().as_deref(), true) {
        Standing::Allowed => handler(req, params),
        s => Ok(sign_in_page(s, req.path())),
    }
}

/// Where a sign-in may send the browser back to: a sandbox path, else the mailbox.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/sandbox/") && !n.contains("//") && !n.contains("..") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/sandbox/email".into(),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    title: &'static str,
    note: &'static str,
    /// Where the form sends the browser back to; no form when `None`
    /// (the tools are closed).
    next: Option<String>,
}

fn sign_in_page(s: Standing, next: &str) -> Response {
    let (status, note) = match s {
        Standing::Missing => (401, "These sandbox pages show every message and payment of this instance. Sign in with the sandbox admin token."),
        Standing::Wrong => (403, "That is not the sandbox admin token."),
        _ => (403, "The sandbox tools are closed: this instance has no sandbox_admin_token."),
    };
    let next = (s != Standing::Closed).then(|| safe_next(Some(next)));
    let mut r = crate::pages::html(status, &SignIn { title: "Sandbox sign-in", note, next });
    if status == 401 {
        r.set_header("www-authenticate", "Bearer realm=\"boxoffice-sandbox\"");
    }
    r
}

/// `POST /sandbox/login` (form `token`, optional `next`): with the right
/// token, 303 to `next` (a `/sandbox/` path; default the mailbox) setting
/// the reader cookie; otherwise the sign-in page again (403).
pub fn login(req: Request, _: Params) -> ApiResult<Response> {
    let form: std::collections::BTreeMap<String, String> = form_urlencoded::parse(req.body()).into_owned().collect();
    let Some(expected) = configured() else { return Ok(sign_in_page(Standing::Closed, "/sandbox/email")) };
    let next = safe_next(form.get("next").map(String::as_str));
    let given = form.get("token").map(|t| t.trim()).unwrap_or("");
    if given.is_empty() || !same(given.as_bytes(), expected.as_bytes()) {
        return Ok(sign_in_page(if given.is_empty() { Standing::Missing } else { Standing::Wrong }, &next));
    }
    let secure = platform::config::get("public_base_url").is_some_and(|b| b.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={}; Path=/sandbox; HttpOnly; SameSite=Strict{}",
        cookie_value(&expected),
        if secure { "; Secure" } else { "" }
    );
    Ok(Response::builder().status(303).header("location", next).header("set-cookie", cookie).body(Vec::new()).build())
}

/// Checks a provider API key: `Authorization: Bearer <value of variable>`.
/// `Err(status)` = 401 (missing, or the variable is unset: no key can be
/// right) or 403 (wrong key), for the caller to answer in its provider's
/// own error shape.
pub fn provider_key(req: &Request, variable: &str) -> Result<(), u16> {
    let given = platform::web::bearer_token(req).ok_or(401u16)?;
    let expected = platform::config::get(variable).ok_or(401u16)?;
    if same(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(403)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_and_cookie() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert_eq!(cookie_value("t1"), cookie_value("t1"));
        assert_ne!(cookie_value("t1"), cookie_value("t2"));
        assert!(!cookie_value("secret").contains("secret"));
    }

    #[test]
    fn next_stays_in_the_sandbox() {
        assert_eq!(safe_next(Some("/sandbox/payments")), "/sandbox/payments");
        for bad in [
            None,
            Some("https://evil.example/"),
            Some("//evil.example/sandbox/"),
            Some("/api/users"),
            Some("/sandbox/..//x"),
            Some("/sandbox/../api/users"),
        ] {
            assert_eq!(safe_next(bad), "/sandbox/email", "{bad:?}");
        }
    }
}
