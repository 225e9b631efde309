//! The booking component through the runner: holds under real concurrency,
//! expiry, bad input, checkout, cancellation, and booking's side of the
//! saga (redelivery, a subscriber that was down, late payments).
//!
//! `events` and `payments` are played by the booking fixture (see
//! `e2e::booking`). Every test ends by checking that, per tier,
//! sold + held + available = capacity with nothing negative.

use e2e::accounts::{self, customer, Minted};
use e2e::booking::{self as bk, availability, hold, seat_status, tier};
use e2e::race::at_once;
use e2e::{json, App, Value};
use std::time::Duration;

/// Runs the holds `(token, body)` at the same moment.
fn race(app: &App, bodies: Vec<(String, Value)>) -> Vec<(u16, Value)> {
    at_once(bodies.len(), |i| hold(app, &bodies[i].0, &bodies[i].1).status_json())
}

#[test]
fn fifty_concurrent_holds_on_one_seat_exactly_one_wins() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 2, 10, 10, |_| {});
    let bodies = (0..50).map(|_| (customer(Minted).token, json!({"event_id": ev, "seats": ["A5"]}))).collect();
    let results = race(&app, bodies);
    let won: Vec<_> = results.iter().filter(|(s, _)| *s == 201).collect();
    assert_eq!(won.len(), 1, "exactly one winner: {:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["type"], "/problems/seat-unavailable");
    }
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A5"), "held");
    assert_eq!(tier(&avail, "tier_s")["held"], 1);
}

#[test]
fn overlapping_multi_seat_holds_one_wins_whole_the_other_gets_409_naming_the_seat() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 6, 0, |_| {});
    for round in 0..5 {
        let (t1, t2) = (customer(Minted).token, customer(Minted).token);
        let results = race(
            &app,
            vec![
                (t1.clone(), json!({"event_id": ev, "seats": ["A1", "A2"]})),
                (t2.clone(), json!({"event_id": ev, "seats": ["A2", "A3"]})),
            ],
        );
        let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
        assert!(statuses.contains(&201) && statuses.contains(&409), "round {round}: {statuses:?}");
        let (winner, loser) = if results[0].0 == 201 { (0, 1) } else { (1, 0) };
        assert!(results[loser].1["detail"].as_str().unwrap().contains("A2"), "names the seat: {}", results[loser].1);
        assert_eq!(results[winner].1["seats"].as_array().unwrap().len(), 2, "won whole");
        let avail = availability(&app, &ev);
        assert_eq!(tier(&avail, "tier_s")["held"], 2, "loser holds nothing");
        // release and go again
        let id = results[winner].1["id"].as_str().unwrap();
        let token = if winner == 0 { &t1 } else { &t2 };
        assert_eq!(
            app.call("DELETE", &format!("/api/holds/{id}"), None, &[("authorization", &format!("Bearer {token}"))])
                .status,
            204
        );
        assert_eq!(tier(&availability(&app, &ev), "tier_s")["held"], 0);
    }
}

#[test]
fn general_admission_with_20_concurrent_buyers_sells_exactly_capacity() {
    let app = bk::spawn(&[]);
    for capacity in [1u32, 5] {
        let ev = bk::event(&app, 0, 0, capacity, |_| {});
        let bodies = (0..20)
            .map(|_| (customer(Minted).token, json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 1})))
            .collect();
        let results = race(&app, bodies);
        let won = results.iter().filter(|(s, _)| *s == 201).count();
        assert_eq!(
            won,
            capacity as usize,
            "capacity {capacity}: {:?}",
            results.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|(s, b)| *s == 201 || (*s == 409 && b["type"] == "/problems/sold-out")));
        let avail = availability(&app, &ev);
        let t = tier(&avail, "tier_ga");
        assert_eq!((t["held"].as_i64(), t["available"].as_i64()), (Some(i64::from(capacity)), Some(0)));
    }
}

