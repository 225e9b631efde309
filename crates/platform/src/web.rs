//! HTTP helpers shared by every component.
//!
//! * [`serve`] runs a [`Router`] and normalises what it answers:
//!   the router's plain-text 404/405 become problem+json (`no-route`,
//!   `method-not-allowed`), every response carries `x-request-id` and
//!   `x-content-type-options: nosniff` (plus HSTS over HTTPS, [`harden`]),
//!   every problem+json body carries the same id as `request_id`
//!   ([`stamp_request_id`]), API responses default to
//!   `cache-control: no-store`, large JSON answers are gzip-compressed for
//!   clients that accept it ([`crate::compress`]), and the request is
//!   logged once, when answered ([`crate::log::access`]).
//! * [`Router`]: spin-sdk's router, remembering which route pattern
//!   matched for the log.
//! * [`read_json`] parses a JSON body into a typed request, mapping shape
//!   errors to 422 field errors and syntax errors to 400; a body not sent
//!   as `application/json` (or `+json`) is 415 ([`require_json_content_type`]).
//! * [`Query`] reads query-string parameters with typed, validated access.
//! * [`json`], [`created`], [`no_content`] build success responses.

use crate::problem::{ApiError, ApiResult};
use spin_sdk::http::conversions::TryFromRequest;
use spin_sdk::http::{IntoResponse, Params, Request, Response};

mod body;
mod client;

pub use body::{
    created, is_json_media_type, json, no_content, ok, parse_json, read_json, read_json_within,
    require_json_content_type, MAX_JSON_BODY,
};
pub use client::{
    bearer_token, client_addr, client_ip, cookie, harden, is_https, resolve_client_ip, HSTS, TRUSTED_PROXIES,
};

/// spin-sdk's [`spin_sdk::http::Router`] with the same registration
/// methods, except that each handler first records its route pattern
/// ([`crate::log::set_route`]) so the access line names the endpoint
/// (`/api/bookings/:id`) rather than a path full of ids. Patterns are
/// `&'static str` (the literals of a route table).
#[derive(Default)]
pub struct Router {
    inner: spin_sdk::http::Router,
}

macro_rules! route_methods {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name<F, Req, Resp>(&mut self, pattern: &'static str, handler: F)
        where
            F: Fn(Req, Params) -> Resp + 'static,
            Req: TryFromRequest + 'static,
            Req::Error: IntoResponse + 'static,
            Resp: IntoResponse + 'static,
        {
            self.inner.add(pattern, spin_sdk::http::Method::$method, move |req: Req, params: Params| {
                crate::log::set_route(pattern);
                handler(req, params)
            });
        }
    )*};
}

impl Router {
    /// An empty route table: every request is 404.
    pub fn new() -> Router {
        Router::default()
    }

    route_methods! {
        /// Registers `handler` for `GET pattern` (and `HEAD`, as spin-sdk does).
        get => Get;
        /// Registers `handler` for `POST pattern`.
        post => Post;
        /// Registers `handler` for `PUT pattern`.
        put => Put;
        /// Registers `handler` for `PATCH pattern`.
        patch => Patch;
        /// Registers `handler` for `DELETE pattern`.
        delete => Delete;
    }

    /// Dispatches `req` to the best-matching handler (spin-sdk's rules);
    /// plain-text 404/405 when none matches ([`serve`] turns those into
    /// problem+json).
    pub fn handle(&self, req: Request) -> Response {
        self.inner.handle(req)
    }
}

