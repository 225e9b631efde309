//! The OpenAPI 3.1 document at `/api/openapi.json` (`static/api/openapi.json`)
//! stays true, both ways:
//!
//! * every operation it lists is routed to a component (the answer is never
//!   the router's `no-route` 404 nor a 405), and is in a component's route
//!   table;
//! * every route a component serves — read from the route tables in
//!   `components/<crate>/src/lib.rs` (`fn router()` for a public component,
//!   `fn internal_router()` for a `surface = "internal"` one) of every
//!   component `spin.toml` routes to, and `web`'s files under
//!   `static/api/` — is documented, or listed in [`UNDOCUMENTED`] with why;
//! * the harness's answer check (`e2e::openapi`, which every other test's
//!   `/api/...` answers go through) does fail on an answer that breaks the
//!   document.

use std::collections::BTreeSet;

use e2e::openapi::{spec, Spec};
use e2e::{json, App, Reply, Value};

/// Routes served and deliberately not in the document: `(method, pattern
/// as in the route table, why)`.
const UNDOCUMENTED: &[(&str, &str, &str)] = &[
    // private components (route = { private = true }): only service chaining reaches them
    ("GET", "/api/auth/internal/accounts", PRIVATE),
    ("GET", "/api/auth/internal/accounts/:id", PRIVATE),
    ("PUT", "/api/auth/internal/accounts/:id/role", PRIVATE),
    ("POST", "/api/auth/internal/accounts/:id/erase", PRIVATE),
    ("GET", "/api/users/internal/:id/contact", PRIVATE),
    ("GET", "/api/events/internal/:id/access", PRIVATE),
    ("POST", "/api/events/internal/zones", PRIVATE),
    ("POST", "/api/bookings/saga", PRIVATE),
    ("GET", "/api/bookings/internal/:id/state", PRIVATE),
    ("POST", "/api/bookings/internal/:id/tickets/:ticket_id/cancel", PRIVATE),
    ("POST", "/api/payments/saga", PRIVATE),
    ("POST", "/api/tickets/saga", PRIVATE),
    ("GET", "/api/tickets/bookings/:booking_id/check-ins", PRIVATE),
    ("POST", "/api/tickets/bookings/:booking_id/tickets/:id/void", PRIVATE),
    ("POST", "/api/notifications/saga", PRIVATE),
    // the sandbox: stand-ins for the payment and e-mail providers, not this API
    ("GET", "/sandbox/health", SANDBOX),
    ("POST", "/sandbox/login", SANDBOX),
    ("GET", "/sandbox/payments", SANDBOX),
    ("POST", "/sandbox/payments/v1/payment_intents", SANDBOX),
    ("GET", "/sandbox/payments/v1/payment_intents/:id", SANDBOX),
    ("POST", "/sandbox/payments/v1/payment_intents/:id/confirm", SANDBOX),
    ("POST", "/sandbox/payments/v1/payment_intents/:id/cancel", SANDBOX),
    ("POST", "/sandbox/payments/v1/refunds", SANDBOX),
    ("GET", "/sandbox/payments/v1/refunds", SANDBOX),
    ("GET", "/sandbox/payments/authenticate/:id", SANDBOX),
    ("POST", "/sandbox/payments/authenticate/:id", SANDBOX),
    ("PUT", "/sandbox/payments/admin/faults", SANDBOX),
    ("GET", "/sandbox/payments/admin/webhooks", SANDBOX),
    ("POST", "/sandbox/payments/admin/settle", SANDBOX),
    ("POST", "/sandbox/email/emails", SANDBOX),
    ("GET", "/sandbox/email/emails/:id", SANDBOX),
    ("GET", "/sandbox/email", SANDBOX),
    ("GET", "/sandbox/email/view/:id", SANDBOX),
    ("GET", "/sandbox/email/messages", SANDBOX),
    ("GET", "/sandbox/email/requests", SANDBOX),
    ("PUT", "/sandbox/email/faults", SANDBOX),
];

