//! Payments end to end through the runner: the sandbox provider, signed
//! webhooks, declines and retries, faults, refunds and compensation.
//! `booking` is stood in for by saga events delivered through the sandbox.

use e2e::accounts::{self, Minted};
use e2e::payments::{self as pay, DECLINE, NO_FUNDS, PROCESSING, THREE_DS, VISA_OK};
use e2e::{catalog, journey};
use e2e::{json, App, Value};
use std::time::{Duration, Instant};

fn count(events: &[String], t: &str) -> usize {
    events.iter().filter(|e| *e == t).count()
}

fn intent_of(app: &App, token: &str, booking: &str) -> String {
    pay::status(app, token, booking)["provider_reference"]
        .as_str()
        .expect("intent created on BookingOrdered")
        .to_string()
}

#[test]
fn happy_path_decline_then_retry_and_exhaustion() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let buyer = accounts::customer(&app);
    let other = accounts::customer(&app);
    let b = pay::order(&app, &buyer.user_id, 9000, 600);

    let s = pay::status(&app, &buyer.access_token, &b);
    assert_eq!(s["status"], "requires_payment_method", "{s}");
    assert_eq!(s["amount_minor"], 9000);
    assert!(s["provider_reference"].as_str().unwrap().starts_with("pi_"));
    app.get_as(&other.access_token, &format!("/api/payments/{b}")).assert_problem(404);
    app.get(&format!("/api/payments/{b}")).assert_problem(401);
    pay::pay(&app, &other.access_token, &b, VISA_OK).assert_problem(404);

    // Bad input changes nothing.
    let bad = app.post_as(&buyer.access_token, &format!("/api/payments/{b}/pay"), &pay::card("4242424242424241"));
    assert_eq!(bad.assert_problem(422)["errors"][0]["field"], "card/number");
    app.post_as(&buyer.access_token, &format!("/api/payments/{b}/pay"), &json!({"method": "cash"})).assert_problem(422);
    pay::pay(&app, &buyer.access_token, "bkg_nope", VISA_OK).assert_problem(404);

    let d = pay::pay(&app, &buyer.access_token, &b, DECLINE);
    let p = d.assert_problem(402);
    assert_eq!(p["type"], "/problems/card-declined");
    assert_eq!(p["decline_code"], "generic_decline");
    assert_eq!(p["attempts_left"], 2);
    let d = pay::pay(&app, &buyer.access_token, &b, NO_FUNDS);
    assert_eq!(d.assert_problem(402)["decline_code"], "insufficient_funds");

    let ok = pay::pay(&app, &buyer.access_token, &b, VISA_OK);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let v = ok.json();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["attempt"], 3);
    assert_eq!(v["card"]["last4"], "4242");
    assert_eq!(v["payments"].as_array().unwrap().len(), 3);
    // Paying again is idempotent.
    assert_eq!(pay::pay(&app, &buyer.access_token, &b, VISA_OK).json()["status"], "succeeded");
    let ev = pay::events(&app, &staff.access_token, &b);
    assert_eq!(ev, vec!["PaymentSucceeded".to_string()], "one success, no failure for retried declines");

    // Three declines: the booking's payment failed, once.
    let b2 = pay::order(&app, &buyer.user_id, 5000, 600);
    for _ in 0..3 {
        pay::pay(&app, &buyer.access_token, &b2, DECLINE).assert_problem(402);
    }
    pay::pay(&app, &buyer.access_token, &b2, VISA_OK).assert_problem(409);
    let ev = pay::events(&app, &staff.access_token, &b2);
    assert_eq!(ev, vec!["PaymentFailed".to_string()]);
    // A new attempt ordered by booking starts over.
    pay::order_attempt(&app, &b2, &buyer.user_id, 5000, 600, 2);
    let ok = pay::pay(&app, &buyer.access_token, &b2, VISA_OK);
    assert_eq!(ok.json()["status"], "succeeded", "{}", ok.text());
    assert_eq!(count(&pay::events(&app, &staff.access_token, &b2), "PaymentSucceeded"), 1);
}

