//! Sales rules at every step of a purchase (issue 13, bug 1): a hold whose
//! sales window closed after it was made — sales end passed, the event
//! started with no later sales end, the event was cancelled — is neither
//! checked out nor paid: 409 with the rule's problem type, and its places
//! are on sale again at once.
//!
//! The checkout tests play `events` with the booking fixture (the sales
//! window is set to the millisecond); the payment tests run the whole app
//! (real events, payments, the sandbox provider).

use e2e::accounts::{customer, Minted};
use e2e::booking::{self as bk, availability, hold, seat_status};
use e2e::payments::{self as pay, VISA_OK};
use e2e::race::at_once;
use e2e::{accounts, catalog, json, App, Reply, Value};
use std::time::Duration;

fn in_ms(ms: i64) -> String {
    platform::clock::rfc3339(platform::clock::now_ms() + ms)
}

/// Sleeps until `rfc3339` has passed (plus a little).
fn wait_past(rfc3339: &str) {
    let at = platform::clock::parse_rfc3339(rfc3339).expect("rfc3339");
    let left = at - platform::clock::now_ms();
    if left > -50 {
        std::thread::sleep(Duration::from_millis((left + 100) as u64));
    }
}

fn checkout(app: &App, token: &str, hold_id: &str, n: usize) -> Reply {
    app.post_as(token, "/api/bookings", &bk::booking_body(hold_id, n))
}

