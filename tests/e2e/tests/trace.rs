//! One purchase, one trace (issue 18, item 2): a buyer registers, holds,
//! books and pays, each request with its own client-chosen `x-request-id`,
//! and the host's stderr is read back as JSON lines. The pay request's id
//! must be on the lines of every component the purchase passes through
//! after it — payments, the payment provider (sandbox), booking, tickets,
//! notifications — including the saga deliveries between them, and on a
//! delivery that failed (notifications' database held locked) and was
//! retried later from a tick, which runs under an id of its own. Problem
//! answers carry the id in their body. Every component line is JSON; the
//! host's own lines (Spin's, the runner's) may be plain text.

use e2e::accounts::{self, Minted};
use e2e::catalog;
use e2e::payments::{card, VISA_OK};
use e2e::tickets as t;
use e2e::{json, App, Reply, Value};
use std::time::Duration;

/// Members every component line has.
const MEMBERS: &[&str] = &["ts", "level", "component", "request_id", "msg"];

/// The component lines of `log` (every line that is a JSON object; each
/// is checked to have [`MEMBERS`]). Lines that are not JSON must be the
/// host's own (see [`host_line`]).
fn component_lines(log: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        if !line.starts_with('{') {
            assert!(host_line(line), "a line that is neither JSON nor the host's own: {line:?}");
            continue;
        }
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for m in MEMBERS {
            assert!(v.get(*m).is_some(), "no `{m}` member: {line}");
        }
        assert!(["error", "warn", "info"].contains(&v["level"].as_str().unwrap()), "{line}");
        assert!(
            v["ts"].as_str().unwrap().ends_with('Z') && v["ts"].as_str().unwrap().len() == 24,
            "RFC 3339 with ms: {line}"
        );
        out.push(v);
    }
    out
}

/// Whether a plain-text line is one the host writes itself: Spin's
/// start-up and route list (component output is only ever JSON), or the
/// local runner's start-up and request log (`runner/src/server.rs`).
fn host_line(line: &str) -> bool {
    match e2e::host() {
        apphost::Host::Spin => true, // checked against the per-component files instead, see below
        apphost::Host::Runner => {
            let request = line.trim_start_matches("(chained) ");
            line.starts_with("loaded component ")
                || line.starts_with("warning: ")
                || request.split_once(' ').is_some_and(|(m, rest)| {
                    m.chars().all(|c| c.is_ascii_uppercase()) && rest.starts_with('/') && rest.contains(" -> ")
                })
        }
    }
}

/// The service of a Spin component id (`booking-internal` → `booking`).
fn service(v: &Value) -> &str {
    let c = v["component"].as_str().unwrap();
    c.strip_suffix("-internal").unwrap_or(c)
}

/// The lines of request `id`.
fn of<'a>(lines: &'a [Value], id: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["request_id"] == id).collect()
}

/// The saga-inbox lines (`saga: <type> <id> from <producer> applied`) of
/// `lines` in `component` for event type `event_type`.
fn applied<'a>(lines: &[&'a Value], component: &str, event_type: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .copied()
        .filter(|v| v["component"] == component && v["event_type"] == event_type && v["outcome"] == "applied")
        .collect()
}

/// `method path` with `x-request-id: id` (and a bearer token).
fn call(app: &App, id: &str, method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("x-request-id", id)];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let r = app.call(method, path, body, &headers);
    assert_eq!(r.header("x-request-id"), Some(id), "the answer echoes the id");
    r
}

/// Polls the host log until `done` holds for its component lines (10 s:
/// a host may pass a line on a moment after the answer).
fn wait_lines(app: &App, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    t::wait_for(10, || {
        let lines = component_lines(&app.host_log());
        done(&lines).then_some(lines)
    })
    .unwrap_or_else(|| panic!("{what}; the log:\n{}", app.host_log()))
}