/// Runs `router` on `req` for Spin component `component` (its id in
/// `spin.toml`) and normalises the answer (see module docs).
///
/// The request id is the client's `x-request-id` when it is 1–64 visible
/// ASCII characters ([`crate::log::is_valid_request_id`]), otherwise a
/// fresh id; a saga delivery may replace it with the id its event carries
/// ([`crate::log::adopt`]). The final id is echoed on the response.
pub fn serve(component: &str, router: &Router, req: Request) -> Response {
    let req = normalize_path(req);
    crate::log::begin(component, &request_id(&req), &req.method().to_string());
    let https = is_https(&req);
    let gzip_ok = crate::compress::accepts_gzip(&req);
    let method = req.method().to_string();
    let path = req.path().to_string();
    let mut resp = router.handle(req);
    let is_problem = resp
        .header("content-type")
        .and_then(|h| h.as_str())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !is_problem {
        let status = *resp.status();
        if status == 404 && resp.header("content-type").is_none() {
            resp = spin_sdk::http::IntoResponse::into_response(ApiError::NoRoute(format!(
                "no endpoint answers {method} {path}"
            )));
        } else if status == 405 {
            resp = spin_sdk::http::IntoResponse::into_response(ApiError::MethodNotAllowed(format!(
                "{path} does not accept {method}"
            )));
        }
    }
    stamp_request_id(&mut resp);
    if resp.header("cache-control").is_none() {
        resp.set_header("cache-control", "no-store");
    }
    harden(&mut resp, https);
    crate::compress::negotiate(&mut resp, gzip_ok);
    crate::log::access(*resp.status());
    resp
}

/// Puts the current request id ([`crate::log::request_id`]) on `resp`:
/// the `x-request-id` header and, when `resp` is an uncompressed
/// problem+json object, its `request_id` member (RFC 9457 §3.2 extension
/// member), so a client can quote the id a problem came with and an
/// operator find its log lines. Nothing outside a request.
pub fn stamp_request_id(resp: &mut Response) {
    let Some(id) = crate::log::request_id() else { return };
    let is_problem = resp
        .header("content-type")
        .and_then(|h| h.as_str())
        .is_some_and(|ct| ct.starts_with(crate::problem::PROBLEM_JSON));
    if is_problem && resp.header("content-encoding").is_none() {
        if let Some(body) = with_member(resp.body(), "request_id", &id) {
            *resp.body_mut() = body;
        }
    }
    resp.set_header(crate::log::REQUEST_ID_HEADER, id);
}