#[test]
fn an_expired_hold_frees_exactly_its_seats_once_and_cannot_be_checked_out() {
    let app = bk::spawn(&[("hold_ttl_seconds", "2")]);
    let ev = bk::event(&app, 1, 6, 4, |_| {});
    let alice = customer(Minted).token;
    let bob = customer(Minted).token;
    let h = hold(&app, &alice, &json!({"event_id": ev, "seats": ["A1", "A2"]}));
    assert_eq!(h.status, 201, "{}", h.text());
    let hold_id = h.json()["id"].as_str().unwrap().to_string();
    let ga = hold(&app, &alice, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 3}));
    assert_eq!(ga.status, 201, "{}", ga.text());
    let other = hold(&app, &bob, &json!({"event_id": ev, "seats": ["A4"]}));
    assert_eq!(other.status, 201);
    std::thread::sleep(Duration::from_millis(2300));
    // Bob's hold also expired; hold A4 again with a fresh (long) one later.
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "available");
    // The expired hold reads as expired and cannot be checked out.
    let r = app.get_as(&alice, &format!("/api/holds/{hold_id}"));
    assert_eq!(r.json()["status"], "expired");
    bk::booking_body(&hold_id, 2);
    app.post_as(&alice, "/api/bookings", &bk::booking_body(&hold_id, 2)).assert_problem(410);
    // Someone else takes A1 now; then sweeps run: they must not free A1 again.
    let carol = customer(Minted).token;
    assert_eq!(hold(&app, &carol, &json!({"event_id": ev, "seats": ["A1"]})).status, 201);
    let first = bk::tick(&app);
    let second = bk::tick(&app);
    assert_eq!(second["expired"], 0, "second sweep finds nothing: {first} {second}");
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "held", "carol's hold survives the sweeps");
    assert_eq!(seat_status(&avail, "A2"), "available");
    assert_eq!(seat_status(&avail, "A4"), "available");
    let t = tier(&avail, "tier_ga");
    assert_eq!((t["held"].as_i64(), t["available"].as_i64()), (Some(0), Some(4)), "GA places came back once");
    // A1 can't be taken twice: a fourth user loses.
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1"]})).status, 409);
}

#[test]
fn bad_input_gets_problem_json_and_holds_nothing() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 3, |_| {});
    let token = customer(Minted).token;
    let before = availability(&app, &ev);
    let cases: Vec<(Value, u16)> = vec![
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 0}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": -1}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 1.5}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": "2"}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": null}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 2147483648u64}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 9223372036854775808u64}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 9}), 422),
        (json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 4}), 409),
        (json!({"event_id": ev, "tier_id": "tier_nope", "quantity": 1}), 422),
        (json!({"event_id": ev, "seats": ["A1", "Z9"]}), 422),
        (json!({"event_id": ev, "seats": ["A1", "A1"]}), 422),
        (json!({"event_id": ev, "seats": []}), 422),
        (json!({"event_id": ev, "seats": ["A1"], "tier_id": "tier_ga", "quantity": 1}), 422),
        (json!({"event_id": ev}), 422),
        (json!({"event_id": "evt_does_not_exist", "seats": ["A1"]}), 404),
        (json!({"event_id": "../etc", "seats": ["A1"]}), 422),
    ];
    for (body, status) in cases {
        let r = hold(&app, &token, &body);
        r.assert_problem(status);
    }
    let r = app.call_raw(
        "POST",
        "/api/holds",
        "application/json",
        b"{\"event_id\": ",
        &[("authorization", &format!("Bearer {token}"))],
    );
    r.assert_problem(400);
    app.post("/api/holds", &json!({"event_id": ev, "seats": ["A1"]})).assert_problem(401);
    // another user's hold is invisible
    let mine = hold(&app, &token, &json!({"event_id": ev, "seats": ["A3"]}));
    let id = mine.json()["id"].as_str().unwrap().to_string();
    let other = customer(Minted).token;
    app.get_as(&other, &format!("/api/holds/{id}")).assert_problem(404);
    app.call("DELETE", &format!("/api/holds/{id}"), None, &[("authorization", &format!("Bearer {other}"))])
        .assert_problem(404);
    app.post_as(&other, "/api/bookings", &bk::booking_body(&id, 1)).assert_problem(404);
    // bad buyer details, wrong attendee count: nothing written
    let mut body = bk::booking_body(&id, 1);
    body["buyer"]["email"] = json!("not-an-email");
    app.post_as(&token, "/api/bookings", &body).assert_problem(422);
    app.post_as(&token, "/api/bookings", &bk::booking_body(&id, 2)).assert_problem(422);
    assert_eq!(app.get_as(&token, "/api/bookings").json()["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.get_as(&token, &format!("/api/holds/{id}")).json()["status"], "active");
    app.call("DELETE", &format!("/api/holds/{id}"), None, &[("authorization", &format!("Bearer {token}"))]);
    let after = availability(&app, &ev);
    assert_eq!(before["totals"], after["totals"], "nothing held or sold");
}

#[test]
fn sales_rules_and_limits() {
    let app = bk::spawn(&[]);
    let now = platform::clock::now_ms();
    let token = customer(Minted).token;
    let kinds = [
        ("draft", json!({"status": "draft"}), "/problems/event-not-on-sale"),
        ("cancelled", json!({"status": "cancelled"}), "/problems/event-cancelled"),
        ("past", json!({"starts_at": platform::clock::rfc3339(now - 1000)}), "/problems/event-past"),
        ("not yet", json!({"sales_start": platform::clock::rfc3339(now + 3_600_000)}), "/problems/sales-not-open"),
        ("closed", json!({"sales_end": platform::clock::rfc3339(now - 1000)}), "/problems/sales-closed"),
    ];
    for (name, patch, kind) in kinds {
        let ev = bk::event(&app, 1, 4, 5, |inv| {
            for (k, v) in patch.as_object().unwrap() {
                inv[k] = v.clone();
            }
        });
        let p = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).assert_problem(409);
        assert_eq!(p["type"], kind, "{name}");
    }
    // per-user limit (order_limit 8) counts live holds
    let ev = bk::event(&app, 2, 10, 20, |_| {});
    assert_eq!(hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_s", "quantity": 6})).status, 201);
    let p = hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 3})).assert_problem(409);
    assert_eq!(p["type"], "/problems/order-limit");
    assert_eq!(hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 2})).status, 201);
    availability(&app, &ev);
}

