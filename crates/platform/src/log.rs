//! Structured logs and the request they belong to (issue 18, item 2: one
//! purchase, one trace).
//!
//! Every line a component writes is ONE JSON object on stderr, ending in a
//! newline:
//!
//! ```json
//! {"ts":"2026-03-01T12:00:00.123Z","level":"warn","component":"booking-internal",
//!  "request_id":"req_01…","msg":"saga relay: attempt 2 of …","target":"saga::relay"}
//! ```
//!
//! | member | what |
//! |---|---|
//! | `ts` | when, RFC 3339 UTC with milliseconds |
//! | `level` | `error`, `warn`, `info` (`debug` and `trace` are not written) |
//! | `component` | the Spin component id (`booking`, `booking-internal`, …) |
//! | `request_id` | the request being served ([`request_id`]); `null` outside one |
//! | `msg` | the text |
//! | `target` | the Rust module that wrote it (lines of the `log` macros) |
//! | … | members of a structured line ([`line`]: `event_id`, `subscriber`, …) |
//!
//! and once per request, when it is answered, the **access line**
//! ([`access`]): `msg` `"request"` plus `method`, `route` (the pattern that
//! matched, `/api/payments/:booking_id/pay`, or `null` when none did; raw
//! paths are never logged, as they can carry ids and tokens), `status` and
//! `duration_ms`.
//!
//! Spin hands every component's stderr to its own stderr and to
//! `<state-dir>/logs/<component>_stderr.txt`, and (with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set) each write as one OpenTelemetry log
//! record (spin 4.0.2 `crates/trigger/src/cli/stdio.rs`,
//! `crates/telemetry/src/logs.rs`); the local runner passes it to its own
//! stderr. A line is therefore built whole and written with ONE write
//! (one wasi stream write takes at most 4096 bytes, so a longer line
//! reaches the host in pieces; the lines written here are far shorter).
//!
//! Text lines are written through the [`log`](https://docs.rs/log) facade:
//! components call [`error!`], [`warn!`], [`info!`] (re-exported here), and
//! [`begin`] installs the JSON writer as the facade's logger (the crate
//! costs about 1 KB of a component). Lines with members of their own (the
//! saga's `event_id`, `event_type`, …) are written with [`line`]: the
//! facade's `kv` feature would do it too, but costs about 30 KB of every
//! component (measured on `web`, wasm32-wasip2 release).
//!
//! **The request context.** [`begin`] (called by [`crate::web::serve`])
//! records the component, the request id, the method and the start time in
//! a thread-local; code anywhere in the handler reads them without having
//! them passed down ([`request_id`], [`forward`]). That is safe because a
//! component instance serves exactly one request and wasm32-wasip2 has one
//! thread (Spin and the local runner make a fresh instance per request,
//! DESIGN "Spin facts": one instance per request), so nothing else can run
//! in between and see or change it. The context is not cleared when the
//! route has answered: work the entry point does afterwards for the same
//! request (events' relay of its `EventChanged`, the sandbox's webhook
//! deliveries) still belongs to it. Were an instance ever reused, the next
//! [`begin`] replaces it whole.

use std::cell::RefCell;
use std::io::Write;

pub use ::log::{error, info, warn, Level};

/// The header that carries a request id into a component and out of it
/// (answers, chained calls, saga deliveries).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Whether `id` may be used as a request id: 1–64 characters of
/// `[A-Za-z0-9._-]` (a client's `x-request-id`, an event's `request_id`).
pub fn is_valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[derive(Debug, Clone, Default)]
struct Context {
    component: String,
    request_id: Option<String>,
    method: String,
    route: Option<&'static str>,
    started_ms: i64,
}

thread_local! {
    /// The request this instance serves (see the module docs).
    static CONTEXT: RefCell<Context> = const {
        RefCell::new(Context { component: String::new(), request_id: None, method: String::new(), route: None, started_ms: 0 })
    };
}

/// The JSON-lines writer behind the `log` facade.
struct JsonLines;

static LOGGER: JsonLines = JsonLines;

impl ::log::Log for JsonLines {
    fn enabled(&self, metadata: &::log::Metadata) -> bool {
        metadata.level() <= Level::Info
    }