/// JSON object text `object` with member `name` set to string `value` as
/// its first member (both encoded by serde_json); `None` when `object` is
/// not an object's text. The rest is kept byte for byte: no parse, so no
/// JSON reader is linked into a component for this (a `serde_json::Value`
/// round trip cost the `web` component 60 KB). `object` must not have a
/// member `name` already (the problems built here never do).
fn with_member(object: &[u8], name: &str, value: &str) -> Option<Vec<u8>> {
    let start = object.iter().position(|b| !b.is_ascii_whitespace())?;
    if object[start] != b'{' {
        return None;
    }
    let rest = &object[start + 1..];
    let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let mut out = Vec::with_capacity(object.len() + name.len() + value.len() + 8);
    out.push(b'{');
    serde_json::to_writer(&mut out, name).ok()?;
    out.push(b':');
    serde_json::to_writer(&mut out, value).ok()?;
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// Sends `req` — a chained call to another component, or a call to a
/// provider — with the current request id as `x-request-id`
/// ([`crate::log::forward`]), and waits for the answer. Errors: what
/// spin-sdk's `send` reports (no answer, a refused host).
pub fn send(mut req: Request) -> Result<Response, spin_sdk::http::SendError> {
    crate::log::forward(&mut req);
    spin_sdk::http::run(spin_sdk::http::send(req))
}

/// `req` with its path in RFC 3986 §6.2.2 normal form: percent-encoded
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`) decoded, other escapes
/// kept with upper-case hex. Ids are unreserved text, so
/// `/api/events/%65vt_1` names `evt_1`; an escape that could change the
/// path's structure (`%2F`) or a second layer (`%2565`) stays as sent, so a
/// path parameter is never decoded twice. The query is left as it is
/// ([`Query`] decodes its values).
pub fn normalize_path(req: Request) -> Request {
    let path = req.path();
    if !path.contains('%') {
        return req;
    }
    let normal = normal_path(path);
    if normal == path {
        return req;
    }
    let query = req.query();
    let uri = match req.uri().find(path) {
        // keep scheme and authority of an absolute request target
        Some(at) if at > 0 => format!("{}{normal}", &req.uri()[..at]),
        _ => normal.clone(),
    };
    let uri = if query.is_empty() { uri } else { format!("{uri}?{query}") };
    let mut out = Request::builder().method(req.method().clone()).uri(uri).build();
    for (name, value) in req.headers() {
        out.set_header(name, String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    *out.body_mut() = req.into_body();
    out
}

/// The text of [`normalize_path`].
fn normal_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let c = (h * 16 + l) as u8;
                if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push(bytes[i + 1].to_ascii_uppercase() as char);
                    out.push(bytes[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

/// The request id: the client's `x-request-id` if it is 1–64 characters of
/// `[A-Za-z0-9._-]` ([`crate::log::is_valid_request_id`]), otherwise a new
/// [`crate::ids`] id (`req_…`).
pub fn request_id(req: &Request) -> String {
    match header_last(req, crate::log::REQUEST_ID_HEADER) {
        Some(v) if crate::log::is_valid_request_id(v) => v.to_string(),
        _ => crate::ids::new("req"),
    }
}

/// The LAST value of header `name`.
///
/// Spin appends its own `spin-*` headers after the client's, so a client can
/// send a forged `spin-client-addr` first; only the last value is trusted
/// (docs/DESIGN.md §5).
pub fn header_last<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().filter(|(n, _)| n.eq_ignore_ascii_case(name)).filter_map(|(_, v)| v.as_str()).last()
}

/// Which of its two Spin components a service's instance is serving.
///
/// A service with endpoints for other components only (saga inboxes,
/// internal reads) is declared twice in `spin.toml`, both from the same
/// `.wasm`: `<service>` on its public routes, and `<service>-internal` on
/// `route = { private = true }` with the component variable
/// `surface = "internal"`. Spin gives a private component no route from
/// outside at all: it is reached only by service chaining as
/// `http://<service>-internal.spin.internal/...` (Spin's HTTP trigger
/// dispatches such requests by component id, spin 4.0.2
/// `crates/trigger-http/src/outbound_http.rs`). The public component never
/// registers the internal routes, so nothing a client sends (a forged
/// `Host`, `spin-full-url` or `spin-client-addr`) can reach them on any
/// Spin version; no handler inspects request headers to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Routes reachable from outside (`spin.toml` routes).
    Public,
    /// Routes reachable only by service chaining (a private component).
    Internal,
}

impl Surface {
    /// The component variable that names the surface (`"internal"`; any
    /// other value, or none, is [`Surface::Public`]).
    pub const VARIABLE: &'static str = "surface";

    /// The surface of this instance, read from [`Surface::VARIABLE`].
    pub fn current() -> Surface {
        match crate::config::get(Self::VARIABLE).as_deref() {
            Some("internal") => Surface::Internal,
            _ => Surface::Public,
        }
    }

    /// The Spin component id of `service` on this surface: `service`, or
    /// `<service>-internal` (`spin.toml` names the private component so).
    pub fn component(self, service: &str) -> String {
        match self {
            Surface::Public => service.to_string(),
            Surface::Internal => format!("{service}-internal"),
        }
    }

    /// The route table of this surface: `public()` or `internal()`.
    pub fn router(self, public: fn() -> Router, internal: fn() -> Router) -> Router {
        match self {
            Surface::Public => public(),
            Surface::Internal => internal(),
        }
    }
}

/// Runs `req` through the route table of [`Surface::current`] (see
/// [`serve`]): the entry point of service `service` with a private
/// component. Its log lines name the Spin component that serves, `service`
/// or `<service>-internal` ([`Surface::component`]).
pub fn serve_surfaces(service: &str, public: fn() -> Router, internal: fn() -> Router, req: Request) -> Response {
    let surface = Surface::current();
    serve(&surface.component(service), &surface.router(public, internal), req)
}

