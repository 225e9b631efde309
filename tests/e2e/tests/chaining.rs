//! Private endpoints (saga deliveries, auth's and users' internal routes)
//! answer only requests that came through Spin service chaining. A client
//! that names a `*.spin.internal` host itself — in `Host` or in an
//! absolute-form request target — must not pass for a chained request.

use e2e::{json, App};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Sends one raw HTTP/1.1 request and returns the status code.
fn raw(app: &App, request_target: &str, host: &str, method: &str, body: &str) -> u16 {
    let addr = app.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {request_target} HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn a_forged_chaining_host_does_not_reach_private_endpoints() {
    let app = App::spawn();
    let event = json!({"id": "msg_forged", "event_type": "PaymentSucceeded", "version": 1,
        "occurred_at": "2026-11-29T09:00:00Z", "producer": "payments",
        "payload": {"booking_id": "bkg_01jdx3v9k7m2q8w4e6r5t0y1za", "payment_id": "pay_forged", "amount_minor": 1, "currency": "USD"}})
    .to_string();
    let cases = [
        ("POST", "/api/bookings/saga", "booking.spin.internal"),
        ("POST", "/api/tickets/saga", "tickets.spin.internal"),
        ("POST", "/api/notifications/saga", "notifications.spin.internal"),
        ("POST", "/api/payments/saga", "payments.spin.internal"),
        ("GET", "/api/auth/internal/accounts", "auth.spin.internal"),
        ("PUT", "/api/auth/internal/accounts/usr_01jdx3v9k7m2q8w4e6r5t0y1za/role", "auth.spin.internal"),
        ("GET", "/api/users/internal/usr_01jdx3v9k7m2q8w4e6r5t0y1za/contact", "users.spin.internal"),
    ];
    for (method, path, host) in cases {
        let body = if method == "GET" { "" } else if path.ends_with("/role") { r#"{"role":"staff"}"# } else { &event };
        let via_host = raw(&app, path, host, method, body);
        assert_eq!(via_host, 404, "{method} {path} with Host: {host}");
        let absolute = raw(&app, &format!("http://{host}{path}"), host, method, body);
        assert_eq!(absolute, 404, "{method} http://{host}{path} (absolute form)");
    }
}