#[test]
fn duplicate_out_of_order_and_forged_webhooks() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let buyer = accounts::customer(&app);
    let t = &buyer.access_token;

    // Three in a row.
    pay::faults(&app, json!({"webhooks": "duplicate"}));
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    assert_eq!(pay::pay(&app, t, &b, VISA_OK).json()["status"], "succeeded");
    let sent = pay::sent_webhooks(&app, &intent_of(&app, t, &b));
    let succeeded: Vec<&Value> = sent.iter().filter(|w| w["type"] == "payment_intent.succeeded").collect();
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0]["deliveries"], 3);
    assert_eq!(succeeded[0]["last_status"], 200);
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);

    // The same delivery replayed three times at once: applied once.
    let body = succeeded[0]["body"].as_str().unwrap().as_bytes().to_vec();
    let sig = pay::signature(pay::WEBHOOK_SECRET, platform::clock::now_secs(), &body);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..3).map(|_| s.spawn(|| pay::webhook(&app, &body, &sig))).collect();
        for h in hs {
            let r = h.join().unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.json()["duplicate"], true);
        }
    });

    // Three at once from the provider, racing the buyer's own confirm.
    pay::faults(&app, json!({"webhooks": "concurrent"}));
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    let intent = intent_of(&app, t, &b);
    let forged_success = json!({"id": intent, "object": "payment_intent", "status": "succeeded", "amount": 10000, "currency": "usd", "metadata": {"booking_id": b}});
    let ev_body = pay::intent_event("succeeded", &forged_success);
    let sig = pay::signature(pay::WEBHOOK_SECRET, platform::clock::now_secs(), &ev_body);
    std::thread::scope(|s| {
        let buyer_pay = s.spawn(|| pay::pay(&app, t, &b, VISA_OK));
        let hooks: Vec<_> = (0..3).map(|_| s.spawn(|| pay::webhook(&app, &ev_body, &sig))).collect();
        for h in hooks {
            assert_eq!(h.join().unwrap().status, 200);
        }
        let r = buyer_pay.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    });
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);
    assert_eq!(pay::status(&app, t, &b)["payments"].as_array().unwrap().len(), 1, "one payment");

    // Out of order: stale processing / failed news after success changes nothing.
    pay::faults(&app, json!({"webhooks": "out_of_order"}));
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    assert_eq!(pay::pay(&app, t, &b, VISA_OK).json()["status"], "succeeded");
    let intent = intent_of(&app, t, &b);
    let types: Vec<String> =
        pay::sent_webhooks(&app, &intent).iter().map(|w| w["type"].as_str().unwrap().to_string()).collect();
    assert!(types.contains(&"payment_intent.payment_failed".to_string()), "{types:?}");
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);

    // Forged, stale, future-dated, re-serialised: 400, nothing applied.
    pay::faults(&app, json!({"webhooks": "none"}));
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    let intent = intent_of(&app, t, &b);
    let fake =
        json!({"id": intent, "object": "payment_intent", "status": "succeeded", "amount": 10000, "currency": "usd"});
    let body = pay::intent_event("succeeded", &fake);
    let now = platform::clock::now_secs();
    pay::webhook(&app, &body, &pay::signature("whsec_wrong", now, &body)).assert_problem(400);
    pay::webhook(&app, &body, &pay::signature(pay::WEBHOOK_SECRET, now - 301, &body)).assert_problem(400);
    pay::webhook(&app, &body, &pay::signature(pay::WEBHOOK_SECRET, now + 301, &body)).assert_problem(400);
    let reserialised = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    pay::webhook(&app, &reserialised, &pay::signature(pay::WEBHOOK_SECRET, now, &body)).assert_problem(400);
    app.call_raw("POST", "/api/payments/webhook", "application/json", &body, &[]).assert_problem(400);
    assert_eq!(pay::status(&app, t, &b)["status"], "requires_payment_method");
    assert!(pay::events(&app, &staff.access_token, &b).is_empty());

    // Valid: within tolerance, several v1 (one right) — applied once.
    let good = pay::signature(pay::WEBHOOK_SECRET, now - 290, &body);
    let rotated = format!("{},v1={}", good.replace("v1=", "v1=00ff,v1="), "ab".repeat(32));
    let r = pay::webhook(&app, &body, &rotated);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");
    // Unknown event types are acknowledged.
    let other = json!({"id": "evt_unknown_1", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).to_string();
    let r = pay::webhook(&app, other.as_bytes(), &pay::signature(pay::WEBHOOK_SECRET, now, other.as_bytes()));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn confirm_faults_are_unknown_outcomes_and_retries_reuse_the_attempt() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let buyer = accounts::customer(&app);
    let t = &buyer.access_token;
    let b = pay::order(&app, &buyer.user_id, 10000, 600);

    // A lost answer (5xx, unreadable, no answer in time): the card may have
    // been charged, so never "nothing charged" — 202, outcome unknown.
    for (mode, latency) in [("error", 0), ("malformed", 0), ("timeout", 6000)] {
        pay::faults(&app, json!({"op": "confirm", "mode": mode, "latency_ms": latency}));
        let started = Instant::now();
        let r = pay::pay(&app, t, &b, VISA_OK);
        let took = started.elapsed();
        assert_eq!(r.status, 202, "{mode}: {}", r.text());
        let v = r.json();
        assert_eq!(v["status"], "processing", "{mode}: {v}");
        assert_eq!(v["outcome_unknown"], true, "{mode}: {v}");
        assert!(!v["detail"].as_str().unwrap().contains("nothing"), "{v}");
        assert_eq!(r.header("location"), Some(format!("/api/payments/{b}").as_str()));
        assert!(r.header("retry-after").is_some());
        assert!(took < Duration::from_millis(5_500), "the client timeout bounds the wait: {took:?}");
        println!("{mode} fault answered in {took:?}");
    }
    // A redirect is refused before anything happened: 502, nothing charged.
    pay::faults(&app, json!({"op": "confirm", "mode": "redirect"}));
    let r = pay::pay(&app, t, &b, VISA_OK);
    assert!(r.assert_problem(502)["detail"].as_str().unwrap().contains("try again"));
    assert_ne!(pay::status(&app, t, &b)["status"], "succeeded");
    assert!(pay::events(&app, &staff.access_token, &b).is_empty(), "nothing paid, nothing emitted");

    // The buyer retries once the provider is back: the same attempt.
    let r = pay::pay(&app, t, &b, VISA_OK);
    let v = r.json();
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(v["outcome_unknown"], false);
    assert_eq!(v["payments"].as_array().unwrap().len(), 1, "every retry re-confirmed the one attempt: {v}");
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);

    // Intent creation failed at BookingOrdered: created on pay instead.
    pay::faults(&app, json!({"op": "create", "mode": "error"}));
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    assert_eq!(pay::status(&app, t, &b)["status"], "pending");
    let r = pay::pay(&app, t, &b, VISA_OK);
    assert_eq!(r.json()["status"], "succeeded", "{}", r.text());
}