    fn log(&self, record: &::log::Record) {
        if self.enabled(record.metadata()) {
            line(record.level(), &record.args().to_string(), &[("target", record.target().into())]);
        }
    }

    fn flush(&self) {}
}

/// Members every line has; a member of the same name among a line's
/// `fields` is dropped.
const RESERVED: &[&str] = &["ts", "level", "component", "request_id", "msg"];

/// The value of one member of a log line: text, an integer or `null`
/// (no floats, so no float formatting is linked for logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// A JSON string.
    Str(&'a str),
    /// A JSON integer.
    Int(i64),
    /// `null`.
    Null,
}

impl serde::Serialize for Field<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Str(v) => s.serialize_str(v),
            Field::Int(v) => s.serialize_i64(*v),
            Field::Null => s.serialize_unit(),
        }
    }
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(v: &'a str) -> Self {
        Field::Str(v)
    }
}

impl<'a> From<&'a String> for Field<'a> {
    fn from(v: &'a String) -> Self {
        Field::Str(v)
    }
}

impl<'a> From<Option<&'a str>> for Field<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Field::Null, Field::Str)
    }
}

impl From<i64> for Field<'_> {
    fn from(v: i64) -> Self {
        Field::Int(v)
    }
}

impl From<u16> for Field<'_> {
    fn from(v: u16) -> Self {
        Field::Int(v.into())
    }
}

/// Starts the context of one request: `component` (the Spin component id),
/// its `request_id` and `method`; the clock of its `duration_ms` starts
/// now. Installs the JSON writer behind the `log` facade (once per
/// instance). Called by [`crate::web::serve`]; an entry point that does not
/// use it calls this first.
pub fn begin(component: &str, request_id: &str, method: &str) {
    if ::log::set_logger(&LOGGER).is_ok() {
        ::log::set_max_level(::log::LevelFilter::Info);
    }
    CONTEXT.with(|c| {
        *c.borrow_mut() = Context {
            component: component.to_string(),
            request_id: Some(request_id.to_string()),
            method: method.to_string(),
            route: None,
            started_ms: crate::clock::now_ms(),
        }
    });
}

/// Records the route pattern that matched (`/api/bookings/:id`), for the
/// access line; [`crate::web::Router`] calls it before each handler.
pub fn set_route(pattern: &'static str) {
    CONTEXT.with(|c| c.borrow_mut().route = Some(pattern));
}

/// The id of the request being served; `None` outside one (native unit
/// tests, before [`begin`]).
pub fn request_id() -> Option<String> {
    CONTEXT.with(|c| c.borrow().request_id.clone())
}

/// Makes `id` the request id for the rest of this request: a saga delivery
/// takes the id of the request that emitted the event (`saga::receive`),
/// so the consumer's lines, its answer and the events it emits carry it.
/// An `id` that is not [`is_valid_request_id`] is ignored.
pub fn adopt(id: &str) {
    if is_valid_request_id(id) {
        CONTEXT.with(|c| c.borrow_mut().request_id = Some(id.to_string()));
    }
}

/// Runs `f` with request id `id` (when it is `Some` and valid), then puts
/// the current one back: the relay sends each delivery, and logs about it,
/// under the id of the request that emitted the event, also from a tick.
pub fn within<T>(id: Option<&str>, f: impl FnOnce() -> T) -> T {
    let Some(id) = id.filter(|id| is_valid_request_id(id)) else { return f() };
    let saved = CONTEXT.with(|c| c.borrow_mut().request_id.replace(id.to_string()));
    let out = f();
    CONTEXT.with(|c| c.borrow_mut().request_id = saved);
    out
}

/// Sets `x-request-id` of outgoing request `req` to the current request id
/// (nothing outside a request): every chained call and provider call sends
/// it, so the next component's lines carry the same id.
pub fn forward(req: &mut spin_sdk::http::Request) {
    if let Some(id) = request_id() {
        req.set_header(REQUEST_ID_HEADER, id);
    }
}

/// Writes the access line of the current request, answered with `status`
/// (`level` `error` for 5xx, else `info`; members in the module docs).
pub fn access(status: u16) {
    let (method, route, started) = CONTEXT.with(|c| {
        let c = c.borrow();
        (c.method.clone(), c.route, c.started_ms)
    });
    let level = if status >= 500 { Level::Error } else { Level::Info };
    let fields = [
        ("method", Field::from(method.as_str())),
        ("route", Field::from(route)),
        ("status", status.into()),
        ("duration_ms", (crate::clock::now_ms() - started).max(0).into()),
    ];
    line(level, "request", &fields);
}