/// The `Idempotency-Key` header, if any, as text.
///
/// Errors: 400 when present but not a valid
/// [`crate::idempotency::IdempotencyKey`] (1-255 visible ASCII characters).
/// Handlers that create state use [`crate::idempotency::once`] instead.
pub fn idempotency_key(req: &Request) -> ApiResult<Option<String>> {
    Ok(crate::idempotency::IdempotencyKey::from_request(req)?.map(|k| k.as_str().to_string()))
}

/// Decoded query-string parameters of a request.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `application/x-www-form-urlencoded` query text (without `?`).
    pub fn parse(raw: &str) -> Self {
        Self { pairs: form_urlencoded::parse(raw.as_bytes()).into_owned().collect() }
    }

    /// The query of `req`.
    pub fn of(req: &Request) -> Self {
        Self::parse(req.query())
    }

    /// The first value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// All values of `name` (repeated parameters).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The value of `name` parsed as `T`; 422 naming the parameter when it
    /// does not parse.
    pub fn parse_opt<T: std::str::FromStr>(&self, name: &str) -> ApiResult<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                v.parse::<T>().map(Some).map_err(|_| ApiError::field(name, format!("'{v}' is not a valid value")))
            }
        }
    }

    /// A page size: default `default`, must be within `1..=max` (422 otherwise).
    pub fn limit(&self, default: u32, max: u32) -> ApiResult<u32> {
        match self.parse_opt::<u32>("limit")? {
            None => Ok(default),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::field("limit", format!("must be between 1 and {max}"))),
        }
    }
}

/// How long an answer's `Retry-After` asks to wait, in ms from `now_ms`
/// (RFC 9110 §10.2.3: delay-seconds, or an HTTP-date read by the
/// `httpdate` crate, IMF-fixdate and the two obsolete forms); `None` when
/// the value is neither. A date in the past is 0.
pub fn retry_after_ms(value: &str, now_ms: i64) -> Option<i64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse::<i64>().unwrap_or(i64::MAX / 1000).saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some((at_ms - now_ms).max(0))
}

