//! RFC 9457 problem details: the single error type of the Boxoffice API.
//!
//! Every handler returns [`ApiResult`]; each [`ApiError`] variant maps to one
//! HTTP status and one stable problem `type` URI (`/problems/<kind>`, relative
//! to the API origin as RFC 9457 §3.1.1 allows). Internal errors are logged
//! ([`crate::log`], with the request's id) and never shown to the client;
//! the answer's `request_id` names the log line.

use serde::Serialize;
use spin_sdk::http::{IntoResponse, Response};

/// Media type of RFC 9457 problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Result type of every HTTP handler.
pub type ApiResult<T = Response> = Result<T, ApiError>;

/// One invalid input field: `field` is a JSON-pointer-like path
/// (`"seats/2"`, `"email"`), `message` says what is wrong in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path of the offending field in the request (`"quantity"`, `"attendees/1/name"`).
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every error the API can answer with.
///
/// Status and problem type per variant (stable: clients may switch on `type`):
///
/// | variant | status | type |
/// |---|---|---|
/// | `BadRequest` | 400 | `/problems/bad-request` |
/// | `MalformedJson` | 400 | `/problems/malformed-json` |
/// | `Validation` | 422 | `/problems/validation` (at most [`MAX_FIELD_ERRORS`] listed) |
/// | `ValidationOmitted` | 422 | `/problems/validation` (+ `errors_omitted`) |
/// | `Unauthorized` | 401 | `/problems/unauthorized` (+ `WWW-Authenticate: Bearer`) |
/// | `Forbidden` | 403 | `/problems/forbidden` |
/// | `NotFound` | 404 | `/problems/not-found` |
/// | `NoRoute` | 404 | `/problems/no-route` |
/// | `MethodNotAllowed` | 405 | `/problems/method-not-allowed` |
/// | `Conflict` | 409 | `/problems/<kind>` (caller-chosen kind, e.g. `seat-unavailable`) |
/// | `Gone` | 410 | `/problems/gone` |
/// | `PayloadTooLarge` | 413 | `/problems/payload-too-large` |
/// | `UnsupportedMediaType` | 415 | `/problems/unsupported-media-type` |
/// | `TooManyRequests` | 429 | `/problems/rate-limited` (+ `Retry-After` seconds) |
/// | `BadGateway` | 502 | `/problems/upstream` |
/// | `Unavailable` | 503 | `/problems/unavailable` (+ `Retry-After`) |
/// | `StorageUnavailable` | 503 | `/problems/storage-unavailable` (+ `Retry-After`; [`sqlite_fault`]) |
/// | `Internal` | 500 | `/problems/internal` (detail hidden, error logged) |
#[derive(Debug)]
pub enum ApiError {
    /// The request is syntactically wrong in a way not tied to one field.
    BadRequest(String),
    /// The body is not valid JSON or does not have the expected shape.
    MalformedJson(String),
    /// One or more fields hold invalid values. At most
    /// [`MAX_FIELD_ERRORS`] are listed in the answer; the rest are counted
    /// in its `errors_omitted` member.
    Validation(Vec<FieldError>),
    /// Like [`ApiError::Validation`], from a validator that stopped
    /// recording after [`MAX_FIELD_ERRORS`]: `errors` are the recorded ones,
    /// `omitted` how many more it found and did not keep.
    ValidationOmitted {
        /// The recorded field errors.
        errors: Vec<FieldError>,
        /// Further field errors found but not kept.
        omitted: usize,
    },
    /// No, or an invalid, bearer credential.
    Unauthorized(String),
    /// Authenticated, but not allowed to do this.
    Forbidden(String),
    /// The named resource does not exist (or is not visible to the caller).
    NotFound(String),
    /// No handler answers this path inside the component's route.
    NoRoute(String),
    /// The path exists but not with this method.
    MethodNotAllowed(String),
    /// The request conflicts with current state; `kind` becomes `/problems/<kind>`.
    Conflict { kind: &'static str, detail: String },
    /// Like [`ApiError::Conflict`], caused by one field of the request
    /// (JSON Pointer-style path without the leading `/`, as in
    /// [`FieldError`]): the answer lists it in `errors`, so a form can show
    /// the refusal next to the field (an edit refused as a whole).
    ConflictAt { kind: &'static str, field: String, detail: String },
    /// The resource existed but is no longer available (void ticket, expired hold).
    Gone(String),
    /// The body exceeds the accepted size.
    PayloadTooLarge(String),
    /// The body is not `application/json`.
    UnsupportedMediaType(String),
    /// Rate limit hit; retry after `retry_after_secs` seconds.
    TooManyRequests { retry_after_secs: u64, detail: String },
    /// An upstream provider failed or answered nonsense; safe to retry.
    BadGateway(String),
    /// Something the request needs is not available now (another
    /// service, a configuration, a record being changed); safe to retry.
    Unavailable(String),
    /// Like [`ApiError::Unavailable`] (the same problem type), with a
    /// known wait: an upstream provider asked for no calls for
    /// `retry_after_secs` seconds (its own `Retry-After`, RFC 9110
    /// §10.2.3), which the answer passes on as `Retry-After`.
    UnavailableFor { retry_after_secs: u64, detail: String },
    /// A database or key-value store could not do what the request needs
    /// — read-only, full, busy, failing I/O, unreachable ([`sqlite_fault`],
    /// [`ApiError::storage`]): the request's writes were rolled back or
    /// never made, so nothing it would have reported is half written; safe
    /// to retry after `retry_after_secs` seconds (`Retry-After`).
    StorageUnavailable { retry_after_secs: u64, detail: String },
    /// A bug or unexpected failure; logged, never shown.
    Internal(anyhow::Error),
}

/// Most field errors one validation problem lists (OWASP ASVS 4.0 §13.1:
/// an answer's size does not grow with what a client repeats in its
/// request; a body of 1 MiB could otherwise name millions of fields); the
/// rest are counted in `errors_omitted`.
pub const MAX_FIELD_ERRORS: usize = 50;

/// The JSON body of a problem response (RFC 9457 §3 members plus the
/// extension members `errors` and `errors_omitted`). Every problem a
/// component answers also carries `request_id`, the request's id (the same
/// as its `x-request-id` header): [`crate::web::serve`] adds it to any
/// problem+json body on the way out ([`crate::web::stamp_request_id`]), so
/// problems built elsewhere (idempotency, payments' card declines) get it
/// too.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// Problem type URI reference.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors of a validation problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many further field errors were found and are not listed (at
    /// most [`MAX_FIELD_ERRORS`] are); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_omitted: Option<usize>,
}

impl ApiError {
    /// Shorthand for a single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// The recorded field errors of a validation problem (either variant);
    /// any other error is handed back as `Err`.
    pub fn field_errors(self) -> Result<Vec<FieldError>, ApiError> {
        match self {
            ApiError::Validation(e) | ApiError::ValidationOmitted { errors: e, .. } => Ok(e),
            other => Err(other),
        }
    }