const PRIVATE: &str = "a private component's route (saga inbox or internal read): no address from outside";
const SANDBOX: &str = "the sandbox provider or its tools, off in production (spin.toml ships it off)";

/// One route a component serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    method: String,
    /// The pattern as the route table writes it (`/api/holds/:id`).
    pattern: String,
    /// Where it was read from.
    source: String,
}

/// A path with every parameter written `{}` (`:id` and `{id}` alike), to
/// compare route patterns with document templates.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| match (seg.strip_prefix(':'), seg.find('{'), seg.find('}')) {
            (Some(_), _, _) => "{}".to_string(),
            (None, Some(a), Some(b)) if a < b => format!("{}{{}}{}", &seg[..a], &seg[b + 1..]),
            _ => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether route `pattern` (`/api/tickets/:id`) answers the paths of
/// document template `shape` (`/api/tickets/{}.ics`): a `:param` segment
/// takes any one segment, as spin-sdk's router does.
fn covers(pattern: &str, shape: &str) -> bool {
    let (p, s): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), shape.split('/').collect());
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| p.starts_with(':') || p == s)
}

/// One `[[trigger.http]]` or `[component.<id>]` block of spin.toml, as
/// its `key = value` lines.
fn blocks(manifest: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            out.push((line.trim_matches(|c| c == '[' || c == ']').to_string(), Vec::new()));
        } else if let (Some((k, v)), Some(last)) = (line.split_once('='), out.last_mut()) {
            if !line.starts_with('#') {
                last.1.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
            }
        }
    }
    out
}

fn value<'a>(block: &'a [(String, String)], key: &str) -> Option<&'a str> {
    block.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The `r.<method>("<pattern>"` calls in the body of `fn <name>()` of
/// `file`; panics when the function is missing or a call's pattern is not
/// a string literal (the table changed shape: teach this reader).
fn route_table(file: &str, name: &str) -> Vec<Route> {
    let path = e2e::workspace_root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start =
        text.find(&format!("fn {name}() -> Router {{")).unwrap_or_else(|| panic!("{file}: no fn {name}() -> Router"));
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    let mut routes = Vec::new();
    for method in ["get", "post", "put", "patch", "delete"] {
        let call = format!("r.{method}(");
        for (at, _) in body.match_indices(&call) {
            let rest = body[at + call.len()..].trim_start();
            let pattern =
                rest.strip_prefix('"').and_then(|r| r.split_once('"')).map(|(p, _)| p.to_string()).unwrap_or_else(
                    || {
                        panic!(
                            "{file} fn {name}: a route whose pattern is not a string literal: {}",
                            &rest[..rest.len().min(60)]
                        )
                    },
                );
            routes.push(Route { method: method.to_uppercase(), pattern, source: format!("{file} fn {name}") });
        }
    }
    assert!(!routes.is_empty(), "{file} fn {name}: no routes read");
    routes
}