#[test]
fn one_purchase_carries_its_request_ids_through_every_component_and_a_retried_delivery() {
    let app = App::spawn_logged(&[]);
    let tag = std::process::id();
    let (register_id, hold_id, book_id, pay_id) = (
        format!("trace-register-{tag}"),
        format!("trace-hold-{tag}"),
        format!("trace-book-{tag}"),
        format!("trace-pay-{tag}"),
    );

    // an organizer's published event (not part of the purchase)
    let org = accounts::organizer(Minted);
    let venue =
        catalog::create_venue(&app, &org.token, &catalog::ga_venue("Trace Hall", "New York", "America/New_York"));
    let ev = catalog::create_event(
        &app,
        &org.token,
        &catalog::event_body(&venue, "Trace night", &catalog::days_ahead(30, "20:00")),
    );
    let (event_id, tier_id) =
        (ev["id"].as_str().unwrap().to_string(), ev["tiers"][0]["id"].as_str().unwrap().to_string());
    catalog::publish(&app, &org.token, &event_id);

    // the purchase: register, hold, book
    let email = accounts::unique_email("trace");
    let reg = call(
        &app,
        &register_id,
        "POST",
        "/api/auth/register",
        Some(&json!({"email": email, "password": accounts::PASSWORD})),
        None,
    );
    assert_eq!(reg.status, 201, "{}", reg.text());
    let token = reg.json()["access_token"].as_str().unwrap().to_string();
    let hold = call(
        &app,
        &hold_id,
        "POST",
        "/api/holds",
        Some(&json!({"event_id": event_id, "tier_id": tier_id, "quantity": 2})),
        Some(&token),
    );
    assert_eq!(hold.status, 201, "{}", hold.text());
    let booking = call(
        &app,
        &book_id,
        "POST",
        "/api/bookings",
        Some(
            &json!({"hold_id": hold.json()["id"], "buyer": {"name": "Ada Lovelace", "email": email, "phone": "+14155550100"},
                     "attendees": [{"name": "Ada Lovelace"}, {"name": "Charles Babbage"}]}),
        ),
        Some(&token),
    );
    assert_eq!(booking.status, 201, "{}", booking.text());
    let booking_id = booking.json()["id"].as_str().unwrap().to_string();

    // pay while notifications' database is held by another writer: its
    // deliveries (BookingConfirmed, TicketsIssued) answer 503 after the
    // 5 s busy timeout and wait for a retry
    let lock = rusqlite::Connection::open(app.state_dir().join("notifications.db")).expect("open notifications.db");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("lock notifications.db");
    let paid =
        call(&app, &pay_id, "POST", &format!("/api/payments/{booking_id}/pay"), Some(&card(VISA_OK)), Some(&token));
    assert_eq!(paid.status, 200, "{}", paid.text());
    let lines = wait_lines(&app, "the first attempts of notifications' deliveries", |l| {
        of(l, &pay_id).iter().filter(|v| v["component"] == "notifications-internal" && v["status"] == 503).count() >= 2
    });
    lock.execute_batch("ROLLBACK").expect("unlock notifications.db");
    drop(lock);

    // every line is JSON with the members; access lines say what was served
    let access: Vec<&Value> = lines.iter().filter(|v| v["msg"] == "request").collect();
    assert!(access.len() >= 10, "{access:?}");
    for v in &access {
        assert!(v["method"].is_string() && v["status"].is_u64() && v["duration_ms"].is_u64(), "access line: {v}");
        assert!(v["route"].is_string() || v["route"].is_null(), "access line: {v}");
        assert!(!v["route"].as_str().unwrap_or_default().contains("bkg_"), "a route is a pattern, not a path: {v}");
    }

    // each purchase request's id is on its own component's access line
    let route_of = |id: &str, component: &str| -> Vec<(Value, Value)> {
        of(&lines, id)
            .iter()
            .filter(|v| v["msg"] == "request" && v["component"] == component)
            .map(|v| (v["route"].clone(), v["status"].clone()))
            .collect()
    };
    assert_eq!(route_of(&register_id, "auth"), [(json!("/api/auth/register"), json!(201))]);
    assert_eq!(route_of(&hold_id, "booking"), [(json!("/api/holds"), json!(201))]);
    assert_eq!(route_of(&book_id, "booking"), [(json!("/api/bookings"), json!(201))]);
    assert_eq!(route_of(&pay_id, "payments"), [(json!("/api/payments/:booking_id/pay"), json!(200))]);
    // the checkout's BookingOrdered reached payments and notifications under the checkout's id
    let book = of(&lines, &book_id);
    assert_eq!(applied(&book, "payments-internal", "BookingOrdered").len(), 1, "{book:?}");
    assert_eq!(applied(&book, "notifications-internal", "BookingOrdered").len(), 1, "{book:?}");

    // after pay: the provider, booking (PaymentSucceeded), tickets
    // (BookingConfirmed), and notifications' failed first attempts, all on the pay id
    let pay = of(&lines, &pay_id);
    let mut services: Vec<&str> = pay.iter().map(|v| service(v)).collect();
    services.sort();
    services.dedup();
    for s in ["payments", "sandbox", "booking", "tickets", "notifications"] {
        assert!(services.contains(&s), "no {s} line carries the pay id {pay_id}; services {services:?}");
    }
    assert_eq!(applied(&pay, "booking-internal", "PaymentSucceeded").len(), 1, "{pay:?}");
    assert_eq!(applied(&pay, "tickets-internal", "BookingConfirmed").len(), 1, "{pay:?}");
    let retried: Vec<&&Value> =
        pay.iter().filter(|v| v["level"] == "warn" && v["subscriber"] == "notifications").collect();
    let mut kinds: Vec<&str> = retried.iter().map(|v| v["event_type"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["BookingConfirmed", "TicketsIssued"],
        "the relay's failed attempts are logged under the pay id: {pay:?}"
    );
    assert!(applied(&pay, "notifications-internal", "TicketsIssued").is_empty(), "notifications could not apply yet");

    // the retry: due 1 s after the failure, sent by booking's and tickets' ticks (ids of their own)
    std::thread::sleep(Duration::from_millis(1_500));
    let before = app.host_log().len();
    for (path, id) in [("/api/bookings/tick", "trace-tick-bookings"), ("/api/tickets/tick", "trace-tick-tickets")] {
        let r = app.call(
            "POST",
            path,
            None,
            &[("authorization", &format!("Bearer {}", t::TICK_TOKEN)), ("x-request-id", id)],
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let report = r.json();
        let relay = report.get("relay").unwrap_or(&report); // tickets answers the relay report itself
        assert_eq!(relay["delivered"], 1, "{path}: {report}");
    }
    wait_lines(&app, "the retried deliveries' lines", |l| {
        let since: Vec<&Value> = l.iter().filter(|v| v["component"] == "notifications-internal").collect();
        since.iter().filter(|v| v["outcome"] == "applied" && v["request_id"] == pay_id.as_str()).count() >= 2
    });
    let new = component_lines(&app.host_log()[before..]);
    let tick_access = |id: &str| new.iter().filter(|v| v["request_id"] == id && v["msg"] == "request").count();
    assert_eq!((tick_access("trace-tick-bookings"), tick_access("trace-tick-tickets")), (1, 1), "{new:?}");
    let new_pay: Vec<&Value> = new.iter().filter(|v| v["request_id"] == pay_id.as_str()).collect();
    assert_eq!(
        applied(&new_pay, "notifications-internal", "BookingConfirmed").len(),
        1,
        "retried from the tick under the pay id: {new:?}"
    );
    assert_eq!(
        applied(&new_pay, "notifications-internal", "TicketsIssued").len(),
        1,
        "retried from the tick under the pay id: {new:?}"
    );
    assert!(
        new_pay
            .iter()
            .any(|v| v["component"] == "notifications-internal" && v["msg"] == "request" && v["status"] == 200),
        "the retried delivery's access line carries the pay id: {new:?}"
    );
    assert!(
        new.iter().all(|v| v["component"] != "notifications-internal" || v["request_id"] == pay_id.as_str()),
        "nothing in notifications ran under the ticks' ids: {new:?}"
    );
    // the e-mail with the tickets went to the provider as part of the same purchase
    assert!(
        new_pay.iter().any(|v| v["component"] == "sandbox" && v["route"] == "/sandbox/email/emails"),
        "the tickets e-mail's provider call carries the pay id: {new:?}"
    );
    assert_eq!(t::my_tickets(&app, &token, Some(&booking_id)).len(), 2);

    // a problem names its request: body `request_id` = the x-request-id header
    let missing =
        call(&app, "trace-problem-1", "GET", "/api/bookings/bkg_00000000000000000000000000", None, Some(&token));
    let body = missing.assert_problem(404);
    assert_eq!(body["request_id"], "trace-problem-1", "{body}");
    let unrouted = app.get("/api/no/such/thing");
    let body = unrouted.assert_problem(404);
    let fresh = unrouted.header("x-request-id").expect("x-request-id").to_string();
    assert!(fresh.starts_with("req_"), "{fresh}");
    assert_eq!(body["request_id"], fresh.as_str(), "{body}");
    let malformed = call(&app, "trace-problem-2", "POST", "/api/holds", Some(&json!({"event_id": 7})), Some(&token));
    assert_eq!(malformed.assert_problem(422)["request_id"], "trace-problem-2");
    let lines = wait_lines(&app, "the problems' access lines", |l| !of(l, "trace-problem-2").is_empty());
    let problem_line = of(&lines, "trace-problem-1");
    assert!(
        problem_line.iter().any(|v| v["msg"] == "request" && v["status"] == 404 && v["route"] == "/api/bookings/:id"),
        "{problem_line:?}"
    );

    // on Spin, every component's own stderr file holds JSON lines only, each naming that component
    if app.host() == apphost::Host::Spin {
        let dir = app.state_dir().join("logs");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let Some(component) = name.strip_suffix("_stderr.txt") else { continue };
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {line}"));
                assert_eq!(v["component"], component, "{name}: {line}");
            }
            files += usize::from(!text.is_empty());
        }
        assert!(files >= 6, "component stderr files with lines in {}: {files}", dir.display());
    }
}