#[test]
fn best_available_picks_adjacent_seats_in_one_row() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 2, 6, 0, |_| {});
    let token = customer(Minted).token;
    assert_eq!(hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})).status, 201);
    let r = hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_s", "quantity": 3}));
    assert_eq!(r.status, 201, "{}", r.text());
    let seats: Vec<String> =
        r.json()["seats"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    // A1 alone would be stranded by A3-A5 only if we took A3..; A3,A4,A5 leaves A6 single → prefer row A start after gap? rule: no single seat stranded
    assert_eq!(seats.len(), 3);
    let row = &seats[0][..1];
    assert!(seats.iter().all(|s| s.starts_with(row)), "one row: {seats:?}");
    let nums: Vec<u32> = seats.iter().map(|s| s[1..].parse().unwrap()).collect();
    assert!(nums.windows(2).all(|w| w[1] == w[0] + 1), "adjacent: {seats:?}");
    availability(&app, &ev);
}

fn received(app: &App) -> Value {
    app.get("/fixture/payments/received").json()
}

#[test]
fn checkout_payment_redelivery_down_subscriber_and_cancellation() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 6, 5, |_| {});
    let buyer = customer(Minted);
    let (token, user) = (buyer.token, buyer.user_id);
    // payments is down when the booking is ordered
    assert_eq!(app.post("/fixture/payments/down", &json!({})).status, 204);
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1", "A2"]})).json();
    let hold_id = h["id"].as_str().unwrap();
    let r = app.post_as(&token, "/api/bookings", &bk::booking_body(hold_id, 2));
    assert_eq!(r.status, 201, "{}", r.text());
    let booking = r.json();
    let bid = booking["id"].as_str().unwrap().to_string();
    assert_eq!(booking["status"], "pending_payment");
    assert_eq!(booking["amount_minor"], 9000);
    // checking out again returns the same booking
    let again = app.post_as(&token, "/api/bookings", &bk::booking_body(hold_id, 2));
    assert_eq!((again.status, again.json()["id"].as_str()), (200, Some(bid.as_str())));
    // a booked hold cannot be released directly
    app.call("DELETE", &format!("/api/holds/{hold_id}"), None, &[("authorization", &format!("Bearer {token}"))])
        .assert_problem(409);
    assert!(received(&app).as_object().unwrap().is_empty(), "nothing arrived while down");
    // the subscriber comes back: the next relay pass after the backoff delivers, once
    assert_eq!(app.post("/fixture/payments/up", &json!({})).status, 204);
    std::thread::sleep(Duration::from_millis(1200));
    let t = bk::tick(&app);
    assert!(t["relay"]["delivered"].as_u64().unwrap() >= 1, "{t}");
    bk::tick(&app);
    let got = received(&app);
    let ordered: Vec<_> = got.as_object().unwrap().values().filter(|v| v["type"] == "BookingOrdered").collect();
    assert_eq!(ordered.len(), 1, "{got}");
    assert_eq!(ordered[0]["count"], 1, "delivered once: {got}");

    // payment succeeds; then the same event is redelivered twice
    let emitted = bk::emit(
        &app,
        "PaymentSucceeded",
        json!({"booking_id": bid, "payment_id": "pay_1", "amount_minor": 9000, "currency": "EUR"}),
    );
    let event = emitted["event"].clone();
    let b = app.get_as(&token, &format!("/api/bookings/{bid}")).json();
    assert_eq!(b["status"], "confirmed", "{b}");
    for _ in 0..2 {
        let d = app.post("/fixture/payments/deliver", &event).json();
        assert_eq!(d["status"], 200);
        assert_eq!(d["body"]["status"], "duplicate", "{d}");
    }
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "sold");
    assert_eq!(tier(&avail, "tier_s")["sold"], 2);
    // the saga route is private
    app.post("/api/bookings/saga", &event).assert_not_routed();
    // a sold seat cannot be held
    hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A2"]})).assert_problem(409);
    // mine, paged
    let list = app.get_as(&token, "/api/bookings?limit=1").json();
    assert_eq!(list["items"][0]["id"], bid.as_str());
    assert_eq!(list["items"][0]["buyer"]["email"], "ada@example.com");
    let _ = user;
    // cancel: seats back on sale, BookingCancelled to payments; twice changes nothing
    let c1 = app.post_as(&token, &format!("/api/bookings/{bid}/cancel"), &json!({}));
    assert_eq!((c1.status, c1.json()["status"].as_str()), (200, Some("cancelled")), "{}", c1.text());
    let c2 = app.post_as(&token, &format!("/api/bookings/{bid}/cancel"), &json!({}));
    assert_eq!(c2.json()["updated_at"], c1.json()["updated_at"]);
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "available");
    assert_eq!(tier(&avail, "tier_s")["sold"], 0);
    let cancelled: Vec<_> =
        received(&app).as_object().unwrap().values().filter(|v| v["type"] == "BookingCancelled").cloned().collect();
    assert_eq!(cancelled.len(), 1, "one BookingCancelled");
    // the refund completes the booking
    bk::emit(
        &app,
        "PaymentRefunded",
        json!({"booking_id": bid, "amount_minor": 9000, "currency": "EUR", "full": true}),
    );
    assert_eq!(app.get_as(&token, &format!("/api/bookings/{bid}")).json()["status"], "refunded");
    // freed seats are sellable again, once
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1", "A2"]})).status, 201);
    availability(&app, &ev);
}

