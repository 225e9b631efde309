//! Refunds made at the payment provider (issue 13, bug 2): a refund done in
//! the provider's dashboard reaches the payment, the booking, the tickets
//! and the buyer, once, whatever order and however often its webhooks
//! arrive, following Stripe's event semantics — `refund.created` /
//! `refund.updated` carry one Refund without our metadata, `charge.refunded`
//! the Charge with the CUMULATIVE `amount_refunded` and no refund list.
//! The whole app; the sandbox plays the provider (its `POST /v1/refunds`
//! without metadata is what a dashboard refund is).

use e2e::journey::{self, Purchase};
use e2e::payments::{self as pay, WEBHOOK_SECRET};
use e2e::race::at_once;
use e2e::tickets::{self as t, settle};
use e2e::{accounts, catalog, json, App, Reply, Value};
use std::time::{Duration, Instant};

const PROVIDER_KEY: &str = "Bearer sk_test_boxoffice_sandbox";

/// A refund made at the provider, not through Boxoffice (no metadata).
fn dashboard_refund(app: &App, intent: &str, amount: i64) -> Reply {
    let body = format!("payment_intent={intent}&amount={amount}&reason=requested_by_customer");
    app.call_raw(
        "POST",
        "/sandbox/payments/v1/refunds",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
        &[("authorization", PROVIDER_KEY)],
    )
}

