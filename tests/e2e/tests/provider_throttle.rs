//! A payment provider that answers 429 or 503 with `Retry-After` (RFC 9110
//! §10.2.3, delay-seconds or an HTTP-date) is left alone that long — by
//! the buyer's requests and by the tick alike — through the sandbox's
//! `throttle` fault. Runs on the runner and on Spin (no tick is sent but
//! the test's own).

use e2e::payments::{self as pay, VISA_OK};
use e2e::{accounts, json, Reply};
use std::time::{Duration, Instant};

fn retry_after(r: &Reply) -> u64 {
    r.header("retry-after").expect("a Retry-After header").parse().expect("delay-seconds")
}

#[test]
fn a_throttled_provider_is_not_called_again_before_its_retry_after() {
    let app = accounts::spawn(&[]);
    let staff = accounts::staff(&app);
    let admin = accounts::admin_token(&app);
    let buyer = accounts::customer(&app);
    let t = &buyer.access_token;
    let b = pay::order(&app, &buyer.user_id, 9000, 600);

    // The buyer's confirmation answered 429, Retry-After: 10 → 503 with the wait, nothing written.
    pay::faults(&app, json!({"op": "confirm", "mode": "throttle", "status": 429, "retry_after_secs": 10, "count": 1}));
    let throttled_at = Instant::now();
    let r = pay::pay(&app, t, &b, VISA_OK);
    let p = r.assert_problem(503);
    assert_eq!(p["type"], "/problems/unavailable", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("nothing was charged"), "{p}");
    let wait = retry_after(&r);
    assert!((9..=10).contains(&wait), "the provider's 10 s: {wait}");
    let s = pay::status(&app, t, &b);
    assert_eq!(
        (s["status"].as_str(), s["outcome_unknown"].as_bool()),
        (Some("requires_payment_method"), Some(false)),
        "{s}"
    );
    assert_eq!(s["payments"].as_array().unwrap().len(), 1, "{s}");
    assert!(pay::events(&app, &staff.access_token, &b).is_empty(), "nothing paid, nothing emitted");

    // The fault is used up, so a call sent now would go through: none is
    // sent, neither by the buyer's retry nor by the tick.
    let again = pay::pay(&app, t, &b, VISA_OK);
    again.assert_problem(503);
    assert!(retry_after(&again) <= wait, "the wait left: {}", retry_after(&again));
    let tick = pay::tick(&app);
    assert!(tick["provider_wait_ms"].as_i64().unwrap() > 0, "{tick}");
    assert!(throttled_at.elapsed() < Duration::from_secs(9), "the checks above ran inside the wait");
    assert_eq!(pay::status(&app, t, &b)["status"], "requires_payment_method");

    // After the wait (counted from when payments had the answer, a little
    // after `throttled_at`) the same attempt goes through, once.
    std::thread::sleep((throttled_at + Duration::from_secs(wait + 1)).saturating_duration_since(Instant::now()));
    let ok = pay::pay(&app, t, &b, VISA_OK);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let v = ok.json();
    assert_eq!((v["status"].as_str(), v["payments"].as_array().unwrap().len()), (Some("succeeded"), 1), "{v}");
    assert_eq!(pay::events(&app, &staff.access_token, &b), vec!["PaymentSucceeded".to_string()]);

    // A refund answered 503 with an HTTP-date 6 s ahead: recorded pending,
    // and no tick sends it again before then.
    pay::faults(
        &app,
        json!({"op": "refund", "mode": "throttle", "status": 503, "retry_after_secs": 6, "retry_after_form": "http_date", "count": 1}),
    );
    let throttled_at = Instant::now();
    let r = app.post_as(&admin, &format!("/api/payments/{b}/refunds"), &json!({"amount_minor": 3000}));
    assert_eq!(r.status, 202, "pending, sent later: {}", r.text());
    assert_eq!(r.json()["status"], "pending");
    let tick = pay::tick(&app);
    assert!(tick["provider_wait_ms"].as_i64().unwrap() > 0 && tick["refunds_sent"] == 0, "{tick}");
    assert!(throttled_at.elapsed() < Duration::from_secs(4), "the tick ran inside the wait");
    assert_eq!(pay::status(&app, t, &b)["refunded_minor"], 0);

    // After it, the next tick sends it (the same Idempotency-Key), once.
    std::thread::sleep((throttled_at + Duration::from_secs(7)).saturating_duration_since(Instant::now()));
    let tick = pay::tick(&app);
    assert_eq!((tick["refunds_sent"].as_i64(), tick["provider_wait_ms"].as_i64()), (Some(1), Some(0)), "{tick}");
    let s = pay::status(&app, t, &b);
    assert_eq!((s["status"].as_str(), s["refunded_minor"].as_i64()), (Some("partially_refunded"), Some(3000)), "{s}");
    assert_eq!(s["refunds"].as_array().unwrap().len(), 1, "{s}");
}

#[test]
fn the_throttle_fault_takes_only_what_it_can_answer() {
    let app = accounts::spawn(&[]);
    for (bad, field) in [
        (json!({"mode": "throttle", "status": 500}), "status"),
        (json!({"mode": "throttle", "retry_after_form": "minutes"}), "retry_after_form"),
        (json!({"mode": "throttle", "retry_after_secs": -1}), "retry_after_secs"),
    ] {
        let r = app.sandbox("PUT", "/sandbox/payments/admin/faults", Some(&bad));
        assert_eq!(r.assert_problem(422)["errors"][0]["field"], field, "{bad}: {}", r.text());
    }
}