#[test]
fn late_payment_rehold_or_refund_and_event_cancellation() {
    let app = bk::spawn(&[("hold_ttl_seconds", "1")]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let token = customer(Minted).token;
    let book = |seats: Value| {
        let h = hold(&app, &token, &json!({"event_id": ev, "seats": seats})).json();
        let r = app.post_as(&token, "/api/bookings", &bk::booking_body(h["id"].as_str().unwrap(), 1));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    };
    let b1 = book(json!(["A1"]));
    let b2 = book(json!(["A2"]));
    std::thread::sleep(Duration::from_millis(1300));
    let t = bk::tick(&app);
    assert_eq!(t["expired"], 2, "{t}");
    assert_eq!(app.get_as(&token, &format!("/api/bookings/{b1}")).json()["status"], "expired");
    // A2 is taken by someone else meanwhile (a hold that lives long enough)
    let other = customer(Minted).token;
    assert_eq!(hold(&app, &other, &json!({"event_id": ev, "seats": ["A2"]})).status, 201);
    // late payment for b1: A1 still free → re-held and confirmed
    bk::emit(
        &app,
        "PaymentSucceeded",
        json!({"booking_id": b1, "payment_id": "pay_1", "amount_minor": 4500, "currency": "EUR"}),
    );
    assert_eq!(app.get_as(&token, &format!("/api/bookings/{b1}")).json()["status"], "confirmed");
    // late payment for b2: A2 taken → cancelled for refund
    bk::emit(
        &app,
        "PaymentSucceeded",
        json!({"booking_id": b2, "payment_id": "pay_2", "amount_minor": 4500, "currency": "EUR"}),
    );
    let b = app.get_as(&token, &format!("/api/bookings/{b2}")).json();
    assert_eq!(
        (b["status"].as_str(), b["cancel_reason"].as_str()),
        (Some("cancelled"), Some("seats_unavailable")),
        "{b}"
    );
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "sold");
    // the event is cancelled: b1 is cancelled, its seat freed
    bk::emit(&app, "EventCancelled", json!({"event_id": ev}));
    let b = app.get_as(&token, &format!("/api/bookings/{b1}")).json();
    assert_eq!((b["status"].as_str(), b["cancel_reason"].as_str()), (Some("cancelled"), Some("event_cancelled")));
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A1"), "available");
}