    /// A key-value store (or other storage without a finer diagnosis) that
    /// failed: [`ApiError::StorageUnavailable`] with `detail`, retry after 1 s.
    pub fn storage(detail: impl Into<String>) -> Self {
        ApiError::StorageUnavailable { retry_after_secs: 1, detail: detail.into() }
    }

    /// Shorthand for a conflict of the given kind.
    pub fn conflict(kind: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { kind, detail: detail.into() }
    }

    /// HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) | ApiError::MalformedJson(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) | ApiError::NoRoute(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Conflict { .. } | ApiError::ConflictAt { .. } => 409,
            ApiError::Gone(_) => 410,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Validation(_) | ApiError::ValidationOmitted { .. } => 422,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Internal(_) => 500,
            ApiError::BadGateway(_) => 502,
            ApiError::Unavailable(_) | ApiError::UnavailableFor { .. } | ApiError::StorageUnavailable { .. } => 503,
        }
    }

    /// The problem document for this error (internal details elided).
    pub fn problem(&self) -> Problem {
        let mut errors_omitted = None;
        let (kind, title, detail, errors): (&str, &'static str, Option<String>, Vec<FieldError>) = match self {
            ApiError::BadRequest(d) => ("bad-request", "Bad request", Some(d.clone()), vec![]),
            ApiError::MalformedJson(d) => ("malformed-json", "Malformed JSON body", Some(d.clone()), vec![]),
            ApiError::Validation(e) | ApiError::ValidationOmitted { errors: e, .. } => {
                let found = e.len() + if let ApiError::ValidationOmitted { omitted, .. } = self { *omitted } else { 0 };
                let listed = e.len().min(MAX_FIELD_ERRORS);
                let detail = if found > listed {
                    errors_omitted = Some(found - listed);
                    format!("{found} field(s) are invalid; the first {listed} are listed")
                } else {
                    format!("{found} field(s) are invalid")
                };
                ("validation", "Invalid input", Some(detail), e[..listed].to_vec())
            }
            ApiError::Unauthorized(d) => ("unauthorized", "Authentication required", Some(d.clone()), vec![]),
            ApiError::Forbidden(d) => ("forbidden", "Forbidden", Some(d.clone()), vec![]),
            ApiError::NotFound(d) => ("not-found", "Not found", Some(d.clone()), vec![]),
            ApiError::NoRoute(d) => ("no-route", "No such endpoint", Some(d.clone()), vec![]),
            ApiError::MethodNotAllowed(d) => ("method-not-allowed", "Method not allowed", Some(d.clone()), vec![]),
            ApiError::Conflict { kind, detail } => (kind, "Conflict with current state", Some(detail.clone()), vec![]),
            ApiError::ConflictAt { kind, field, detail } => (
                kind,
                "Conflict with current state",
                Some(detail.clone()),
                vec![FieldError::new(field.clone(), detail.clone())],
            ),
            ApiError::Gone(d) => ("gone", "No longer available", Some(d.clone()), vec![]),
            ApiError::PayloadTooLarge(d) => ("payload-too-large", "Payload too large", Some(d.clone()), vec![]),
            ApiError::UnsupportedMediaType(d) => {
                ("unsupported-media-type", "Unsupported media type", Some(d.clone()), vec![])
            }
            ApiError::TooManyRequests { detail, .. } => {
                ("rate-limited", "Too many requests", Some(detail.clone()), vec![])
            }
            ApiError::BadGateway(d) => ("upstream", "Upstream provider failed", Some(d.clone()), vec![]),
            ApiError::Unavailable(d) | ApiError::UnavailableFor { detail: d, .. } => {
                ("unavailable", "Service temporarily unavailable", Some(d.clone()), vec![])
            }
            ApiError::StorageUnavailable { detail, .. } => {
                ("storage-unavailable", "Storage temporarily unavailable", Some(detail.clone()), vec![])
            }
            ApiError::Internal(_) => ("internal", "Internal error", None, vec![]),
        };
        Problem { type_uri: format!("/problems/{kind}"), title, status: self.status(), detail, errors, errors_omitted }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Internal(e) => write!(f, "internal error: {e:#}"),
            other => {
                let p = other.problem();
                write!(f, "{} {}: {}", p.status, p.title, p.detail.unwrap_or_default())
            }
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

/// Seconds a client should wait before retrying a write that a database
/// refused as read-only or full, or failed with an I/O error: these last
/// until an operator frees space or brings the volume back, so the hint
/// keeps clients from asking every second (a hint, not a promise).
pub const LASTING_FAULT_RETRY_SECS: u64 = 5;

/// What a failed SQLite call means for the client: a 503
/// [`ApiError::StorageUnavailable`] whose detail says which fault it was.
///
/// Spin 4.0.2 and the local runner hand every SQLite failure to the
/// component as `io(<SQLite's message>)` — SQLITE_FULL too, never the
/// interface's `database-full` (runner/tests/spin_conformance.rs, `a_full_or_read_only_…`)
/// — so the message is what tells the faults apart. The texts are SQLite's
/// own for its primary result codes (`sqlite3_errstr`,
/// <https://sqlite.org/rescode.html>):
///
/// | result code | message | `Retry-After` |
/// |---|---|---|
/// | SQLITE_READONLY | `attempt to write a readonly database` | [`LASTING_FAULT_RETRY_SECS`] |
/// | SQLITE_FULL (or `database-full`) | `database or disk is full` | [`LASTING_FAULT_RETRY_SECS`] |
/// | SQLITE_IOERR | `disk I/O error` | [`LASTING_FAULT_RETRY_SECS`] |
/// | SQLITE_BUSY, SQLITE_LOCKED | `database is locked`, `database table is locked` | 1 |
/// | anything else | | 1 |
///
/// A lock is reported only after the connection's 5 s busy timeout
/// ([`crate::db::open`]), so it is a queue of writers, gone in a moment.
pub fn sqlite_fault(e: &spin_sdk::sqlite3::Error) -> ApiError {
    use spin_sdk::sqlite3::Error;
    let message = match e {
        Error::Io(m) => m.as_str(),
        Error::DatabaseFull => "database or disk is full",
        _ => "",
    };
    let (retry_after_secs, detail) = if message.contains("readonly database") {
        (
            LASTING_FAULT_RETRY_SECS,
            "the database cannot be written to right now (read-only); nothing was changed, try again later",
        )
    } else if message.contains("database or disk is full") {
        (LASTING_FAULT_RETRY_SECS, "the database is full; nothing was changed, try again later")
    } else if message.contains("disk I/O error") {
        (
            LASTING_FAULT_RETRY_SECS,
            "the database could not be read or written (I/O error); nothing was changed, try again later",
        )
    } else if message.contains("database is locked") || message.contains("database table is locked") {
        (1, "the database is busy; nothing was changed, try again")
    } else {
        (1, "the database is unavailable; try again")
    };
    ApiError::StorageUnavailable { retry_after_secs, detail: detail.into() }
}

impl From<spin_sdk::sqlite3::Error> for ApiError {
    /// Any database failure is a retryable 503 `storage-unavailable`
    /// ([`sqlite_fault`]): the request changed nothing it reported, and the
    /// caller may try again.
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        crate::log::error!("sqlite error: {e:?}");
        sqlite_fault(&e)
    }
}

