//! `web`: the static frontend, served from the edge.
//!
//! Routes (spin.toml): `/...` and `/api/openapi.json`.
//!
//! | request | answer |
//! |---|---|
//! | `GET/HEAD /path` of a file under the mounted site root | 200 with its content type, `ETag`, `Cache-Control` |
//! | `GET /dir/` | `dir/index.html` |
//! | a page of the frontend (`/events/<id>`, `/tickets/<id>`, see [`site::APP_PAGES`]) | 200 with `index.html` |
//! | same, with a matching `If-None-Match` | 304, no body |
//! | unknown page | 404 with `404.html` |
//! | `/api/...` that no API component answers | 404 problem+json (`/problems/no-route`) |
//! | `..` segments, encoded or not, NUL bytes | 400 problem+json |
//! | other methods | 405 problem+json |
//!
//! The site root is the component's `files` mount (`static/` → `/`).

use platform::{ApiError, ApiResult};
use spin_sdk::http::{IntoResponse, Method, Request, Response};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

pub mod site;

/// Directory the frontend is mounted at inside the component.
const SITE_ROOT: &str = "/";

// The export exists only in the wasm build: native builds (unit tests) link
// the crate as a plain library, where the component-model export names
// (`wasi:http/incoming-handler@0.2.0#handle`) are not valid symbols.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[http_component]
    fn handle(req: Request) -> Response {
        respond(req)
    }
}

/// Answers one request (the component's entry point, see the table above).
/// Like every component's it carries `x-request-id` (and a problem's
/// body `request_id`, [`platform::web::stamp_request_id`]) and is logged
/// once, with route `/...` (the whole site is one route).
pub fn respond(req: Request) -> Response {
    platform::log::begin("web", &platform::web::request_id(&req), &req.method().to_string());
    platform::log::set_route("/...");
    let https = platform::web::is_https(&req);
    let mut resp = match answer(&req) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    platform::web::stamp_request_id(&mut resp);
    platform::web::harden(&mut resp, https);
    platform::log::access(*resp.status());
    resp
}

fn answer(req: &Request) -> ApiResult {
    let path = req.path().to_string();
    let is_head = matches!(req.method(), Method::Head);
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Err(ApiError::MethodNotAllowed(format!("{path} is read-only")));
    }
    let rel = site::resolve(&path).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let if_none_match = platform::web::header_last(req, "if-none-match").map(str::to_string);
    match site::load(SITE_ROOT, &rel)? {
        Some(file) => Ok(site::file_response(&file, if_none_match.as_deref(), is_head, 200)),
        None if path == "/api" || path.starts_with("/api/") => {
            Err(ApiError::NoRoute(format!("no endpoint answers {path}")))
        }
        None if site::is_app_page(&path) => match site::load(SITE_ROOT, "index.html")? {
            Some(page) => Ok(site::file_response(&page, if_none_match.as_deref(), is_head, 200)),
            None => Err(ApiError::NotFound(format!("{path} does not exist"))),
        },
        None => match site::load(SITE_ROOT, "404.html")? {
            Some(page) => Ok(site::file_response(&page, None, is_head, 404)),
            None => Err(ApiError::NotFound(format!("{path} does not exist"))),
        },
    }
}