/// The sale-rush bug: the provider charges, but answers after payments'
/// 4 s client timeout. The buyer must hear "being checked", never "nothing
/// charged"; reconciliation (tick, GET) or a retry finds the one charge.
#[test]
fn a_charge_answered_too_late_is_found_never_doubled() {
    let app = App::spawn();
    let staff = accounts::staff(Minted);
    let late = json!({"op": "confirm", "mode": "latency", "latency_ms": 6000});

    // 1. A real booking, webhooks lost: the tick's reconciliation confirms it.
    let p = journey::unpaid_purchase(&app, "Late answer", &catalog::days_ahead(30, "20:00"), &["Ada Lovelace"]);
    let (t, b) = (&p.buyer.token, &p.booking_id);
    pay::faults(&app, json!({"op": "confirm", "mode": "latency", "latency_ms": 6000, "webhooks": "none"}));
    let r = pay::pay(&app, t, b, VISA_OK);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["outcome_unknown"], true);
    let intent = r.json()["provider_reference"].as_str().unwrap().to_string();
    let charged = pay::await_provider_success(&app, &intent, 10);
    assert_eq!(charged["status"], "succeeded", "the provider did charge: {charged}");
    assert_eq!(charged["amount_received"], r.json()["amount_minor"]);
    std::thread::sleep(Duration::from_millis(500));
    let tick = pay::tick(&app);
    assert!(tick["reconciled"].as_i64().unwrap() >= 1, "{tick}");
    let v = app.get_as(&staff.token, &format!("/api/payments/{b}")).json();
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(v["outcome_unknown"], false);
    let booking = e2e::tickets::wait_for(20, || {
        let s = app.get_as(t, &format!("/api/bookings/{b}")).json();
        (s["status"] == "confirmed").then_some(s)
    });
    assert!(booking.is_some(), "the booking ends confirmed");
    // A retry with the same card: the same paid attempt, no second charge.
    let again = pay::pay(&app, t, b, VISA_OK);
    assert_eq!(again.status, 200, "{}", again.text());
    let v = again.json();
    assert_eq!(v["payments"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["refunds"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(pay::events(&app, &staff.token, b), vec!["PaymentSucceeded".to_string()]);
    let hooks = pay::sent_webhooks(&app, &intent);
    assert_eq!(
        count(
            &hooks.iter().map(|w| w["type"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
            "payment_intent.succeeded"
        ),
        1
    );

    // 2. The buyer retries while the late confirmation is still in flight:
    // the same intent is confirmed again with the same key — one charge.
    let buyer = accounts::customer(Minted);
    pay::faults(&app, json!({"webhooks": "normal"}));
    pay::faults(&app, late.clone());
    let b = pay::order(&app, &buyer.user_id, 7000, 600);
    let started = Instant::now();
    let r = pay::pay(&app, &buyer.token, &b, VISA_OK);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["outcome_unknown"], true);
    let retry = pay::pay(&app, &buyer.token, &b, VISA_OK);
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json()["status"], "succeeded");
    let intent = retry.json()["provider_reference"].as_str().unwrap().to_string();
    // Let the late confirmation finish (it replays the stored answer).
    std::thread::sleep(Duration::from_millis(6_500).saturating_sub(started.elapsed()));
    let hooks = pay::sent_webhooks(&app, &intent);
    let types: Vec<String> = hooks.iter().map(|w| w["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(count(&types, "payment_intent.succeeded"), 1, "{types:?}");
    assert_eq!(pay::provider_intent(&app, &intent)["amount_received"], 7000);
    let v = pay::status(&app, &buyer.token, &b);
    assert_eq!(v["payments"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(pay::events(&app, &staff.token, &b), vec!["PaymentSucceeded".to_string()]);

    // 3. Nobody retries, webhooks lost: the buyer's next GET asks the provider.
    pay::faults(&app, json!({"webhooks": "none"}));
    pay::faults(&app, late);
    let b = pay::order(&app, &buyer.user_id, 5000, 600);
    let r = pay::pay(&app, &buyer.token, &b, VISA_OK);
    assert_eq!(r.status, 202, "{}", r.text());
    let intent = r.json()["provider_reference"].as_str().unwrap().to_string();
    pay::await_provider_success(&app, &intent, 10);
    let v = pay::status(&app, &buyer.token, &b);
    assert_eq!(v["status"], "succeeded", "{v}");
    assert_eq!(pay::events(&app, &staff.token, &b), vec!["PaymentSucceeded".to_string()]);
}

#[test]
fn processing_three_d_secure_and_late_success_refund() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let buyer = accounts::customer(&app);
    let t = &buyer.access_token;

    // Processing, then succeeded: found by the tick's reconciliation.
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    let r = pay::pay(&app, t, &b, PROCESSING);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], "processing");
    std::thread::sleep(Duration::from_millis(2_300));
    pay::tick(&app);
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);

    // 3-D Secure: requires_action, the buyer approves on the provider's page.
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    let v = pay::pay(&app, t, &b, THREE_DS).json();
    assert_eq!(v["status"], "requires_action", "{v}");
    let url = v["next_action"]["url"].as_str().unwrap().to_string();
    let path = &url[url.find("/sandbox/").unwrap()..];
    assert_eq!(app.get(path).status, 200);
    let r = app.call_raw("POST", path, "application/x-www-form-urlencoded", b"outcome=approve", &[]);
    assert!(r.status == 200 || r.status == 303, "{}", r.text());
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");

    // Success after the hold expired and the seats were sold: booking
    // answers with BookingCancelled, payments refunds on its own.
    let b = pay::order(&app, &buyer.user_id, 10000, 2);
    assert_eq!(pay::pay(&app, t, &b, PROCESSING).status, 202);
    std::thread::sleep(Duration::from_millis(2_300));
    pay::faults(&app, json!({"op": "any", "mode": "none"}));
    pay::pay(&app, t, &b, VISA_OK).assert_problem(409);
    pay::tick(&app);
    assert_eq!(pay::status(&app, t, &b)["status"], "succeeded");
    pay::cancel(&app, &b, &buyer.user_id, "seats_unavailable");
    let s = pay::status(&app, t, &b);
    assert_eq!(s["status"], "refunded", "{s}");
    assert_eq!(s["refunded_minor"], 10000);
    assert_eq!(
        pay::events(&app, &staff.access_token, &b),
        vec!["PaymentSucceeded".to_string(), "PaymentRefunded".to_string()]
    );
}

#[test]
fn partial_refunds_never_exceed_the_payment() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let admin = accounts::admin_token(&app);
    let buyer = accounts::customer(&app);
    let t = &buyer.access_token;
    let refund = |b: &str, amount: i64| {
        app.post_as(&admin, &format!("/api/payments/{b}/refunds"), &json!({"amount_minor": amount}))
    };
    let paid = || {
        let b = pay::order(&app, &buyer.user_id, 10000, 600);
        assert_eq!(pay::pay(&app, t, &b, VISA_OK).json()["status"], "succeeded");
        b
    };

    // 60 + 40 on 100.00: refunded exactly at the total.
    let b = paid();
    assert_eq!(refund(&b, 6000).status, 201);
    let s = pay::status(&app, t, &b);
    assert_eq!((s["status"].as_str().unwrap(), s["refunded_minor"].as_i64().unwrap()), ("partially_refunded", 6000));
    assert_eq!(refund(&b, 4000).status, 201);
    let s = pay::status(&app, t, &b);
    assert_eq!((s["status"].as_str().unwrap(), s["refunded_minor"].as_i64().unwrap()), ("refunded", 10000));
    refund(&b, 1).assert_problem(409);
    let ev = pay::events(&app, &staff.access_token, &b);
    assert_eq!(count(&ev, "PaymentRefunded"), 2);

    // 60 + 60 on 100.00: the second is refused, nothing changes.
    let b = paid();
    assert_eq!(refund(&b, 6000).status, 201);
    assert_eq!(refund(&b, 6000).assert_problem(409)["type"], "/problems/refund-exceeds-payment");
    let s = pay::status(&app, t, &b);
    assert_eq!((s["status"].as_str().unwrap(), s["refunded_minor"].as_i64().unwrap()), ("partially_refunded", 6000));

    // Four refunds of 30.00 at once on 100.00: exactly three go through.
    let b = paid();
    let codes: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(|| refund(&b, 3000).status)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 1, "{codes:?}");
    assert_eq!(pay::status(&app, t, &b)["refunded_minor"], 9000);

    // Who and what.
    refund(&b, 0).assert_problem(422);
    app.post_as(t, &format!("/api/payments/{b}/refunds"), &json!({"amount_minor": 100})).assert_problem(403);
    app.post_as(&staff.access_token, &format!("/api/payments/{b}/refunds"), &json!({"amount_minor": 100}))
        .assert_problem(403);
    let unpaid = pay::order(&app, &buyer.user_id, 10000, 600);
    refund(&unpaid, 100).assert_problem(409);

    // Cancellation refunds what was paid; an unpaid cancelled booking refunds nothing and cannot be paid.
    let b = paid();
    pay::cancel(&app, &b, &buyer.user_id, "requested_by_customer");
    assert_eq!(pay::status(&app, t, &b)["status"], "refunded");
    pay::cancel(&app, &unpaid, &buyer.user_id, "requested_by_customer");
    let s = pay::status(&app, t, &unpaid);
    assert_eq!(s["refunded_minor"], 0);
    assert_eq!(pay::pay(&app, t, &unpaid, VISA_OK).assert_problem(409)["type"], "/problems/booking-cancelled");
}

