//! The email provider client, modelled on Resend's HTTP API
//! (`POST /emails`, documented at resend.com/docs/api-reference/emails/send-email):
//!
//! ```text
//! POST {email_api_base}/emails
//! Authorization: Bearer {email_api_token}
//! Idempotency-Key: {job id}
//! Content-Type: application/json
//!
//! {"from":"Boxoffice <tickets@…>","to":["ada@example.com"],"subject":"…","html":"…","text":"…",
//!  "tags":[{"name":"kind","value":"tickets"}]}
//! ```
//!
//! answered `200 {"id":"<provider message id>"}`. The same Idempotency-Key
//! sent again returns the first answer without sending again (Resend keeps
//! keys 24 h), so a retry after a lost answer never doubles an email.
//!
//! Configuration (Spin variables, docs/DESIGN.md §6): `email_api_base` (default
//! `http://sandbox.spin.internal/sandbox/email`, the local stand-in reached
//! over service chaining), `email_api_token` (secret), `email_from`.

use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request};

/// Default provider base URL: the sandbox over Spin service chaining.
pub const DEFAULT_BASE: &str = "http://sandbox.spin.internal/sandbox/email";
/// Default sender.
pub const DEFAULT_FROM: &str = "Boxoffice <tickets@boxoffice.local>";

/// One outgoing email as the provider API takes it.
#[derive(Debug, Clone, Serialize)]
pub struct SendEmail<'a> {
    /// `Name <address>` or a bare address.
    pub from: &'a str,
    /// Recipients (one here).
    pub to: Vec<&'a str>,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
    /// `[{"name":"kind","value":"tickets"}]`, for the provider's dashboards.
    pub tags: Vec<Tag<'a>>,
}

/// A provider tag.
#[derive(Debug, Clone, Serialize)]
pub struct Tag<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the provider's message id.
    Sent(String),
    /// Worth retrying later (5xx, 408, 409 in-flight duplicate, 429,
    /// 401/403 until the token is fixed, no answer).
    Retry(String),
    /// Worth retrying, and the provider said when: a 429 or 503 with a
    /// `Retry-After` (RFC 9110 §10.2.3), `after_ms` from now.
    RetryAfter { why: String, after_ms: i64 },
    /// The provider says the message itself is wrong (400, 422): retrying
    /// cannot help.
    Permanent(String),
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

/// Classifies a provider answer: its status, its `Retry-After` as ms from
/// now ([`platform::web::retry_after_ms`]) and its body.
pub fn classify(status: u16, retry_after_ms: Option<i64>, body: &[u8]) -> Outcome {
    let snippet = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    match status {
        200..=299 => match serde_json::from_slice::<Accepted>(body) {
            Ok(a) if !a.id.is_empty() => Outcome::Sent(a.id),
            _ => Outcome::Retry(format!("provider answered {status} without a message id")),
        },
        400 | 422 => Outcome::Permanent(format!("provider refused the message ({status}): {}", snippet())),
        429 | 503 if retry_after_ms.is_some() => Outcome::RetryAfter {
            why: format!("provider answered {status}: {}", snippet()),
            after_ms: retry_after_ms.unwrap_or(0),
        },
        _ => Outcome::Retry(format!("provider answered {status}: {}", snippet())),
    }
}

/// Sends `email` with `idempotency_key` (the job id) to the configured
/// provider.
pub fn send(email: &SendEmail<'_>, idempotency_key: &str) -> Outcome {
    let base = platform::config::get_or("email_api_base", DEFAULT_BASE);
    let url = format!("{}/emails", base.trim_end_matches('/'));
    let token = platform::config::get("email_api_token").unwrap_or_default();
    let body = match serde_json::to_vec(email) {
        Ok(b) => b,
        Err(e) => return Outcome::Permanent(format!("cannot serialise the email: {e}")),
    };
    let req = Request::builder()
        .method(Method::Post)
        .uri(&url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", idempotency_key)
        .body(body)
        .build();
    match platform::web::send(req) {
        Ok(resp) => {
            let after = resp
                .header("retry-after")
                .and_then(|v| v.as_str())
                .and_then(|v| platform::web::retry_after_ms(v, platform::clock::now_ms()));
            classify(*resp.status(), after, resp.body())
        }
        Err(e) => Outcome::Retry(format!("{url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        assert_eq!(classify(200, None, br#"{"id":"em_1"}"#), Outcome::Sent("em_1".into()));
        assert!(matches!(classify(200, None, b"{}"), Outcome::Retry(_)));
        assert!(matches!(classify(422, None, b"{\"message\":\"bad to\"}"), Outcome::Permanent(_)));
        for s in [401, 403, 408, 409, 429, 500, 502, 503, 504] {
            assert!(matches!(classify(s, None, b""), Outcome::Retry(_)), "{s}");
        }
        assert!(matches!(classify(429, Some(30_000), b""), Outcome::RetryAfter { after_ms: 30_000, .. }));
        assert!(matches!(classify(503, Some(0), b""), Outcome::RetryAfter { after_ms: 0, .. }));
        assert!(matches!(classify(500, Some(30_000), b""), Outcome::Retry(_)), "only 429 and 503 name a wait");
    }

    #[test]
    fn request_shape_is_resend_like() {
        let e = SendEmail {
            from: "A <a@x>",
            to: vec!["b@x"],
            subject: "s",
            html: "<p>h</p>",
            text: "t",
            tags: vec![Tag { name: "kind", value: "tickets" }],
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["to"][0], "b@x");
        assert_eq!(v["tags"][0]["value"], "tickets");
    }
}