impl From<spin_sdk::key_value::Error> for ApiError {
    /// Any key-value failure is a retryable 503 `storage-unavailable`.
    fn from(e: spin_sdk::key_value::Error) -> Self {
        crate::log::error!("key-value error: {e:?}");
        ApiError::storage("the key-value store is unavailable; try again")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            crate::log::error!("internal error: {e:#}");
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut builder = Response::builder();
        builder.status(problem.status).header("content-type", PROBLEM_JSON);
        match &self {
            ApiError::Unauthorized(_) => {
                builder.header("www-authenticate", "Bearer realm=\"boxoffice\"");
            }
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                builder.header("retry-after", retry_after_secs.to_string());
            }
            ApiError::Unavailable(_) => {
                builder.header("retry-after", "1");
            }
            ApiError::StorageUnavailable { retry_after_secs, .. }
            | ApiError::UnavailableFor { retry_after_secs, .. } => {
                builder.header("retry-after", retry_after_secs.to_string());
            }
            _ => {}
        }
        builder.body(body).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_lists_fields() {
        let e = ApiError::field("quantity", "must be between 1 and 10");
        let p = e.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.type_uri, "/problems/validation");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["errors"][0]["field"], "quantity");
    }

    #[test]
    fn validation_lists_at_most_fifty_and_counts_the_rest() {
        let many: Vec<FieldError> = (0..120).map(|i| FieldError::new(format!("seats/{i}"), "bad")).collect();
        let v = serde_json::to_value(ApiError::Validation(many.clone()).problem()).unwrap();
        assert_eq!(v["errors"].as_array().unwrap().len(), MAX_FIELD_ERRORS);
        assert_eq!(v["errors_omitted"], 70);
        assert_eq!(v["detail"], "120 field(s) are invalid; the first 50 are listed");
        let v = serde_json::to_value(
            ApiError::ValidationOmitted { errors: many[..50].to_vec(), omitted: 1_000_000 }.problem(),
        )
        .unwrap();
        assert_eq!(
            (v["errors"].as_array().unwrap().len(), v["errors_omitted"].clone()),
            (50, serde_json::json!(1_000_000))
        );
        let few = serde_json::to_value(ApiError::field("a", "b").problem()).unwrap();
        assert!(few.get("errors_omitted").is_none());
    }

    #[test]
    fn internal_errors_hide_details() {
        let e = ApiError::Internal(anyhow::anyhow!("secret connection string"));
        let v = serde_json::to_value(e.problem()).unwrap();
        assert!(!v.to_string().contains("secret"));
        assert_eq!(v["status"], 500);
    }

    #[test]
    fn a_conflict_at_a_field_names_it() {
        let p = ApiError::ConflictAt {
            kind: "event-has-sales",
            field: "tiers/0/price_minor".into(),
            detail: "sold".into(),
        }
        .problem();
        assert_eq!((p.type_uri.as_str(), p.status), ("/problems/event-has-sales", 409));
        assert_eq!(p.errors[0].field, "tiers/0/price_minor");
    }

    #[test]
    fn conflict_kind_becomes_type() {
        let p = ApiError::conflict("seat-unavailable", "A1 is sold").problem();
        assert_eq!(p.type_uri, "/problems/seat-unavailable");
        assert_eq!(p.status, 409);
    }

    #[test]
    fn a_database_fault_is_a_storage_problem_saying_which() {
        use spin_sdk::sqlite3::Error;
        let answer = |e: Error| {
            let r = ApiError::from(e).into_response();
            let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
            (
                *r.status(),
                v["type"].as_str().unwrap().to_string(),
                v["detail"].as_str().unwrap().to_string(),
                r.header("retry-after").and_then(|h| h.as_str()).unwrap().to_string(),
            )
        };
        // the messages as Spin 4.0.2 hands them over (io(<SQLite's message>))
        for (message, says, retry) in [
            ("attempt to write a readonly database", "read-only", "5"),
            ("database or disk is full", "full", "5"),
            ("disk I/O error", "I/O error", "5"),
            ("database is locked", "busy", "1"),
            ("no such table: x", "unavailable", "1"),
        ] {
            let (status, kind, detail, after) = answer(Error::Io(message.into()));
            assert_eq!(
                (status, kind.as_str(), after.as_str()),
                (503, "/problems/storage-unavailable", retry),
                "{message}"
            );
            assert!(detail.contains(says), "{message}: {detail}");
        }
        assert!(answer(Error::DatabaseFull).2.contains("full"));
        assert_eq!(answer(Error::NoSuchDatabase).3, "1");
    }

    #[test]
    fn an_upstream_wait_is_passed_on() {
        let r = ApiError::UnavailableFor { retry_after_secs: 7, detail: "provider busy".into() }.into_response();
        assert_eq!(*r.status(), 503);
        assert_eq!(r.header("retry-after").and_then(|h| h.as_str()), Some("7"));
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!((v["type"].as_str(), v["detail"].as_str()), (Some("/problems/unavailable"), Some("provider busy")));
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let r = ApiError::TooManyRequests { retry_after_secs: 30, detail: "slow down".into() }.into_response();
        assert_eq!(*r.status(), 429);
        assert_eq!(r.header("retry-after").and_then(|h| h.as_str()), Some("30"));
        assert_eq!(r.header("content-type").and_then(|h| h.as_str()), Some(PROBLEM_JSON));
    }
}