/// The provider's refunds of `intent` (its own list API).
fn provider_refunded(app: &App, intent: &str) -> i64 {
    let r = app.call(
        "GET",
        &format!("/sandbox/payments/v1/refunds?payment_intent={intent}&limit=100"),
        None,
        &[("authorization", PROVIDER_KEY)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "succeeded")
        .map(|x| x["amount"].as_i64().unwrap())
        .sum()
}

/// Signs and posts a webhook body as the provider would.
fn deliver(app: &App, body: &str) -> Reply {
    let sig = pay::signature(WEBHOOK_SECRET, platform::clock::now_secs(), body.as_bytes());
    pay::webhook(app, body.as_bytes(), &sig)
}

fn bodies(app: &App, object_id: &str) -> Vec<(String, String)> {
    pay::sent_webhooks(app, object_id)
        .into_iter()
        .map(|w| (w["type"].as_str().unwrap().to_string(), w["body"].as_str().unwrap().to_string()))
        .collect()
}

struct Paid {
    p: Purchase,
    intent: String,
    staff: String,
}

fn paid(app: &App) -> Paid {
    let p = journey::paid_purchase(app, "Refunded at the bank", &catalog::days_ahead(20, "20:00"), &["Ada", "Bob"]);
    let issued = settle(app, 20, || (t::my_tickets(app, &p.buyer.token, Some(&p.booking_id)).len() == 2).then_some(()));
    assert!(issued.is_some(), "tickets issued");
    let intent = pay::status(app, &p.buyer.token, &p.booking_id)["provider_reference"].as_str().unwrap().to_string();
    Paid { p, intent, staff: accounts::staff(app).access_token }
}

fn refunded_events(app: &App, x: &Paid) -> usize {
    pay::events(app, &x.staff, &x.p.booking_id).iter().filter(|e| *e == "PaymentRefunded").count()
}

#[test]
fn dashboard_refunds_reach_payment_booking_tickets_and_buyer_once_in_any_order() {
    let app = accounts::spawn(&[]);
    let x = paid(&app);
    let (token, booking) = (&x.p.buyer.token, &x.p.booking_id);
    assert_eq!(pay::status(&app, token, booking)["amount_minor"], 9000);

    // two dashboard refunds whose webhooks are held back, then delivered
    // newest first, again, and all at once
    pay::faults(&app, json!({"webhooks": "none"}));
    let r1 = dashboard_refund(&app, &x.intent, 2500);
    assert_eq!(r1.status, 200, "{}", r1.text());
    let r2 = dashboard_refund(&app, &x.intent, 2500);
    assert_eq!(r2.status, 200, "{}", r2.text());
    let charge = r1.json()["charge"].as_str().unwrap().to_string();
    assert!(r1.json()["metadata"].as_object().unwrap().is_empty(), "a dashboard refund carries none of our metadata");
    let charge_events = bodies(&app, &charge);
    let cumulative: Vec<i64> = charge_events
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["data"]["object"]["amount_refunded"].as_i64().unwrap())
        .collect();
    assert_eq!(cumulative.iter().copied().max(), Some(5000), "charge.refunded is cumulative: {cumulative:?}");
    let mut all: Vec<(String, String)> = charge_events.into_iter().rev().collect();
    all.extend(bodies(&app, r2.json()["id"].as_str().unwrap()));
    all.extend(bodies(&app, r1.json()["id"].as_str().unwrap()));
    assert!(
        all.iter().any(|(k, _)| k == "refund.created") && all.iter().any(|(k, _)| k == "charge.refunded"),
        "{all:?}"
    );
    pay::faults(&app, json!({"webhooks": "normal"}));
    // not yet told: nothing moved
    assert_eq!(pay::status(&app, token, booking)["refunded_minor"], 0);

    for (kind, body) in &all {
        let r = deliver(&app, body);
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
    }
    let after_once = pay::status(&app, token, booking);
    assert_eq!(
        (after_once["status"].as_str(), after_once["refunded_minor"].as_i64()),
        (Some("partially_refunded"), Some(5000)),
        "{after_once}"
    );
    // every delivery again, and three copies of each at once: nothing more
    for (_, body) in &all {
        assert_eq!(deliver(&app, body).json()["duplicate"], true);
    }
    let copies: Vec<String> = all
        .iter()
        .flat_map(|(_, body)| std::iter::repeat_n(body, 3))
        .map(|body| {
            // a new event id each: a different delivery about the same refund
            let mut event: Value = serde_json::from_str(body).unwrap();
            event["id"] = json!(platform::ids::new("evt"));
            event.to_string()
        })
        .collect();
    for status in at_once(copies.len(), |i| deliver(&app, &copies[i]).status) {
        assert_eq!(status, 200);
    }
    let s = pay::status(&app, token, booking);
    assert_eq!(s["refunded_minor"], 5000, "applied once: {s}");
    assert_eq!(provider_refunded(&app, &x.intent), 5000);
    let refunds = s["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 2, "{s}");
    assert!(
        refunds
            .iter()
            .all(|r| r["status"] == "succeeded" && r["reason"].as_str().unwrap().starts_with("refunded_at_provider")),
        "{s}"
    );
    assert_eq!(refunded_events(&app, &x), 2, "one PaymentRefunded per refund");

    // the booking, the tickets and the buyer hear of it: partial, tickets stay
    let heard = settle(&app, 20, || {
        let b = app.get_as(token, &format!("/api/bookings/{booking}")).json();
        let m: Vec<Value> = t::my_messages(&app, token).into_iter().filter(|m| m["kind"] == "refund").collect();
        (b["refunded_minor"] == 5000 && m.len() == 2).then_some((b, m))
    });
    let (b, _) =
        heard.unwrap_or_else(|| panic!("not heard: {}", app.get_as(token, &format!("/api/bookings/{booking}")).text()));
    assert_eq!(b["status"], "confirmed", "{b}");
    assert!(t::my_tickets(&app, token, Some(booking)).iter().all(|tk| tk["status"] == "valid"));

    // the rest refunded at the provider (webhooks as they come): full refund
    let r3 = dashboard_refund(&app, &x.intent, 4000);
    assert_eq!(r3.status, 200, "{}", r3.text());
    let full = settle(&app, 20, || {
        let s = pay::status(&app, token, booking);
        let b = app.get_as(token, &format!("/api/bookings/{booking}")).json();
        let void = t::my_tickets(&app, token, Some(booking)).iter().all(|tk| tk["status"] == "void");
        (s["status"] == "refunded" && b["status"] == "refunded" && void).then_some((s, b))
    });
    let (s, b) = full.unwrap_or_else(|| panic!("not fully refunded: {}", pay::status(&app, token, booking)));
    assert_eq!((s["refunded_minor"].as_i64(), b["refunded_minor"].as_i64()), (Some(9000), Some(9000)));
    assert_eq!(refunded_events(&app, &x), 3);
    // a voided ticket is refused at the door
    let code = t::my_tickets(&app, token, Some(booking))[0]["code"].as_str().unwrap().to_string();
    let admin = accounts::admin(&app).access_token;
    let door = app.post_as(&admin, "/api/tickets/check-in", &json!({"code": code, "event_id": x.p.event_id}));
    door.assert_problem(410);

    // bad input: a forged signature, an unknown intent — nothing applied
    let (_, body) = &all[0];
    let forged = pay::webhook(&app, body.as_bytes(), "t=1,v1=00");
    forged.assert_problem(400);
    let stranger = json!({"id": platform::ids::new("evt"), "object": "event", "type": "refund.created", "created": platform::clock::now_secs(),
        "data": {"object": {"id": "re_unknown", "object": "refund", "amount": 100, "status": "succeeded", "payment_intent": "pi_nobody", "metadata": {}}}});
    assert_eq!(deliver(&app, &stranger.to_string()).status, 200);
    assert_eq!(pay::status(&app, token, booking)["refunded_minor"], 9000);
}

/// An organizer's refund through Boxoffice and a dashboard refund at the
/// same moment, together more than was paid: the provider takes one (or
/// both when they fit), and Boxoffice ends with exactly what the provider
/// refunded — never more than was paid, each refund counted once.
#[test]
fn a_provider_refund_racing_our_own_ends_as_the_provider_says() {
    let app = accounts::spawn(&[]);
    for (ours, theirs) in [(5000, 5000), (6000, 3000)] {
        let x = paid(&app);
        let [api, dash]: [Reply; 2] = at_once(2, |i| match i {
            0 => app.post_as(
                &x.p.org.token,
                &format!("/api/payments/{}/refunds", x.p.booking_id),
                &json!({"amount_minor": ours, "reason": "goodwill"}),
            ),
            _ => dashboard_refund(&app, &x.intent, theirs),
        })
        .try_into()
        .unwrap();
        assert!([201, 202, 409].contains(&api.status), "{} {}", api.status, api.text());
        assert!([200, 400].contains(&dash.status), "{} {}", dash.status, dash.text());
        let at_provider = provider_refunded(&app, &x.intent);
        assert!(at_provider <= 9000 && at_provider > 0);
        let agreed = settle(&app, 30, || {
            let s = pay::status(&app, &x.p.buyer.token, &x.p.booking_id);
            let pending = s["refunds"].as_array().unwrap().iter().any(|r| r["status"] == "pending");
            (!pending && s["refunded_minor"] == at_provider).then_some(s)
        });
        let s = agreed.unwrap_or_else(|| {
            panic!(
                "provider refunded {at_provider}, Boxoffice says {}",
                pay::status(&app, &x.p.buyer.token, &x.p.booking_id)
            )
        });
        let succeeded = s["refunds"].as_array().unwrap().iter().filter(|r| r["status"] == "succeeded").count();
        assert_eq!(refunded_events(&app, &x), succeeded, "one PaymentRefunded per refund that went through: {s}");
        eprintln!("ours {ours} ({}) vs dashboard {theirs} ({}): {at_provider} refunded", api.status, dash.status);
    }
}

/// A `charge.refunded` that arrives while the provider throttles its
/// refund list (429 with `Retry-After`) is refused 503 with that wait as
/// its `Retry-After` and records nothing; delivered again inside the wait
/// it is refused without calling the provider (the fault is used up, so a
/// call would have gone through); after the wait it is taken, once.
#[test]
fn a_refund_webhook_waits_out_a_throttled_provider() {
    let app = accounts::spawn(&[]);
    let x = paid(&app);
    let (token, booking) = (&x.p.buyer.token, &x.p.booking_id);
    pay::faults(&app, json!({"webhooks": "none"}));
    let r = dashboard_refund(&app, &x.intent, 2500);
    assert_eq!(r.status, 200, "{}", r.text());
    let charge = r.json()["charge"].as_str().unwrap().to_string();
    let (_, body) =
        bodies(&app, &charge).into_iter().find(|(k, _)| k == "charge.refunded").expect("charge.refunded, held back");

    pay::faults(&app, json!({"op": "retrieve", "mode": "throttle", "status": 429, "retry_after_secs": 6, "count": 1}));
    let throttled_at = Instant::now();
    let first = deliver(&app, &body);
    assert_eq!(first.status, 503, "{}", first.text());
    let wait: u64 = first.header("retry-after").and_then(|v| v.parse().ok()).expect("a delay-seconds Retry-After");
    assert!((5..=6).contains(&wait), "the provider's 6 s passed on, not a default: {wait}");
    let again = deliver(&app, &body);
    assert!(throttled_at.elapsed() < Duration::from_secs(5), "the second delivery came inside the wait");
    assert_eq!(again.status, 503, "{}", again.text());
    assert!(
        again.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|w| w <= wait),
        "the remaining wait"
    );
    assert_eq!(pay::status(&app, token, booking)["refunded_minor"], 0, "nothing recorded");

    std::thread::sleep((throttled_at + Duration::from_secs(wait + 1)).saturating_duration_since(Instant::now()));
    let ok = deliver(&app, &body);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["duplicate"], false);
    assert_eq!(pay::status(&app, token, booking)["refunded_minor"], 2500);
}