#[test]
fn tick_needs_the_token_and_health_answers() {
    let app = bk::spawn(&[]);
    app.call("POST", "/api/bookings/tick", None, &[]).assert_problem(401);
    app.call("POST", "/api/bookings/tick", None, &[("authorization", "Bearer nope")]).assert_problem(401);
    let h = app.get("/api/holds/health");
    assert_eq!(h.status, 200, "{}", h.text());
    let admin = accounts::user(Minted, "admin");
    let d = app.get_as(&admin.token, "/api/bookings/admin/dead-letters");
    assert_eq!(d.status, 200, "{}", d.text());
    app.get_as(&customer(Minted).token, "/api/bookings/admin/dead-letters").assert_problem(403);
}

#[test]
fn ten_simultaneous_checkouts_of_one_hold_make_one_booking_and_keep_the_seat() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 6, 0, |_| {});
    for round in 1..=6 {
        let seat = format!("A{round}");
        let token = customer(Minted).token;
        let h = hold(&app, &token, &json!({"event_id": ev, "seats": [seat]})).json();
        let hold_id = h["id"].as_str().unwrap().to_string();
        // no Idempotency-Key: nothing but the hold itself serialises them
        let results =
            at_once(10, |_| app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 1)).status_json());
        let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "round {round}: one creates it: {results:?}");
        let created = results.iter().find(|r| r.0 == 201).unwrap().1["id"].clone();
        for (status, body) in &results {
            match status {
                201 | 200 => assert_eq!(body["id"], created, "round {round}: the same booking"),
                409 => assert!(body["type"].is_string(), "round {round}: problem {body}"),
                _ => panic!("round {round}: {status} {body}"),
            }
        }
        let mine = app.get_as(&token, "/api/bookings").json();
        let ids: Vec<_> = mine["items"].as_array().unwrap().iter().map(|b| b["id"].clone()).collect();
        assert_eq!(ids, std::slice::from_ref(&created), "round {round}: exactly one booking");
        let h = app.get_as(&token, &format!("/api/holds/{hold_id}")).json();
        assert_eq!((h["status"].as_str(), &h["booking_id"]), (Some("booked"), &created), "round {round}: {h}");
        // the seat stays the booking's, through a sweep, against anyone else
        bk::tick(&app);
        assert_eq!(seat_status(&availability(&app, &ev), &seat), "held", "round {round}");
        hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": [seat]})).assert_problem(409);
        assert_eq!(app.get_as(&token, &format!("/api/holds/{hold_id}")).json()["status"], "booked");
    }
    // one BookingOrdered per booking, each delivered once
    let got = received(&app);
    let ordered: Vec<_> = got.as_object().unwrap().values().filter(|v| v["type"] == "BookingOrdered").collect();
    assert_eq!(ordered.len(), 6, "{got}");
    assert!(ordered.iter().all(|v| v["count"] == 1), "{got}");
}

