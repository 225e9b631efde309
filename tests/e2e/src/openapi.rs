//! Every answer to an `/api/...` request the harness sends is checked
//! against the OpenAPI 3.1 document of the repository
//! (`static/api/openapi.json`, the file `web` serves at `/api/openapi.json`).
//!
//! For one answer ([`check`]):
//!
//! 1. the operation: the path (query left out) against the document's path
//!    templates (`{name}` matches one non-empty segment, or the part of one,
//!    as in `{id}.ics`; of several matches the one with the most literal
//!    characters wins, as OpenAPI 3.1 §4.8.8 prefers concrete paths), then
//!    the method (`HEAD` as `GET`);
//! 2. the response object for the status: the exact code, then the range
//!    (`4XX`), then `default` (OpenAPI 3.1 §4.8.16);
//! 3. the body: a JSON answer (`application/json`, `application/problem+json`,
//!    any `+json`) must be a media type the response lists, and is validated
//!    against its schema with the `jsonschema` crate, draft 2020-12 (OpenAPI
//!    3.1's dialect), the whole document being the root resource so that
//!    `#/components/...` references resolve; any other body must be of a
//!    listed media type; an answer with a body whose response lists no
//!    `content` is a failure, as is an empty body where JSON is promised.
//!
//! A path that no template matches, or a documented path with a method it
//! does not document, may only be answered by the router's refusal (404
//! `/problems/no-route`, 405 `/problems/method-not-allowed`), validated
//! against `#/components/schemas/Problem`. A gzip-coded body
//! (`Content-Encoding`) has its status checked, not its body.
//!
//! Environment:
//! * `E2E_OPENAPI=off` turns the checks off, `E2E_OPENAPI=warn` prints
//!   failures on stderr instead of panicking; anything else (or unset):
//!   a failure panics, naming method, path, status and the errors.
//! * `E2E_OPENAPI_LOG=<file>` appends one line per checked answer:
//!   `<METHOD> <path template> <status> ok` (the template is `-` for an
//!   undocumented path), for coverage (`sort | uniq -c`); a failure's line
//!   ends `FAIL <path>: <errors>` instead of `ok`.
//!
//! The document is read, parsed and indexed once per process; each schema
//! is compiled the first time an answer needs it and kept.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{json, Value};

use crate::Reply;

/// The URI the document is registered under as a schema resource.
const DOC_URI: &str = "urn:boxoffice:openapi";

/// The OpenAPI document, indexed for [`Spec::check`].
pub struct Spec {
    /// The parsed document.
    doc: Value,
    /// The document as a draft 2020-12 resource at [`DOC_URI`].
    registry: Registry<'static>,
    /// Every path template, split into segments.
    templates: Vec<(String, Vec<Segment>)>,
    /// Compiled schemas by JSON pointer into the document.
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

/// One `/`-separated piece of a path template: literal text around at most
/// one `{parameter}`.
enum Segment {
    Literal(String),
    Param { prefix: String, suffix: String },
}

impl Segment {
    fn parse(text: &str) -> Segment {
        match (text.find('{'), text.find('}')) {
            (Some(open), Some(close)) if open < close => {
                Segment::Param { prefix: text[..open].to_string(), suffix: text[close + 1..].to_string() }
            }
            _ => Segment::Literal(text.to_string()),
        }
    }

    /// The literal characters this segment matched, when it matches `seg`.
    fn matches(&self, seg: &str) -> Option<usize> {
        match self {
            Segment::Literal(l) => (l == seg).then_some(l.len()),
            Segment::Param { prefix, suffix } => {
                let fits = seg.len() > prefix.len() + suffix.len()
                    && seg.starts_with(prefix.as_str())
                    && seg.ends_with(suffix.as_str());
                fits.then_some(prefix.len() + suffix.len())
            }
        }
    }
}

/// What one answer was checked against: the template (`None`: no template
/// matched) and the problems found (empty: it conforms).
pub struct Verdict {
    /// The matched path template.
    pub template: Option<String>,
    /// Every way the answer breaks the document.
    pub errors: Vec<String>,
}

/// The repository's document, loaded on first use (panics when it cannot
/// be read, parsed or registered as a schema resource).
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = crate::workspace_root().join("static/api/openapi.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Spec::new(doc)
    })
}

