//! The `auth` component over Spin service chaining
//! (`http://auth-internal.spin.internal/api/auth/internal/...`, see `auth::internal`
//! for the contract). Needs `allowed_outbound_hosts = ["http://auth-internal.spin.internal"]`.

use platform::auth::Role;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Method, Request, Response};

const BASE: &str = "http://auth-internal.spin.internal/api/auth/internal";

/// An account as `auth` reports it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct Account {
    /// `usr_…`
    pub id: String,
    /// Normalised e-mail; `null` once erased.
    pub email: Option<String>,
    /// Current role.
    pub role: Role,
    /// RFC 3339.
    pub created_at: String,
    /// True once erased.
    pub erased: bool,
    /// True once the account proved its address (`auth::verify`).
    pub email_verified: bool,
}

/// A page of accounts.
#[derive(Debug, Deserialize)]
pub struct AccountPage {
    /// Accounts in creation order.
    pub items: Vec<Account>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// An answer from `auth`: status and body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The JSON body as `T` when the status is 2xx; otherwise `auth`'s
    /// problem relayed unchanged (its 4xx are the caller's errors).
    pub fn into_json<T: serde::de::DeserializeOwned>(self) -> ApiResult<T> {
        self.ok()?;
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::BadGateway(format!("auth answered unreadable JSON: {e}")))
    }

    /// `Ok` for 2xx; the mapped error otherwise.
    pub fn ok(&self) -> ApiResult<()> {
        match self.status {
            200..=299 => Ok(()),
            400..=499 => {
                let problem: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
                let detail = problem["detail"].as_str().unwrap_or("rejected by auth").to_string();
                Err(match self.status {
                    404 => ApiError::NotFound(detail),
                    409 => ApiError::conflict(conflict_kind(&problem), detail),
                    422 => match serde_json::from_value::<Vec<RemoteFieldError>>(problem["errors"].clone()) {
                        Ok(errors) if !errors.is_empty() => ApiError::Validation(
                            errors.into_iter().map(|e| platform::FieldError::new(e.field, e.message)).collect(),
                        ),
                        _ => ApiError::field("", detail),
                    },
                    _ => ApiError::BadRequest(detail),
                })
            }
            s => Err(ApiError::BadGateway(format!("auth answered {s}"))),
        }
    }
}

/// The conflicts `auth`'s internal routes answer (`/problems/<kind>`),
/// relayed under the same kind.
const AUTH_CONFLICTS: &[&str] = &["admin-role-fixed", "email-unverified"];

/// The kind of `auth`'s 409 problem: one of [`AUTH_CONFLICTS`], else the
/// generic `conflict`.
fn conflict_kind(problem: &serde_json::Value) -> &'static str {
    let kind = problem["type"].as_str().unwrap_or_default().trim_start_matches("/problems/");
    AUTH_CONFLICTS.iter().find(|k| **k == kind).copied().unwrap_or("conflict")
}

#[derive(Deserialize)]
struct RemoteFieldError {
    field: String,
    message: String,
}

/// Sends `method path` with an optional JSON body to `auth`.
///
/// Errors: 502 when the call itself fails.
pub fn call(method: Method, path: &str, body: Option<serde_json::Value>) -> ApiResult<Reply> {
    let req = Request::builder()
        .method(method)
        .uri(format!("{BASE}{path}"))
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .build();
    let resp: Response =
        platform::web::send(req).map_err(|e| ApiError::BadGateway(format!("auth is unreachable: {e}")))?;
    Ok(Reply { status: *resp.status(), body: resp.body().to_vec() })
}

/// The account `id`.
pub fn account(id: &str) -> ApiResult<Account> {
    call(Method::Get, &format!("/accounts/{id}"), None)?.into_json()
}