fn hold_status(app: &App, token: &str, hold_id: &str) -> Value {
    let r = app.get_as(token, &format!("/api/holds/{hold_id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["status"].clone()
}

#[test]
fn a_checkout_after_the_sales_window_closed_is_refused_and_frees_the_places() {
    let app = bk::spawn(&[]);
    let token = customer(Minted).token;
    let close = in_ms(2500);
    // sales end soon; the event itself is next week
    let by_sales_end = bk::event(&app, 1, 4, 5, |inv| inv["sales_end"] = json!(close));
    // no sales end: sales close when the event starts
    let by_start = bk::event(&app, 1, 4, 5, |inv| inv["starts_at"] = json!(close));
    // sales at the door: started, but a later sales end keeps it on sale
    let at_the_door = bk::event(&app, 1, 4, 5, |inv| {
        inv["starts_at"] = json!(in_ms(-60_000));
        inv["sales_end"] = json!(in_ms(3_600_000));
    });
    let seated = hold(&app, &token, &json!({"event_id": by_sales_end, "seats": ["A1", "A2"]}));
    assert_eq!(seated.status, 201, "{}", seated.text());
    let seated = seated.json()["id"].as_str().unwrap().to_string();
    let ga = hold(&app, &token, &json!({"event_id": by_start, "tier_id": "tier_ga", "quantity": 3}));
    assert_eq!(ga.status, 201, "{}", ga.text());
    let ga = ga.json()["id"].as_str().unwrap().to_string();
    let door = hold(&app, &token, &json!({"event_id": at_the_door, "seats": ["A1"]}));
    assert_eq!(door.status, 201, "a started event with a later sales end still sells: {}", door.text());
    let door = door.json()["id"].as_str().unwrap().to_string();
    // bad input is still 422 (and changes nothing), before and after the close
    let mut bad = bk::booking_body(&seated, 2);
    bad["buyer"]["phone"] = json!("12");
    app.post_as(&token, "/api/bookings", &bad).assert_problem(422);
    wait_past(&close);
    app.post_as(&token, "/api/bookings", &bad).assert_problem(422);
    assert_eq!(hold_status(&app, &token, &seated), "active", "a refused body releases nothing");

    let p = checkout(&app, &token, &seated, 2).assert_problem(409);
    assert_eq!(p["type"], "/problems/sales-closed", "{p}");
    let p = checkout(&app, &token, &ga, 3).assert_problem(409);
    assert_eq!(p["type"], "/problems/event-past", "{p}");
    // the places are on sale again at once, not when the hold would expire
    assert_eq!(hold_status(&app, &token, &seated), "released");
    assert_eq!(hold_status(&app, &token, &ga), "released");
    let a = availability(&app, &by_sales_end);
    assert_eq!((seat_status(&a, "A1"), seat_status(&a, "A2")), ("available".into(), "available".into()));
    assert_eq!(availability(&app, &by_start)["totals"]["held"], 0);
    // a retry says the same, and no booking was made
    assert_eq!(checkout(&app, &token, &seated, 2).assert_problem(409)["type"], "/problems/sales-closed");
    assert_eq!(app.get_as(&token, "/api/bookings").json()["items"].as_array().unwrap().len(), 0);

    let ok = checkout(&app, &token, &door, 1);
    assert_eq!(ok.status, 201, "{}", ok.text());
    assert_eq!(ok.json()["status"], "pending_payment");
    availability(&app, &at_the_door);
}

#[test]
fn a_hold_of_a_cancelled_event_cannot_be_checked_out() {
    let app = bk::spawn(&[]);
    let token = customer(Minted).token;
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A3"]}));
    assert_eq!(h.status, 201, "{}", h.text());
    let h = h.json()["id"].as_str().unwrap().to_string();
    bk::emit(&app, "EventCancelled", json!({"event_id": ev, "title": "Booking test night", "reason": "storm"}));
    let p = checkout(&app, &token, &h, 1).assert_problem(409);
    assert_eq!(p["type"], "/problems/event-cancelled", "{p}");
    assert_eq!(hold_status(&app, &token, &h), "released");
    assert_eq!(seat_status(&availability(&app, &ev), "A3"), "available");
}

/// Holds checked out by different buyers at the moment their sales close:
/// each answer is 201 (booked in time) or 409 `sales-closed` (released),
/// nothing else, and every place is either in a booking's hold or free.
#[test]
fn checkouts_racing_the_close_are_booked_or_released_never_both() {
    let app = bk::spawn(&[]);
    let n = 8;
    let close = in_ms(3000);
    let ev = bk::event(&app, 1, n, 0, |inv| inv["sales_end"] = json!(close));
    let mut holds = Vec::new();
    for i in 0..n {
        let token = customer(Minted).token;
        let h = hold(&app, &token, &json!({"event_id": ev, "seats": [format!("A{}", i + 1)]}));
        assert_eq!(h.status, 201, "{}", h.text());
        holds.push((token, h.json()["id"].as_str().unwrap().to_string()));
    }
    let at = platform::clock::parse_rfc3339(&close).unwrap();
    let answers: Vec<(u16, Value)> = at_once(n, |i| {
        let (token, id) = &holds[i];
        // spread over the close: 60 ms before to 45 ms after
        let when = at - 60 + 15 * i as i64;
        let wait = when - platform::clock::now_ms();
        if wait > 0 {
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
        checkout(&app, token, id, 1).status_json()
    });
    let a = availability(&app, &ev);
    for (i, ((token, id), (status, body))) in holds.iter().zip(&answers).enumerate() {
        let seat = format!("A{}", i + 1);
        match status {
            201 => {
                assert_eq!(hold_status(&app, token, id), "booked");
                assert_eq!(seat_status(&a, &seat), "held");
            }
            409 => {
                assert_eq!(body["type"], "/problems/sales-closed", "{body}");
                assert_eq!(hold_status(&app, token, id), "released");
                assert_eq!(seat_status(&a, &seat), "available");
            }
            other => panic!("checkout at the close answered {other}: {body}"),
        }
    }
}

/// The whole app: an organizer's event whose sales end (or start) comes
/// while the buyer is on the payment step.
struct Unpaid {
    buyer: accounts::Tokens,
    event_id: String,
    booking_id: String,
}

fn unpaid(app: &App, org: &accounts::User, starts_at: &str, sales_end: Option<&str>) -> Unpaid {
    let venue = catalog::create_venue(app, &org.token, &catalog::ga_venue("Hall", "New York", "America/New_York"));
    let mut body = catalog::event_body(&venue, "Closing soon", starts_at);
    if let Some(end) = sales_end {
        body["sales_end"] = json!(end);
    }
    let ev = catalog::create_event(app, &org.token, &body);
    let event_id = ev["id"].as_str().unwrap().to_string();
    catalog::publish(app, &org.token, &event_id);
    let buyer = accounts::customer(app);
    let tier = ev["tiers"][0]["id"].as_str().unwrap();
    let h =
        app.post_as(&buyer.access_token, "/api/holds", &json!({"event_id": event_id, "tier_id": tier, "quantity": 2}));
    assert_eq!(h.status, 201, "{}", h.text());
    let b = app.post_as(&buyer.access_token, "/api/bookings", &bk::booking_body(h.json()["id"].as_str().unwrap(), 2));
    assert_eq!(b.status, 201, "{}", b.text());
    let booking_id = b.json()["id"].as_str().unwrap().to_string();
    Unpaid { buyer, event_id, booking_id }
}

fn held(app: &App, event_id: &str) -> i64 {
    let r = app.get(&format!("/api/holds/availability/{event_id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["totals"]["held"].as_i64().unwrap()
}

#[test]
fn paying_after_the_sales_window_closed_is_refused_and_nothing_is_charged() {
    let app = accounts::spawn(&[]);
    let org = accounts::organizer(Minted);
    let staff = accounts::staff(&app);
    let close = in_ms(9000);
    let by_start = unpaid(&app, &org, &close, None);
    let by_sales_end = unpaid(&app, &org, &in_ms(86_400_000), Some(&close));
    let racing = unpaid(&app, &org, &in_ms(86_400_000), Some(&close));
    assert_eq!(held(&app, &by_start.event_id), 2);
    wait_past(&close);

    for (u, what) in [(&by_start, "started"), (&by_sales_end, "sales end")] {
        let t = &u.buyer.access_token;
        // bad input is still a 422, and changes nothing
        app.post_as(t, &format!("/api/payments/{}/pay", u.booking_id), &json!({"method": "cash"})).assert_problem(422);
        let p = pay::pay(&app, t, &u.booking_id, VISA_OK).assert_problem(409);
        assert_eq!(p["type"], "/problems/sales-closed", "{what}: {p}");
        // the places are free at once, the booking says why, nothing was charged
        assert_eq!(held(&app, &u.event_id), 0, "{what}");
        let b = app.get_as(t, &format!("/api/bookings/{}", u.booking_id)).json();
        assert_eq!(
            (b["status"].as_str(), b["cancel_reason"].as_str()),
            (Some("cancelled"), Some("sales_closed")),
            "{what}: {b}"
        );
        let s = pay::status(&app, t, &u.booking_id);
        assert_eq!(s["status"], "canceled", "{what}: {s}");
        assert_eq!(s["refunded_minor"], 0);
        let intent = s["provider_reference"].as_str().expect("intent");
        assert_eq!(pay::provider_intent(&app, intent)["status"], "canceled", "{what}: cancelled at the provider");
        // again: the same answer, no second PaymentFailed
        assert_eq!(pay::pay(&app, t, &u.booking_id, VISA_OK).assert_problem(409)["type"], "/problems/sales-closed");
        assert_eq!(pay::events(&app, &staff.access_token, &u.booking_id), vec!["PaymentFailed".to_string()], "{what}");
        assert!(app.get_as(t, "/api/tickets").json()["items"].as_array().unwrap().is_empty(), "{what}: no tickets");
        let messages = e2e::tickets::my_messages(&app, t);
        assert!(messages.iter().any(|m| m["kind"] == "sales_closed"), "{what}: the buyer is told: {messages:?}");
    }

    // two pays at once after the close: both refused, one PaymentFailed
    let (t, booking) = (&racing.buyer.access_token, &racing.booking_id);
    let answers: Vec<u16> = at_once(2, |_| pay::pay(&app, t, booking, VISA_OK).status);
    assert!(answers.iter().all(|s| *s == 409), "{answers:?}");
    assert_eq!(pay::events(&app, &staff.access_token, &racing.booking_id), vec!["PaymentFailed".to_string()]);
    assert_eq!(held(&app, &racing.event_id), 0);
}

#[test]
fn a_payment_started_before_the_close_completes() {
    let app = accounts::spawn(&[]);
    let org = accounts::organizer(Minted);
    let close = in_ms(8000);
    let u = unpaid(&app, &org, &in_ms(86_400_000), Some(&close));
    let ok = pay::pay(&app, &u.buyer.access_token, &u.booking_id, VISA_OK);
    assert_eq!(ok.status, 200, "{}", ok.text());
    wait_past(&close);
    // paid in time: the booking is confirmed, also after the close
    let path = format!("/api/bookings/{}", u.booking_id);
    let confirmed = e2e::tickets::wait_for(20, || {
        e2e::tickets::tick(&app, "/api/bookings/tick");
        let b = app.get_as(&u.buyer.access_token, &path).json();
        (b["status"] == "confirmed").then_some(b)
    });
    assert!(confirmed.is_some(), "{}", app.get_as(&u.buyer.access_token, &path).text());
    assert_eq!(
        pay::pay(&app, &u.buyer.access_token, &u.booking_id, VISA_OK).status,
        200,
        "paying again shows the paid payment"
    );
}