impl Spec {
    /// Indexes `doc` (an OpenAPI 3.1 document).
    pub fn new(doc: Value) -> Spec {
        let registry = Registry::new()
            .add(DOC_URI, Draft::Draft202012.create_resource(doc.clone()))
            .and_then(|b| b.prepare())
            .unwrap_or_else(|e| panic!("the OpenAPI document as a schema resource: {e}"));
        let templates = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|t| (t.clone(), t.trim_start_matches('/').split('/').map(Segment::parse).collect()))
                    .collect()
            })
            .unwrap_or_default();
        Spec { doc, registry, templates, compiled: Mutex::default() }
    }

    /// The parsed document.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The path template `path` (no query) falls under, if any.
    /// Segments are percent-decoded first, as the router matches them
    /// (`/api/events/%68ealth` is `/api/events/health`).
    pub fn template_of(&self, path: &str) -> Option<&str> {
        let segs: Vec<String> = path.trim_start_matches('/').split('/').map(percent_decode).collect();
        self.templates
            .iter()
            .filter(|(_, t)| t.len() == segs.len())
            .filter_map(|(name, t)| {
                let mut literal = 0;
                for (pattern, seg) in t.iter().zip(&segs) {
                    literal += pattern.matches(seg)?;
                }
                Some((literal, name.as_str()))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, name)| name)
    }

    /// Checks one answer to `method path` (the path may carry a query).
    pub fn check(&self, method: &str, path: &str, reply: &Reply) -> Verdict {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let template = self.template_of(path).map(str::to_string);
        let method_key = match method.to_ascii_lowercase().as_str() {
            "head" => "get".to_string(),
            m => m.to_string(),
        };
        let op_pointer = template
            .as_ref()
            .filter(|t| self.doc["paths"][t.as_str()].get(&method_key).is_some())
            .map(|t| format!("/paths/{}/{method_key}", escape(t)));
        let errors = match op_pointer {
            Some(op) => self.check_operation(&op, method, reply),
            None => self.check_refusal(reply),
        };
        Verdict { template, errors }
    }

    /// An answer to an undocumented path or method: only the router's
    /// refusal, as a problem.
    fn check_refusal(&self, reply: &Reply) -> Vec<String> {
        let kind = match reply.status {
            404 => "/problems/no-route",
            405 => "/problems/method-not-allowed",
            s => {
                return vec![format!(
                    "the document has no such operation, and it answered {s} (only a 404 no-route or a 405 may)"
                )]
            }
        };
        let body: Value = match serde_json::from_slice(&reply.body) {
            Ok(v) => v,
            Err(e) => return vec![format!("an undocumented operation's {} is not JSON: {e}", reply.status)],
        };
        let mut errors = self.validate("/components/schemas/Problem", &body);
        if body["type"] != kind {
            errors.push(format!(
                "an undocumented operation answered {} of type {}, not {kind}",
                reply.status, body["type"]
            ));
        }
        errors
    }

    /// The operation at JSON pointer `op` answered `reply`.
    fn check_operation(&self, op: &str, method: &str, reply: &Reply) -> Vec<String> {
        let responses = &self.pointer(op)["responses"];
        let code = reply.status.to_string();
        let range = format!("{}XX", reply.status / 100);
        let Some(key) = [code.as_str(), range.as_str(), "default"].into_iter().find(|k| responses.get(*k).is_some())
        else {
            let listed: Vec<&String> = responses.as_object().map(|o| o.keys().collect()).unwrap_or_default();
            return vec![format!("status {} is not documented (documented: {listed:?})", reply.status)];
        };
        let mut pointer = format!("{op}/responses/{}", escape(key));
        // a response may be a reference to #/components/responses/...
        while let Some(target) = self.pointer(&pointer)["$ref"].as_str() {
            pointer = target.trim_start_matches('#').to_string();
        }
        let content = self.pointer(&pointer).get("content").and_then(Value::as_object);
        let media =
            reply.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let is_json = media == "application/json" || media.ends_with("+json");
        let promises_json = content.is_some_and(|c| c.keys().any(|k| k == "application/json" || k.ends_with("+json")));
        if reply.body.is_empty() {
            return if promises_json && !method.eq_ignore_ascii_case("head") {
                vec!["the body is empty, the document promises JSON".to_string()]
            } else {
                Vec::new()
            };
        }
        let Some(content) = content else {
            return vec![format!("a {media} body, and the response documents no content")];
        };
        let Some(documented) = content.keys().find(|k| media_matches(k, &media)) else {
            return vec![format!(
                "a {media} body, and the response documents only {:?}",
                content.keys().collect::<Vec<_>>()
            )];
        };
        if !is_json || reply.header("content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity")) {
            return Vec::new();
        }
        let body: Value = match serde_json::from_slice(&reply.body) {
            Ok(v) => v,
            Err(e) => return vec![format!("a {media} body that is not JSON: {e}")],
        };
        let schema = format!("{pointer}/content/{}/schema", escape(documented));
        if self.doc.pointer(&schema).is_none() {
            return vec![format!("the response's {documented} has no schema")];
        }
        let mut errors = self.validate(&schema, &body);
        // RFC 9457 §3.1.2: a problem's status member is the answer's status
        if media == "application/problem+json" && body["status"].as_u64() != Some(u64::from(reply.status)) {
            errors.push(format!("the problem's status {} is not the answer's {}", body["status"], reply.status));
        }
        errors
    }

    /// The document's value at JSON pointer `p` (`Null` when absent).
    fn pointer(&self, p: &str) -> &Value {
        self.doc.pointer(p).unwrap_or(&Value::Null)
    }

    /// Validates `instance` against the schema at JSON pointer `pointer`
    /// into the document: every error, as `<instance path>: <message>`.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Vec<String> {
        let validator = self.compile(pointer);
        validator
            .iter_errors(instance)
            .map(|e| format!("{}{}: {e}", pointer_or_root(&e.instance_path().to_string()), schema_at(pointer)))
            .collect()
    }

    /// The compiled schema at `pointer` (compiled once).
    fn compile(&self, pointer: &str) -> Arc<Validator> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        compiled
            .entry(pointer.to_string())
            .or_insert_with(|| {
                let reference = json!({ "$ref": format!("{DOC_URI}#{}", fragment(pointer)) });
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_registry(&self.registry)
                    .build(&reference)
                    .unwrap_or_else(|e| panic!("the schema at #{pointer} does not compile: {e}"));
                Arc::new(validator)
            })
            .clone()
    }
}