#[cfg(test)]
mod tests {

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(retry_after_ms("120", now), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", now), Some(0));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(30_000));
        assert_eq!(retry_after_ms("Wednesday, 21-Oct-15 07:29:00 GMT", now), Some(60_000));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(0), "a date past is now");
        for bad in ["", "-5", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(retry_after_ms(bad, now), None, "{bad:?}");
        }
    }
    #[test]
    fn paths_are_normalized_once_per_rfc_3986() {
        use super::normal_path;
        assert_eq!(normal_path("/api/events/%65vt_1"), "/api/events/evt_1");
        assert_eq!(normal_path("/api/events/%65%76%74_%31"), "/api/events/evt_1");
        assert_eq!(normal_path("/a/%2fb/%2F"), "/a/%2Fb/%2F");
        assert_eq!(normal_path("/a/%2565"), "/a/%2565");
        assert_eq!(normal_path("/a/%7e%2D%2e%5F"), "/a/~-._");
        assert_eq!(normal_path("/a/%zz/%4"), "/a/%zz/%4");
        assert_eq!(normal_path("/a%"), "/a%");
    }

    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        quantity: u32,
        seats: Vec<String>,
    }

    #[test]
    fn wrong_type_names_the_field() {
        match parse_json::<Order>(br#"{"quantity": "two", "seats": []}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "quantity"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn out_of_range_number_is_validation() {
        for q in ["-1", "1.5", "4294967296", "9223372036854775808", "null"] {
            let body = format!(r#"{{"quantity": {q}, "seats": []}}"#);
            assert!(matches!(parse_json::<Order>(body.as_bytes()), Err(ApiError::Validation(_))), "{q}");
        }
    }

    #[test]
    fn syntax_error_is_malformed() {
        assert!(matches!(parse_json::<Order>(b"{\"quantity\": 1,"), Err(ApiError::MalformedJson(_))));
    }

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/ld+json",
            "application/vnd.api+json ; x=1",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/+json",
            "text/json",
            "application/jsonp",
            "json",
        ] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let xff = ["198.51.100.7, 203.0.113.9"];
        // no trusted proxy: the peer, whatever the header says
        assert_eq!(resolve_client_ip("127.0.0.1:5000", &xff, "").as_deref(), Some("127.0.0.1"));
        assert_eq!(resolve_client_ip("10.0.0.2:1", &xff, "10.0.0.9").as_deref(), Some("10.0.0.2"));
        // behind the proxy: the right-most address it did not add itself
        assert_eq!(resolve_client_ip("10.0.0.2:1", &xff, "10.0.0.2").as_deref(), Some("203.0.113.9"));
        assert_eq!(
            resolve_client_ip("10.0.0.2:1", &["198.51.100.7", "203.0.113.9, 10.0.0.3"], "10.0.0.2 10.0.0.3").as_deref(),
            Some("203.0.113.9")
        );
        // garbage ends the walk at the proxy itself
        assert_eq!(resolve_client_ip("10.0.0.2:1", &["evil, nonsense"], "10.0.0.2").as_deref(), Some("10.0.0.2"));
        assert_eq!(resolve_client_ip("[::1]:8080", &["2001:db8::1"], "::1").as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn a_member_is_put_first_into_object_text() {
        let with =
            |text: &str| with_member(text.as_bytes(), "request_id", "r\"1").map(|b| String::from_utf8(b).unwrap());
        assert_eq!(with(r#"{"a":1}"#).as_deref(), Some(r#"{"request_id":"r\"1","a":1}"#));
        assert_eq!(with(" { } ").as_deref(), Some(r#"{"request_id":"r\"1" } "#));
        assert_eq!(with("[1]"), None);
        assert_eq!(with(""), None);
        let v: serde_json::Value = serde_json::from_str(&with("{\n \"type\": \"x\"}").unwrap()).unwrap();
        assert_eq!((v["request_id"].as_str(), v["type"].as_str()), (Some("r\"1"), Some("x")));
    }

    #[test]
    fn problems_and_answers_carry_the_request_id() {
        crate::log::begin("test", "req-stamp-1", "GET");
        let mut problem = ApiError::NotFound("gone".into()).into_response();
        stamp_request_id(&mut problem);
        assert_eq!(problem.header("x-request-id").and_then(|h| h.as_str()), Some("req-stamp-1"));
        let body: serde_json::Value = serde_json::from_slice(problem.body()).unwrap();
        assert_eq!((body["request_id"].as_str(), body["status"].as_u64()), (Some("req-stamp-1"), Some(404)));
        // a JSON answer that is not a problem keeps its body
        let mut ok = json(200, &serde_json::json!({"a": 1}));
        stamp_request_id(&mut ok);
        assert_eq!(ok.body(), br#"{"a":1}"#);
        assert_eq!(ok.header("x-request-id").and_then(|h| h.as_str()), Some("req-stamp-1"));
    }

    #[test]
    fn query_limit_bounds() {
        assert_eq!(Query::parse("limit=5").limit(20, 100).unwrap(), 5);
        assert_eq!(Query::parse("").limit(20, 100).unwrap(), 20);
        assert!(Query::parse("limit=0").limit(20, 100).is_err());
        assert!(Query::parse("limit=101").limit(20, 100).is_err());
        assert!(Query::parse("limit=x").limit(20, 100).is_err());
    }

    #[test]
    fn query_decodes_percent_and_plus() {
        let q = Query::parse("q=rock+%26+roll&city=Las%20Vegas");
        assert_eq!(q.get("q"), Some("rock & roll"));
        assert_eq!(q.get("city"), Some("Las Vegas"));
    }
}