/// Writes one line at `level` with text `msg` and the members `fields`
/// after the common ones (a member named like a common one is dropped),
/// in the current request's context: e.g. the saga relay's
/// `line(Level::Warn, "…", &[("event_id", id.into()), ("attempt", 2.into())])`.
/// Lines above `info` (`debug`, `trace`) are not written.
pub fn line(level: Level, msg: &str, fields: &[(&str, Field<'_>)]) {
    if level > Level::Info {
        return;
    }
    let line = CONTEXT.with(|c| {
        let c = c.borrow();
        render(crate::clock::now_ms(), level, &c.component, c.request_id.as_deref(), msg, fields)
    });
    // one write per line: Spin makes one OpenTelemetry record of each write
    let _ = std::io::stderr().lock().write_all(&line);
}

/// One log line as bytes: the JSON object (members in the order of the
/// module docs, then `fields`) and a newline.
fn render(
    ts_ms: i64,
    level: Level,
    component: &str,
    request_id: Option<&str>,
    msg: &str,
    fields: &[(&str, Field<'_>)],
) -> Vec<u8> {
    use serde::Serializer;
    let ts = crate::clock::rfc3339_millis(ts_ms);
    let level = level.as_str().to_ascii_lowercase();
    let head = [
        ("ts", Field::from(ts.as_str())),
        ("level", Field::from(level.as_str())),
        ("component", Field::from(component)),
        ("request_id", Field::from(request_id)),
        ("msg", Field::from(msg)),
    ];
    let mut out = Vec::with_capacity(256);
    let rest = fields.iter().filter(|(k, _)| !RESERVED.contains(k));
    // writing into a Vec cannot fail
    let _ = serde_json::Serializer::new(&mut out).collect_map(head.iter().chain(rest).map(|(k, v)| (k, v)));
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[u8]) -> serde_json::Value {
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        serde_json::from_slice(line).unwrap()
    }

    #[test]
    fn a_line_is_one_json_object_in_a_fixed_order() {
        let line = render(
            1_500,
            Level::Warn,
            "booking-internal",
            Some("req_1"),
            "say \"hi\"\nnext",
            &[("event_id", "msg_1".into())],
        );
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.starts_with(r#"{"ts":"1970-01-01T00:00:01.500Z","level":"warn","component":"booking-internal","request_id":"req_1","msg":"say \"hi\"\nnext""#), "{text}");
        let v = parse(&line);
        assert_eq!(v["msg"], "say \"hi\"\nnext");
        assert_eq!(v["event_id"], "msg_1");
    }

    #[test]
    fn outside_a_request_the_id_is_null_and_reserved_members_are_not_overwritten() {
        let v =
            parse(&render(0, Level::Error, "", None, "m", &[("level", "fake".into()), ("status", Field::Int(503))]));
        assert_eq!(v["request_id"], serde_json::Value::Null);
        assert_eq!(v["ts"], "1970-01-01T00:00:00.000Z");
        assert_eq!((v["level"].as_str(), v["status"].as_i64()), (Some("error"), Some(503)));
    }

    #[test]
    fn ids_are_adopted_and_restored() {
        begin("payments", "req_a", "POST");
        assert_eq!(request_id().as_deref(), Some("req_a"));
        within(Some("req_b"), || assert_eq!(request_id().as_deref(), Some("req_b")));
        within(Some("bad id!"), || assert_eq!(request_id().as_deref(), Some("req_a")));
        assert_eq!(request_id().as_deref(), Some("req_a"));
        adopt("has space");
        assert_eq!(request_id().as_deref(), Some("req_a"));
        adopt("req_c");
        assert_eq!(request_id().as_deref(), Some("req_c"));
    }

    #[test]
    fn request_id_rule() {
        assert!(is_valid_request_id("trace-1.a_B"));
        assert!(is_valid_request_id(&"x".repeat(64)));
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(!is_valid_request_id(bad), "{bad}");
        }
    }
}