/// Whether documented media type `documented` (`application/json`,
/// `image/*`, `*/*`) covers the answer's `media`.
fn media_matches(documented: &str, media: &str) -> bool {
    let documented = documented.to_ascii_lowercase();
    documented == media
        || documented == "*/*"
        || documented.strip_suffix("/*").is_some_and(|kind| media.split('/').next() == Some(kind))
}

/// `seg` with its `%XX` escapes decoded (invalid ones kept as they are).
fn percent_decode(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON pointer token (RFC 6901 §3: `~` as `~0`, `/` as `~1`).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment (RFC 6901 §6): characters a fragment
/// cannot hold percent-encoded.
fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for b in pointer.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'~' | b'-' | b'.' | b'_' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn pointer_or_root(p: &str) -> String {
    if p.is_empty() {
        "(root)".to_string()
    } else {
        p.to_string()
    }
}

/// The schema a message refers to, short: `Problem` for a component.
fn schema_at(pointer: &str) -> String {
    match pointer.strip_prefix("/components/schemas/") {
        Some(name) => format!(" [{name}]"),
        None => String::new(),
    }
}

/// What [`check_reply`] does with a failure: `E2E_OPENAPI` (see module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Off,
    Warn,
    Strict,
}

fn mode() -> Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    *MODE.get_or_init(|| match std::env::var("E2E_OPENAPI").as_deref() {
        Ok("off") => Mode::Off,
        Ok("warn") => Mode::Warn,
        _ => Mode::Strict,
    })
}

/// The harness's check of every answer it receives ([`crate::App`]'s
/// requests): `/api/...` answers are checked with [`Spec::check`], logged
/// when `E2E_OPENAPI_LOG` names a file, and a failure panics (or is printed,
/// `E2E_OPENAPI=warn`) naming method, path, status and every error.
pub fn check_reply(method: &str, path: &str, reply: &Reply) {
    if mode() == Mode::Off || !(path == "/api" || path.starts_with("/api/") || path.starts_with("/api?")) {
        return;
    }
    let verdict = spec().check(method, path, reply);
    if let Ok(log) = std::env::var("E2E_OPENAPI_LOG") {
        let line = format!(
            "{} {} {} {}\n",
            method.to_ascii_uppercase(),
            verdict.template.as_deref().unwrap_or("-"),
            reply.status,
            if verdict.errors.is_empty() {
                "ok".to_string()
            } else {
                format!("FAIL {path}: {}", verdict.errors.join(" | "))
            }
        );
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log);
        if let Err(e) = file.and_then(|mut f| f.write_all(line.as_bytes())) {
            eprintln!("E2E_OPENAPI_LOG={log}: {e}");
        }
    }
    if verdict.errors.is_empty() {
        return;
    }
    let message = format!(
        "{} {path} answered {} against static/api/openapi.json ({}):\n  {}\nbody: {}",
        method.to_ascii_uppercase(),
        reply.status,
        verdict.template.as_deref().unwrap_or("no path template"),
        verdict.errors.join("\n  "),
        String::from_utf8_lossy(&reply.body[..reply.body.len().min(2000)]),
    );
    match mode() {
        Mode::Warn => eprintln!("openapi: {message}"),
        _ => panic!("{message}"),
    }
}