/// Every route the app serves: each component spin.toml routes to, with
/// its route table (the private ones' `internal_router`), each route
/// under one of the component's spin.toml prefixes; `web` serves the
/// files of `static/api/` among the API's paths.
fn served_routes() -> Vec<Route> {
    let manifest = std::fs::read_to_string(e2e::workspace_root().join("spin.toml")).expect("spin.toml");
    let blocks = blocks(&manifest);
    let mut routes = Vec::new();
    let triggers = blocks.iter().filter(|(name, _)| name == "trigger.http");
    let mut components: Vec<(&str, Option<&str>)> = Vec::new();
    for (_, t) in triggers {
        let id = value(t, "component").expect("trigger.http without component");
        let route = value(t, "route").expect("trigger.http without route");
        let prefix = (!route.contains("private")).then(|| route.trim_end_matches("..."));
        components.push((id, prefix));
    }
    let mut ids: Vec<&str> = components.iter().map(|(id, _)| *id).collect();
    ids.dedup();
    for id in ids {
        let prefixes: Vec<&str> = components.iter().filter(|(c, _)| *c == id).filter_map(|(_, p)| *p).collect();
        let block = &blocks
            .iter()
            .find(|(name, _)| *name == format!("component.{id}"))
            .unwrap_or_else(|| panic!("no [component.{id}]"))
            .1;
        let source = value(block, "source").expect("source");
        let krate = source.rsplit('/').next().and_then(|f| f.strip_suffix(".wasm")).expect("a .wasm source");
        let vars = &blocks
            .iter()
            .find(|(name, _)| *name == format!("component.{id}.variables"))
            .map(|b| b.1.clone())
            .unwrap_or_default();
        let internal = value(vars, "surface") == Some("internal");
        if krate == "web" {
            for file in std::fs::read_dir(e2e::workspace_root().join("static/api")).expect("static/api") {
                let name = file.expect("dir entry").file_name().to_string_lossy().into_owned();
                routes.push(Route {
                    method: "GET".into(),
                    pattern: format!("/api/{name}"),
                    source: "static/api (web)".into(),
                });
            }
            continue;
        }
        let file = format!("components/{krate}/src/lib.rs");
        let table = route_table(&file, if internal { "internal_router" } else { "router" });
        for r in &table {
            assert!(
                internal || prefixes.iter().any(|p| r.pattern.starts_with(p) || r.pattern == p.trim_end_matches('/')),
                "{} {} ({}) is under none of {id}'s spin.toml routes {prefixes:?}: unreachable",
                r.method,
                r.pattern,
                r.source
            );
        }
        routes.extend(table);
    }
    routes.sort();
    routes.dedup_by(|a, b| a.method == b.method && a.pattern == b.pattern);
    routes
}

/// `(METHOD, shape)` of every operation of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), shape(path)));
            }
        }
    }
    ops
}

#[test]
fn every_served_route_is_documented_or_listed_as_undocumented() {
    let routes = served_routes();
    let doc = spec().document();
    let ops = documented(doc);
    let mut missing = Vec::new();
    for r in &routes {
        let listed = UNDOCUMENTED.iter().any(|(m, p, _)| *m == r.method && *p == r.pattern);
        let known = ops.contains(&(r.method.clone(), shape(&r.pattern)));
        if !known && !listed {
            missing.push(format!("{} {} ({})", r.method, r.pattern, r.source));
        }
        assert!(
            !(known && listed),
            "{} {} is documented and also in UNDOCUMENTED: take it out of the list",
            r.method,
            r.pattern
        );
    }
    assert!(
        missing.is_empty(),
        "served and not in static/api/openapi.json (document them, or list them in UNDOCUMENTED with why):\n{}",
        missing.join("\n")
    );
    for (m, p, _) in UNDOCUMENTED {
        assert!(
            routes.iter().any(|r| r.method == *m && r.pattern == *p),
            "UNDOCUMENTED lists {m} {p}, which no component serves any more"
        );
    }
    // the other way round, without starting the app
    for (m, s) in &ops {
        assert!(
            routes.iter().any(|r| r.method == *m && covers(&r.pattern, s)),
            "documented {m} {s} is in no route table"
        );
    }
    eprintln!(
        "{} routes served, {} operations documented, {} undocumented on purpose",
        routes.len(),
        ops.len(),
        UNDOCUMENTED.len()
    );
}

