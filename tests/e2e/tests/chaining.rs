//! Private endpoints (saga inboxes; auth's, users', events' and tickets'
//! internal reads) live
//! on each service's private component (`<service>-internal`, `route = {
//! private = true }`): Spin routes nothing from outside to them. A client
//! that names a `*.spin.internal` host itself must not reach them: Spin
//! 4.0.2 closes the connection of a request whose `Host` names one, and
//! routes an absolute-form target (`POST http://booking.spin.internal/…`) by
//! its path like any outside request, to the public component — which has
//! no such routes (404 or 405 problem+json). The runner does the same.

use e2e::{json, App};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Sends one raw HTTP/1.1 request; the status code, or `None` when the
/// connection was closed without an answer.
fn raw(app: &App, request_target: &str, host: &str, method: &str, body: &str) -> Option<u16> {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout");
    let req = format!(
        "{method} {request_target} HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).split_whitespace().nth(1).and_then(|c| c.parse().ok())
}

#[test]
fn a_forged_chaining_host_does_not_reach_private_endpoints() {
    let app = App::spawn();
    let event = json!({"id": "msg_forged", "event_type": "PaymentSucceeded", "version": 1,
        "occurred_at": "2026-11-29T09:00:00Z", "producer": "payments",
        "payload": {"booking_id": "bkg_01jdx3v9k7m2q8w4e6r5t0y1za", "payment_id": "pay_forged", "amount_minor": 1, "currency": "USD"}})
    .to_string();
    let cases = [
        ("POST", "/api/bookings/saga", "booking"),
        ("POST", "/api/tickets/saga", "tickets"),
        ("POST", "/api/notifications/saga", "notifications"),
        ("POST", "/api/payments/saga", "payments"),
        ("GET", "/api/auth/internal/accounts", "auth"),
        ("PUT", "/api/auth/internal/accounts/usr_01jdx3v9k7m2q8w4e6r5t0y1za/role", "auth"),
        ("GET", "/api/users/internal/usr_01jdx3v9k7m2q8w4e6r5t0y1za/contact", "users"),
        (
            "GET",
            "/api/events/internal/evt_01jdx3v9k7m2q8w4e6r5t0y1za/access?user_id=usr_01jdx3v9k7m2q8w4e6r5t0y1za",
            "events",
        ),
        ("GET", "/api/tickets/bookings/bkg_01jdx3v9k7m2q8w4e6r5t0y1za/check-ins", "tickets"),
    ];
    for (method, path, service) in cases {
        let body = if method == "GET" {
            ""
        } else if path.ends_with("/role") {
            r#"{"role":"staff"}"#
        } else {
            &event
        };
        // the public path: the public component, which has no such route
        let json: Option<serde_json::Value> = (!body.is_empty()).then(|| serde_json::from_str(body).unwrap());
        let public = app.call(method, path, json.as_ref(), &[]);
        public.assert_not_routed();
        for host in [format!("{service}.spin.internal"), format!("{service}-internal.spin.internal")] {
            // Spin 4.0.2 closes the connection of a forged chaining Host
            assert_eq!(raw(&app, path, &host, method, body), None, "{method} {path} with Host: {host}");
            // an absolute-form target is routed by its path, like any
            // request from outside: the public component answers, as it
            // does without the authority
            let absolute = format!("http://{host}{path}");
            assert_eq!(
                raw(&app, &absolute, &host, method, body),
                Some(public.status),
                "{method} {absolute} (absolute form)"
            );
        }
    }
    // no inbox recorded the forged event
    for db in ["bookings", "payments", "tickets", "notifications"] {
        let path = app.state_dir().join(format!("{db}.db"));
        if !path.exists() {
            continue; // never opened: nothing was delivered
        }
        let conn =
            rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
        let seen: i64 = conn
            .query_row("SELECT count(*) FROM saga_inbox WHERE event_id = 'msg_forged'", [], |r| r.get(0))
            .unwrap_or(0);
        assert_eq!(seen, 0, "{db} recorded the forged event");
    }
}
