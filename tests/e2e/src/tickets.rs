//! Helpers for tickets and notifications tests: deliver saga events to
//! `tickets` / `notifications` through the test-only saga injector
//! (`POST /test/saga`), read the sandbox mailbox, inject email-provider faults, run
//! ticks, poll.

use crate::{json, App, Value};
use std::time::{Duration, Instant};

/// The development tick token (`tick_token` default).
pub const TICK_TOKEN: &str = "boxoffice-development-tick-token";

/// Delivers saga event `event_type` with `payload` (envelope id `id`, or a
/// fresh one) to component `to`'s saga route; returns `{status, body}`.
pub fn deliver(app: &App, to: &str, event_type: &str, payload: &Value, id: Option<&str>) -> Value {
    let mut body = json!({"event_type": event_type, "payload": payload, "to": to, "producer": "booking"});
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    let r = app.post("/test/saga", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A `BookingConfirmed` payload for a 19:00 New York show with one seated
/// attendee per seat in `seats` and `ga` general-admission attendees.
pub fn confirmed(booking_id: &str, user_id: &str, event_id: &str, email: &str, seats: &[&str], ga: usize) -> Value {
    let mut attendees: Vec<Value> = seats
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"name": format!("Seat guest {i}"), "seat_id": s, "tier_id": "tier_seated"}))
        .collect();
    attendees.extend((0..ga).map(|i| json!({"name": format!("GA guest {i}"), "seat_id": null, "tier_id": "tier_ga"})));
    json!({
        "booking_id": booking_id, "user_id": user_id, "event_id": event_id,
        "buyer": {"name": "Ada <Lovelace>", "email": email, "phone": "+14155550100"},
        "attendees": attendees, "event_title": "Night & Day <Live>",
        "starts_at": "2027-05-01T23:00:00Z", "timezone": "America/New_York",
    })
}

/// A published event of a fresh organizer (general admission, Denver, in
/// 30 days) with `staff` assigned to its door (`PUT
/// /api/events/{id}/staff/{user_id}`): staff check tickets in only at
/// events they are assigned to. Returns the event id.
pub fn staffed_event(app: &App, staff: &crate::accounts::User) -> String {
    use crate::catalog;
    let org = crate::accounts::organizer(crate::accounts::Minted);
    let venue = catalog::create_venue(app, &org.token, &catalog::ga_venue("Door Hall", "Denver", "America/Denver"));
    let ev = catalog::create_event(
        app,
        &org.token,
        &catalog::event_body(&venue, "Door night", &catalog::days_ahead(30, "19:00")),
    );
    let event_id = ev["id"].as_str().expect("event id").to_string();
    catalog::publish(app, &org.token, &event_id);
    let r = app.call(
        "PUT",
        &format!("/api/events/{event_id}/staff/{}", staff.user_id),
        None,
        &[("authorization", &format!("Bearer {}", org.token))],
    );
    assert_eq!(r.status, 200, "assign staff: {}", r.text());
    event_id
}

/// A fresh id with `prefix` (`bkg`, `evt`, `usr`).
pub fn id(prefix: &str) -> String {
    platform::ids::new(prefix)
}

/// Delivers `BookingConfirmed` to both tickets and notifications, as
/// booking does, with one envelope id.
pub fn confirm(app: &App, payload: &Value) -> String {
    let msg = id("msg");
    for to in ["tickets", "notifications"] {
        let r = deliver(app, to, "BookingConfirmed", payload, Some(&msg));
        assert_eq!(r["status"], 200, "{to}: {r}");
    }
    msg
}

/// Sandbox mailbox messages to `to`, newest first.
pub fn mailbox(app: &App, to: &str) -> Vec<Value> {
    let r = app.sandbox("GET", &format!("/sandbox/email/messages?to={}", to.replace('+', "%2B")), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

/// Every `POST /emails` the sandbox saw, oldest first.
pub fn provider_requests(app: &App) -> Vec<Value> {
    app.sandbox("GET", "/sandbox/email/requests", None).json()["items"].as_array().cloned().unwrap_or_default()
}

/// The messages to `to` about bookings and tickets (newest first):
/// [`mailbox`] without the e-mail that confirms the account's address,
/// which every registration sends ([`crate::accounts::CONFIRM_SUBJECT`]).
pub fn booking_mail(app: &App, to: &str) -> Vec<Value> {
    mailbox(app, to).into_iter().filter(|m| m["subject"] != crate::accounts::CONFIRM_SUBJECT).collect()
}

/// [`provider_requests`] without the sends of address confirmations: those
/// whose idempotency key (one per e-mail job, the same on every attempt) is
/// a confirmation e-mail's in the mailbox.
pub fn booking_provider_requests(app: &App) -> Vec<Value> {
    let all = app.sandbox("GET", "/sandbox/email/messages?limit=1000", None);
    assert_eq!(all.status, 200, "{}", all.text());
    let confirmations: Vec<Value> = all.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["subject"] == crate::accounts::CONFIRM_SUBJECT)
        .map(|m| m["idempotency_key"].clone())
        .collect();
    provider_requests(app).into_iter().filter(|r| !confirmations.contains(&r["idempotency_key"])).collect()
}

/// `PUT /sandbox/email/faults`.
pub fn email_faults(app: &App, plan: Value) {
    let r = app.sandbox("PUT", "/sandbox/email/faults", Some(&plan));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// `POST <path>` with the tick token; returns the JSON report.
pub fn tick(app: &App, path: &str) -> Value {
    let r = app.call("POST", path, None, &[("authorization", &format!("Bearer {TICK_TOKEN}"))]);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

/// Polls `f` every 200 ms until it returns `Some`, for at most `secs`.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Like [`wait_for`], sending every component's tick route before each
/// look (Spin never calls them; the runner's timer may not have yet), so
/// retries, reconciliation and e-mail jobs run: for saga outcomes that
/// take more than the first delivery.
pub fn settle<T>(app: &App, secs: u64, mut done: impl FnMut() -> Option<T>) -> Option<T> {
    wait_for(secs, || {
        for path in [
            "/api/events/tick",
            "/api/bookings/tick",
            "/api/payments/tick",
            "/api/tickets/tick",
            "/api/auth/tick",
            "/api/notifications/tick",
        ] {
            tick(app, path);
        }
        done()
    })
}

/// The caller's tickets (`GET /api/tickets`), optionally of one booking.
pub fn my_tickets(app: &App, token: &str, booking_id: Option<&str>) -> Vec<Value> {
    let path = match booking_id {
        Some(b) => format!("/api/tickets?booking_id={b}"),
        None => "/api/tickets".into(),
    };
    let r = app.get_as(token, &path);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

/// The caller's in-site messages (`GET /api/notifications`).
pub fn my_messages(app: &App, token: &str) -> Vec<Value> {
    let r = app.get_as(token, "/api/notifications?limit=100");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().cloned().unwrap_or_default()
}
