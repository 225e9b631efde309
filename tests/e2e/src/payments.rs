//! Payment helpers: stand in for `booking` (saga events delivered through
//! the test-only saga injector, `POST /test/saga`), pay with
//! test cards, sign provider webhooks, inject provider faults, run ticks.

use crate::{json, App, Reply, Value};

/// The development webhook secret (`payment_webhook_secret` default).
pub const WEBHOOK_SECRET: &str = "whsec_boxoffice_development_only";
/// The development tick token (`tick_token` default).
pub const TICK_TOKEN: &str = "boxoffice-development-tick-token";

/// Test cards (sandbox).
pub const VISA_OK: &str = "4242424242424242";
/// Generic decline.
pub const DECLINE: &str = "4000000000000002";
/// Insufficient funds.
pub const NO_FUNDS: &str = "4000000000009995";
/// 3-D Secure required.
pub const THREE_DS: &str = "4000002500003155";
/// Processing, then succeeded ~2 s later.
pub const PROCESSING: &str = "4000000000000077";

/// Delivers saga event `event_type` with `payload` to payments as booking
/// would; returns payments' `{status, body}`.
pub fn deliver(app: &App, event_type: &str, payload: Value, id: Option<&str>) -> Value {
    let mut body = json!({"event_type": event_type, "payload": payload});
    if let Some(id) = id {
        body["id"] = json!(id);
    }
    let r = app.post("/test/saga", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A new booking id.
pub fn booking_id() -> String {
    format!("bkg_{}", platform::ids::new("t").trim_start_matches("t_"))
}

/// Orders `amount_minor` USD for `user_id` with a hold of `hold_secs`;
/// returns the booking id.
pub fn order(app: &App, user_id: &str, amount_minor: i64, hold_secs: i64) -> String {
    let id = booking_id();
    order_attempt(app, &id, user_id, amount_minor, hold_secs, 1);
    id
}

/// `BookingOrdered` for an existing booking id and attempt.
pub fn order_attempt(app: &App, booking_id: &str, user_id: &str, amount_minor: i64, hold_secs: i64, attempt: i64) {
    let expires = platform::clock::rfc3339(platform::clock::now_ms() + hold_secs * 1000);
    let v = deliver(
        app,
        "BookingOrdered",
        json!({
            "booking_id": booking_id, "user_id": user_id, "event_id": "evt_test", "amount_minor": amount_minor,
            "currency": "USD", "buyer": {"name": "Ada", "email": "ada@example.test", "phone": "+14155550100"},
            "seats": ["A-1"], "tiers": [], "hold_expires_at": expires, "attempt": attempt,
        }),
        None,
    );
    assert_eq!(v["status"], 200, "{v}");
}

/// `BookingCancelled` for `booking_id`.
pub fn cancel(app: &App, booking_id: &str, user_id: &str, reason: &str) -> Value {
    deliver(
        app,
        "BookingCancelled",
        json!({"booking_id": booking_id, "user_id": user_id, "event_id": "evt_test", "reason": reason, "amount_minor": 0, "currency": "USD"}),
        None,
    )
}

/// The pay body for a test card.
pub fn card(number: &str) -> Value {
    json!({"method": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
}

/// `POST /api/payments/{booking}/pay` with a test card.
pub fn pay(app: &App, token: &str, booking_id: &str, number: &str) -> Reply {
    app.post_as(token, &format!("/api/payments/{booking_id}/pay"), &card(number))
}

/// `GET /api/payments/{booking}` as `token` (asserts 200).
pub fn status(app: &App, token: &str, booking_id: &str) -> Value {
    let r = app.get_as(token, &format!("/api/payments/{booking_id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The saga events payments emitted for the booking (staff token), as types.
pub fn events(app: &App, staff_token: &str, booking_id: &str) -> Vec<String> {
    let r = app.get_as(staff_token, &format!("/api/payments/{booking_id}/events"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap().to_string()).collect()
}

/// Sets sandbox faults / webhook mode (`PUT /sandbox/payments/admin/faults`).
pub fn faults(app: &App, body: Value) {
    let r = app.sandbox("PUT", "/sandbox/payments/admin/faults", Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// `POST /api/payments/tick` with the development tick token.
pub fn tick(app: &App) -> Value {
    let r = app.call("POST", "/api/payments/tick", None, &[("authorization", &format!("Bearer {TICK_TOKEN}"))]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The `Stripe-Signature` header for `body` signed at `t` with `secret`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    webhook_signature::header(secret.as_bytes(), t, body)
}

/// Posts a raw webhook body with a signature header.
pub fn webhook(app: &App, body: &[u8], sig: &str) -> Reply {
    app.call_raw("POST", "/api/payments/webhook", "application/json", body, &[("stripe-signature", sig)])
}

/// A `payment_intent.<kind>` event body for `intent` (a sandbox intent JSON)
/// with a fresh event id.
pub fn intent_event(kind: &str, intent: &Value) -> Vec<u8> {
    json!({"id": platform::ids::new("evt"), "object": "event", "type": format!("payment_intent.{kind}"),
           "created": platform::clock::now_secs(), "data": {"object": intent}})
    .to_string()
    .into_bytes()
}

/// The webhook events the sandbox made about `object_id`, once none of them
/// is still queued (the sandbox delivers after answering, like a real
/// provider; waits up to 10 s).
pub fn sent_webhooks(app: &App, object_id: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app.sandbox("GET", &format!("/sandbox/payments/admin/webhooks?object={object_id}"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let items = r.json()["items"].as_array().unwrap().clone();
        if items.iter().all(|w| w["queued"] != true) || std::time::Instant::now() > deadline {
            return items;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The sandbox's PaymentIntent `intent_id` (its own API, development key).
pub fn provider_intent(app: &App, intent_id: &str) -> Value {
    let r = app.call(
        "GET",
        &format!("/sandbox/payments/v1/payment_intents/{intent_id}"),
        None,
        &[("authorization", "Bearer sk_test_boxoffice_sandbox")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Waits (up to `secs`) until the provider shows `intent_id` succeeded;
/// returns the intent.
pub fn await_provider_success(app: &App, intent_id: &str, secs: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let i = provider_intent(app, intent_id);
        if i["status"] == "succeeded" || std::time::Instant::now() > deadline {
            return i;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