#[test]
fn webhook_bodies_over_256_kib_are_refused_before_the_signature_check() {
    let app = App::spawn();
    let now = platform::clock::now_secs();
    // a signed, well-formed event of `len` bytes (an ignored type, padded)
    let event = |len: usize| {
        let head =
            r#"{"id":"evt_big","object":"event","type":"customer.created","data":{"object":{"id":"cus_1"}},"pad":""#;
        let mut s = head.to_string();
        s.push_str(&"x".repeat(len - head.len() - 2));
        s.push_str("\"}");
        assert_eq!(s.len(), len);
        s.into_bytes()
    };
    let over = event(256 * 1024 + 1);
    let r = pay::webhook(&app, &over, &pay::signature(pay::WEBHOOK_SECRET, now, &over));
    let p = r.assert_problem(413);
    assert_eq!(p["type"], "/problems/payload-too-large");
    // exactly at the cap, validly signed: accepted
    let at = event(256 * 1024);
    let r = pay::webhook(&app, &at, &pay::signature(pay::WEBHOOK_SECRET, now, &at));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A buyer who pays before `BookingOrdered` reached payments (its first
/// delivery failed: payments' database could not be written while the
/// booking was made) is told to try again — 503 with `Retry-After` and
/// nothing charged — not that the booking does not exist; anybody else
/// still gets 404. Once the delivery's retry lands (booking's tick), the
/// same card payment goes through, once.
#[test]
fn paying_before_the_order_reached_payments_says_retry_then_succeeds() {
    let app = accounts::spawn(&[]);
    let other = accounts::customer(&app);
    // payments opens (and migrates) its database on first use
    app.get_as(&other.access_token, "/api/payments/bkg_01nosuchbooking0000000000").assert_problem(404);
    let path = app.state_dir().join("payments.db");
    let saved = std::fs::read(&path).expect("payments.db exists");
    std::fs::write(&path, vec![0x5a; saved.len().max(4096)]).unwrap();
    let p = journey::unpaid_purchase(&app, "Early payer", &catalog::days_ahead(20, "20:00"), &["Ada"]);
    std::fs::write(&path, saved).unwrap();

    let r = pay::pay(&app, &p.buyer.token, &p.booking_id, VISA_OK);
    let problem = r.assert_problem(503);
    assert_eq!(problem["type"], "/problems/unavailable", "{problem}");
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<u32>().is_ok()), "Retry-After: {:?}", r.headers);
    pay::pay(&app, &other.access_token, &p.booking_id, VISA_OK).assert_problem(404);
    pay::pay(&app, &p.buyer.token, "bkg_01nosuchbooking0000000000", VISA_OK).assert_problem(404);

    let deadline = Instant::now() + Duration::from_secs(60);
    let paid = loop {
        let tick = app.call(
            "POST",
            "/api/bookings/tick",
            None,
            &[("authorization", &format!("Bearer {}", e2e::booking::TICK_TOKEN))],
        );
        assert_eq!(tick.status, 200, "{}", tick.text());
        let r = pay::pay(&app, &p.buyer.token, &p.booking_id, VISA_OK);
        if r.status != 503 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(paid.status, 200, "{}", paid.text());
    assert_eq!(paid.json()["status"], "succeeded");
    let staff = accounts::staff(&app);
    assert_eq!(pay::events(&app, &staff.access_token, &p.booking_id), vec!["PaymentSucceeded".to_string()]);
}