#[test]
fn every_listed_operation_is_routed() {
    let app = App::spawn();
    let doc = app.get("/api/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(&doc, spec().document(), "the served document is the repository's static/api/openapi.json");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    let mut checked = 0;
    for (path, item) in paths {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "probe_00000000000000000000000000" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let body = if method == "get" || method == "delete" { None } else { Some(json!({})) };
            let r = app.call(&method.to_uppercase(), &concrete, body.as_ref(), &[]);
            assert_ne!(r.status, 405, "{method} {path} is not routed (405)");
            if r.status == 404 && r.header("content-type").unwrap_or("").contains("problem") {
                assert_ne!(r.json()["type"], "/problems/no-route", "{method} {path} is not routed");
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} operations");
}

/// A reply as a host would send it.
fn reply(status: u16, content_type: &str, body: &Value) -> Reply {
    Reply { status, headers: vec![("content-type".into(), content_type.into())], body: body.to_string().into_bytes() }
}

#[test]
fn the_answer_check_fails_on_answers_that_break_the_document() {
    let spec: &Spec = spec();
    let user = json!({"id": "usr_1", "email": "ada@example.com", "role": "customer", "email_verified": false});
    let token =
        json!({"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 900, "refresh_token": "r", "user": user});
    let ok = spec.check("POST", "/api/auth/login", &reply(200, "application/json", &token));
    assert_eq!(ok.template.as_deref(), Some("/api/auth/login"));
    assert!(ok.errors.is_empty(), "a conforming token response: {:?}", ok.errors);

    // a required member missing, a member of the wrong type, a value outside its enum
    let mut wrong = token.clone();
    wrong.as_object_mut().unwrap().remove("refresh_token");
    wrong["expires_in"] = json!("900");
    wrong["user"]["role"] = json!("superuser");
    let bad = spec.check("POST", "/api/auth/login", &reply(200, "application/json", &wrong));
    let all = bad.errors.join("\n");
    assert!(bad.errors.len() >= 3, "three faults, three errors: {all}");
    assert!(all.contains("refresh_token") && all.contains("/expires_in") && all.contains("/user/role"), "{all}");

    // a problem without its members, through the shared $ref'd Problem schema
    let problem = json!({"type": "/problems/unauthorized", "status": "401"});
    let bad = spec.check("POST", "/api/auth/login", &reply(401, "application/problem+json", &problem));
    let all = bad.errors.join("\n");
    assert!(all.contains("title") && all.contains("request_id") && all.contains("/status"), "{all}");

    // a problem whose status member is not the answer's
    let problem = json!({"type": "/problems/unauthorized", "title": "Authentication required", "status": 403, "request_id": "req_1"});
    let bad = spec.check("POST", "/api/auth/login", &reply(401, "application/problem+json", &problem));
    assert!(bad.errors.iter().any(|e| e.contains("status 403 is not the answer's 401")), "{:?}", bad.errors);

    // a status the operation does not document; a media type it does not list
    let bad = spec.check("POST", "/api/auth/login", &reply(418, "application/json", &token));
    assert!(bad.errors.iter().any(|e| e.contains("status 418 is not documented")), "{:?}", bad.errors);
    let bad = spec.check("POST", "/api/auth/login", &reply(200, "text/html", &json!("<p>hi</p>")));
    assert!(bad.errors.iter().any(|e| e.contains("text/html")), "{:?}", bad.errors);

    // an undocumented path may only be refused by the router
    let refusal =
        json!({"type": "/problems/no-route", "title": "No such endpoint", "status": 404, "request_id": "req_1"});
    assert!(spec.check("GET", "/api/nope", &reply(404, "application/problem+json", &refusal)).errors.is_empty());
    let bad = spec.check("GET", "/api/nope", &reply(200, "application/json", &json!({})));
    assert_eq!(bad.template, None);
    assert!(!bad.errors.is_empty());

    // path templates: the most literal match wins, a part-segment parameter matches
    assert_eq!(spec.template_of("/api/tickets/tkt_1.ics"), Some("/api/tickets/{id}.ics"));
    assert_eq!(spec.template_of("/api/tickets/tkt_1"), Some("/api/tickets/{id}"));
    assert_eq!(spec.template_of("/api/events/mine"), Some("/api/events/mine"));
    assert_eq!(spec.template_of("/api/events/%68ealth"), Some("/api/events/health"));
}