#[test]
fn a_new_inventory_version_reaches_booking_before_the_next_hold() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let alice = customer(Minted).token;
    assert_eq!(hold(&app, &alice, &json!({"event_id": ev, "seats": ["A2"]})).status, 201);
    hold(&app, &alice, &json!({"event_id": ev, "seats": ["B1"]})).assert_problem(422);
    let v1 = availability(&app, &ev);
    assert_eq!(v1["layout"]["version"], 1);

    // events publishes version 2: a second row in a new tier, a smaller order limit
    let inventory = app.get(&format!("/api/events/{ev}/inventory")).json();
    let mut next = inventory.clone();
    next["version"] = json!(2);
    next["order_limit"] = json!(3);
    next["tiers"].as_array_mut().unwrap().push(json!({"id": "tier_b", "name": "Balcony", "price_minor": 1500, "currency": "EUR", "kind": "seated", "capacity": 4}));
    for n in 1..=4 {
        next["seats"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": format!("B{n}"), "section": "S1", "row": "B", "number": n.to_string(), "position": n,
            "x": n as f64, "y": 1.0, "tier_id": "tier_b", "accessible": false}));
    }
    assert_eq!(app.call("PUT", &format!("/fixture/events/{ev}"), Some(&next), &[]).status, 204);

    // the very next hold sells the new seats at the new price, under the new limit
    let bob = customer(Minted).token;
    let h = hold(&app, &bob, &json!({"event_id": ev, "seats": ["B1", "B2"]}));
    assert_eq!(h.status, 201, "{}", h.text());
    assert_eq!(h.json()["amount_minor"], 3000);
    let p = hold(&app, &bob, &json!({"event_id": ev, "tier_id": "tier_b", "quantity": 2})).assert_problem(409);
    assert_eq!(p["type"], "/problems/order-limit", "{p}");
    let v2 = availability(&app, &ev);
    assert_eq!((v2["layout"]["version"].as_i64(), v2["layout"]["seat_count"].as_i64()), (Some(2), Some(8)));
    // A2's hold, made under version 1, still holds it under version 2
    assert_eq!(seat_status(&v2, "A2"), "held");
    assert_eq!((tier(&v2, "tier_s")["held"].as_i64(), tier(&v2, "tier_b")["held"].as_i64()), (Some(1), Some(2)));
    app.get(v1["layout"]["url"].as_str().unwrap()).assert_problem(404);
    // an announcement of a version booking has seen changes nothing
    assert_eq!(app.call("PUT", &format!("/fixture/events/{ev}"), Some(&next), &[]).status, 204);
    assert_eq!(availability(&app, &ev)["layout"], v2["layout"]);

    // version 3 cancels the event: no more holds
    next["version"] = json!(3);
    next["status"] = json!("cancelled");
    assert_eq!(app.call("PUT", &format!("/fixture/events/{ev}"), Some(&next), &[]).status, 204);
    let p = hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["B3"]})).assert_problem(409);
    assert_eq!(p["type"], "/problems/event-cancelled");
}

#[test]
fn a_draft_stays_invisible_through_the_status_and_layout_documents() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 5, |inv| inv["status"] = json!("draft"));
    for path in [format!("/api/holds/availability/{ev}"), format!("/api/holds/layout/{ev}/1")] {
        let p = app.get(&path).assert_problem(404);
        assert!(!p.to_string().contains("tier_s"), "{p}");
    }
    hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1"]})).assert_problem(409);
}

#[test]
fn thirty_concurrent_best_available_holds_get_distinct_adjacent_pairs_until_sold_out() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 2, 10, 0, |_| {});
    let bodies = (0..30)
        .map(|_| (customer(Minted).token, json!({"event_id": ev, "tier_id": "tier_s", "quantity": 2})))
        .collect();
    let results = race(&app, bodies);
    let won: Vec<&Value> = results.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    assert_eq!(won.len(), 10, "20 seats, pairs: {:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert!(body["type"] == "/problems/sold-out" || body["type"] == "/problems/seat-unavailable", "{body}");
    }
    let mut all = std::collections::HashSet::new();
    for h in &won {
        let seats: Vec<&str> = h["seats"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(seats.len(), 2);
        let (a, b) = (seats[0], seats[1]);
        assert_eq!(a[..1], b[..1], "one row: {seats:?}");
        let (pa, pb): (i32, i32) = (a[1..].parse().unwrap(), b[1..].parse().unwrap());
        assert_eq!((pa - pb).abs(), 1, "adjacent: {seats:?}");
        for s in seats {
            assert!(all.insert(s.to_string()), "seat {s} held twice");
        }
    }
    let avail = availability(&app, &ev);
    assert_eq!(
        (tier(&avail, "tier_s")["held"].as_i64(), tier(&avail, "tier_s")["available"].as_i64()),
        (Some(20), Some(0))
    );
}
