//! JSON request bodies (content type, size, typed parsing with field
//! errors) and the success answers built from JSON.

use super::header_last;
use crate::problem::{ApiError, ApiResult, FieldError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use spin_sdk::http::{Request, Response};

/// Largest request body accepted by [`read_json`], in bytes (1 MiB).
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// Whether media type text `content_type` (a `Content-Type` header value,
/// parameters allowed) names JSON: `application/json` or a structured
/// syntax suffix `application/<subtype>+json` (RFC 6839 §3.1, e.g.
/// `application/ld+json`), any case, e.g. Stripe's
/// `application/json; charset=utf-8`.
pub fn is_json_media_type(content_type: &str) -> bool {
    let mt = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mt.split_once('/') {
        Some(("application", sub)) => sub == "json" || (sub.len() > "+json".len() && sub.ends_with("+json")),
        _ => false,
    }
}

/// 415 `unsupported-media-type` unless the request says its body is JSON
/// ([`is_json_media_type`]); a missing `Content-Type` is refused too.
///
/// Why: a browser sends `text/plain`, form types, or no `Content-Type` at
/// all (`navigator.sendBeacon`, `fetch` with a `Blob` body) cross-site
/// without a CORS preflight; requiring a JSON type means a foreign page can
/// never make a state-changing API call that reads its body (the OWASP CSRF
/// cheat sheet's "custom request headers / content type" defence).
pub fn require_json_content_type(req: &Request) -> ApiResult<()> {
    match header_last(req, "content-type") {
        Some(ct) if is_json_media_type(ct) => Ok(()),
        Some(ct) => Err(ApiError::UnsupportedMediaType(format!(
            "the body must be sent as Content-Type: application/json, not {}",
            ct.split(';').next().unwrap_or("").trim()
        ))),
        None => Err(ApiError::UnsupportedMediaType(
            "the body must be sent with Content-Type: application/json (none was given)".into(),
        )),
    }
}

/// Parses the JSON body into `T`.
///
/// Errors: 413 above [`MAX_JSON_BODY`]; 400 `malformed-json` for an empty
/// body sent without a `Content-Type`; 415 when the body is not declared
/// JSON (see [`require_json_content_type`]: a missing `Content-Type` counts);
/// 400 `malformed-json` for invalid JSON or an empty JSON body; 422
/// `validation` naming the field when the JSON is well-formed but a field
/// has the wrong type or is missing.
pub fn read_json<T: DeserializeOwned>(req: &Request) -> ApiResult<T> {
    read_json_within(req, MAX_JSON_BODY)
}

/// [`read_json`] with another size limit, `max_bytes` (importers take
/// larger documents).
pub fn read_json_within<T: DeserializeOwned>(req: &Request, max_bytes: usize) -> ApiResult<T> {
    let body = req.body();
    if body.len() > max_bytes {
        return Err(ApiError::PayloadTooLarge(format!("the body is over {max_bytes} bytes")));
    }
    let blank = body.iter().all(|b| b.is_ascii_whitespace());
    if !(blank && header_last(req, "content-type").is_none()) {
        require_json_content_type(req)?;
    }
    if blank {
        return Err(ApiError::MalformedJson("the request body is empty; a JSON object is required".into()));
    }
    parse_json(body)
}

/// Parses `bytes` as JSON into `T` with the error mapping of [`read_json`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => {
                    Err(ApiError::MalformedJson(format!("invalid JSON: {inner}")))
                }
                Category::Data => {
                    let field = if path == "." { String::new() } else { path.replace('.', "/") };
                    Err(ApiError::Validation(vec![FieldError::new(field, strip_position(&inner.to_string()))]))
                }
            }
        }
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A JSON response with the given status.
pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::builder().status(status).header("content-type", "application/json").body(body).build(),
        Err(e) => spin_sdk::http::IntoResponse::into_response(ApiError::Internal(e.into())),
    }
}

/// `200 OK` with a JSON body.
pub fn ok<T: Serialize + ?Sized>(value: &T) -> ApiResult {
    Ok(json(200, value))
}

/// `201 Created` with a `Location` header and a JSON body.
pub fn created<T: Serialize + ?Sized>(location: &str, value: &T) -> ApiResult {
    let mut r = json(201, value);
    r.set_header("location", location);
    Ok(r)
}

/// `204 No Content`.
pub fn no_content() -> ApiResult {
    Ok(Response::builder().status(204).body(Vec::new()).build())
}
