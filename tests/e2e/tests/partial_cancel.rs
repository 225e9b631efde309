//! Cancelling one ticket of a multi-ticket order (issue 13, item 6): the
//! ticket is void and refused at the door, its seat is sellable again, its
//! price (or an amount the organizer gives) is refunded, the booking shows
//! what remains, refunds never exceed what was paid — and a cancel racing
//! the door scan of the same ticket ends with exactly one of them.
//! The whole app: events, booking, payments, tickets, notifications.

use e2e::accounts::{self, Minted};
use e2e::catalog::{self, create_event, create_venue, days_ahead, publish};
use e2e::payments::{self as pay, VISA_OK};
use e2e::race::at_once;
use e2e::tickets::{self as t, settle};
use e2e::{json, App, Reply, Value};

struct Order {
    org: accounts::User,
    buyer: accounts::User,
    event_id: String,
    booking_id: String,
    tickets: Vec<Value>,
}

/// A seated event (one row of `seats` seats at 4500) and a buyer's paid
/// booking of `n` of them, with its tickets issued.
fn order(app: &App, seats: usize, n: usize) -> Order {
    let org = accounts::organizer(Minted);
    let venue = create_venue(
        app,
        &org.token,
        &json!({"name": "Row House", "city": "Denver", "country": "US", "timezone": "America/Denver", "seat_map": catalog::grid_seat_map(1, 1, seats)}),
    );
    let ev = create_event(
        app,
        &org.token,
        &json!({"title": "One by one", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "19:30"), "currency": "USD",
                "tiers": [{"name": "Stalls", "price_minor": 4500, "kind": "seated", "sections": ["S1"]}]}),
    );
    let event_id = ev["id"].as_str().unwrap().to_string();
    publish(app, &org.token, &event_id);
    let buyer = accounts::customer(app).user();
    let h = app.post_as(
        &buyer.token,
        "/api/holds",
        &json!({"event_id": event_id, "tier_id": ev["tiers"][0]["id"], "quantity": n}),
    );
    assert_eq!(h.status, 201, "{}", h.text());
    let names: Vec<Value> = (0..n).map(|i| json!({"name": format!("Guest {i}")})).collect();
    let b = app.post_as(&buyer.token, "/api/bookings", &json!({"hold_id": h.json()["id"], "buyer": {"name": "Ada", "email": "ada@example.com", "phone": "+14155550100"}, "attendees": names}));
    assert_eq!(b.status, 201, "{}", b.text());
    let booking_id = b.json()["id"].as_str().unwrap().to_string();
    assert_eq!(pay::pay(app, &buyer.token, &booking_id, VISA_OK).status, 200);
    let tickets = settle(app, 20, || {
        let v = t::my_tickets(app, &buyer.token, Some(&booking_id));
        (v.len() == n).then_some(v)
    })
    .expect("tickets issued");
    Order { org, buyer, event_id, booking_id, tickets }
}

fn cancel(app: &App, token: &str, o: &Order, ticket: &str, body: Value) -> Reply {
    app.post_as(token, &format!("/api/bookings/{}/tickets/{ticket}/cancel", o.booking_id), &body)
}

fn seat_status(app: &App, event_id: &str, seat: &str) -> String {
    let avail = e2e::booking::availability(app, event_id);
    e2e::booking::seat_status(&avail, seat)
}

fn scan(app: &App, token: &str, o: &Order, code: &str) -> Reply {
    app.post_as(token, "/api/tickets/check-in", &json!({"code": code, "event_id": o.event_id}))
}

fn refunded(app: &App, o: &Order, want: i64) -> Value {
    settle(app, 20, || {
        let s = pay::status(app, &o.buyer.token, &o.booking_id);
        (s["refunded_minor"] == want && s["refunds"].as_array().unwrap().iter().all(|r| r["status"] != "pending"))
            .then_some(s)
    })
    .unwrap_or_else(|| {
        panic!("refunded_minor never reached {want}: {}", pay::status(app, &o.buyer.token, &o.booking_id))
    })
}

#[test]
fn one_ticket_is_cancelled_its_seat_resold_its_price_refunded_and_the_rest_stays() {
    let app = accounts::spawn(&[]);
    let o = order(&app, 4, 3);
    let token = &o.buyer.token;
    let first = o.tickets[0]["id"].as_str().unwrap().to_string();
    let seat = o.tickets[0]["seat_id"].as_str().unwrap().to_string();
    assert_eq!(seat_status(&app, &o.event_id, &seat), "sold");

    // bad input changes nothing
    let stranger = accounts::customer(Minted);
    cancel(&app, &stranger.token, &o, &first, json!({})).assert_problem(404);
    cancel(&app, token, &o, "tkt_nope", json!({})).assert_problem(404);
    cancel(&app, token, &o, &first, json!({"refund_minor": 1})).assert_problem(403);
    cancel(&app, &o.org.token, &o, &first, json!({"refund_minor": -1})).assert_problem(422);
    cancel(&app, token, &o, &first, json!({"everything": true})).assert_problem(422);
    app.post(&format!("/api/bookings/{}/tickets/{first}/cancel", o.booking_id), &json!({})).assert_problem(401);
    assert!(t::my_tickets(&app, token, Some(&o.booking_id)).iter().all(|tk| tk["status"] == "valid"));

    // the buyer cancels one ticket
    let r = cancel(&app, token, &o, &first, json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let b = r.json();
    assert_eq!((b["status"].as_str(), b["tickets_remaining"].as_i64()), (Some("confirmed"), Some(2)), "{b}");
    assert_eq!(b["cancelled_tickets"][0]["ticket_id"], first.as_str());
    assert_eq!(b["cancelled_tickets"][0]["refund_minor"], 4500);
    let void =
        t::my_tickets(&app, token, Some(&o.booking_id)).into_iter().find(|tk| tk["id"] == first.as_str()).unwrap();
    assert_eq!(void["status"], "void");
    scan(&app, &o.org.token, &o, void["code"].as_str().unwrap()).assert_problem(410);
    assert_eq!(seat_status(&app, &o.event_id, &seat), "available", "the seat is on sale again");
    let s = refunded(&app, &o, 4500);
    assert_eq!(s["status"], "partially_refunded", "{s}");
    // again: nothing twice
    assert_eq!(cancel(&app, token, &o, &first, json!({})).status, 200);
    assert_eq!(refunded(&app, &o, 4500)["refunds"].as_array().unwrap().len(), 1);

    // someone else buys that seat
    let other = accounts::customer(&app).user();
    let h = app.post_as(&other.token, "/api/holds", &json!({"event_id": o.event_id, "seats": [seat]}));
    assert_eq!(h.status, 201, "the cancelled seat is sellable: {}", h.text());

    // the organizer cancels another one with an amount of their own
    let second = o.tickets[1]["id"].as_str().unwrap().to_string();
    let r = cancel(&app, &o.org.token, &o, &second, json!({"refund_minor": 1000}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["tickets_remaining"], 1);
    refunded(&app, &o, 5500);
    // the last ticket is the booking: cancel that instead
    let third = o.tickets[2]["id"].as_str().unwrap().to_string();
    assert_eq!(cancel(&app, token, &o, &third, json!({})).assert_problem(409)["type"], "/problems/last-ticket");
    let told = settle(&app, 20, || {
        let m: Vec<Value> =
            t::my_messages(&app, token).into_iter().filter(|m| m["kind"] == "ticket_cancelled").collect();
        (m.len() == 2).then_some(m)
    });
    assert!(told.is_some(), "the buyer is told of each cancelled ticket");

    // cancelling the whole booking refunds exactly the rest, and never
    // touches the seat resold to the other buyer
    let r = app.post_as(token, &format!("/api/bookings/{}/cancel", o.booking_id), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let s = refunded(&app, &o, 13500);
    assert_eq!(s["status"], "refunded", "{s}");
    let other_hold = app.get_as(&other.token, &format!("/api/holds/{}", h.json()["id"].as_str().unwrap())).json();
    assert_eq!(other_hold["status"], "active", "{other_hold}");
    assert_eq!(seat_status(&app, &o.event_id, &seat), "held", "still the other buyer's");
}

/// The door scans a ticket while its buyer cancels it, at the same moment,
/// on three orders: exactly one wins each time; two cancels of one ticket
/// at once cancel and refund it once.
#[test]
fn a_cancel_racing_the_door_scan_ends_with_exactly_one_of_them() {
    let app = accounts::spawn(&[]);
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let o = order(&app, 3, 2);
        let tk = &o.tickets[0];
        let (id, code) = (tk["id"].as_str().unwrap(), tk["code"].as_str().unwrap());
        let [door, cancelled]: [Reply; 2] = at_once(2, |i| match i {
            0 => scan(&app, &o.org.token, &o, code),
            _ => cancel(&app, &o.buyer.token, &o, id, json!({})),
        })
        .try_into()
        .unwrap();
        let now = t::my_tickets(&app, &o.buyer.token, Some(&o.booking_id)).into_iter().find(|t| t["id"] == id).unwrap();
        match (door.status, cancelled.status) {
            (200, 409) => {
                assert_eq!(cancelled.json()["type"], "/problems/checked-in");
                assert!(now["status"] == "valid" && !now["checked_in_at"].is_null(), "{now}");
                refunded(&app, &o, 0);
            }
            (410, 200) => {
                assert!(now["status"] == "void" && now["checked_in_at"].is_null(), "{now}");
                refunded(&app, &o, 4500);
            }
            other => panic!("scan and cancel answered {other:?}: {} / {}", door.text(), cancelled.text()),
        }
        outcomes.push((door.status, cancelled.status));
    }
    eprintln!("scan vs cancel: {outcomes:?}");

    // two cancels of the same ticket at once
    let o = order(&app, 3, 2);
    let id = o.tickets[1]["id"].as_str().unwrap();
    let answers: Vec<u16> = at_once(2, |_| cancel(&app, &o.buyer.token, &o, id, json!({})).status);
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let s = refunded(&app, &o, 4500);
    assert_eq!(s["refunds"].as_array().unwrap().len(), 1, "refunded once: {s}");
    let b = app.get_as(&o.buyer.token, &format!("/api/bookings/{}", o.booking_id)).json();
    assert_eq!(b["cancelled_tickets"].as_array().unwrap().len(), 1, "{b}");
    let seat = o.tickets[1]["seat_id"].as_str().unwrap();
    assert_eq!(seat_status(&app, &o.event_id, seat), "available");
}

fn refund_ticket(app: &App, token: &str, o: &Order, body: Value) -> Reply {
    app.post_as(token, &format!("/api/payments/{}/refunds", o.booking_id), &body)
}

fn ticket_status(app: &App, o: &Order, id: &str) -> String {
    let all = t::my_tickets(app, &o.buyer.token, Some(&o.booking_id));
    all.into_iter()
        .find(|tk| tk["id"] == id)
        .map(|tk| tk["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// The refund API with a `ticket_id` (issue 13, item 6): the ticket is
/// voided, its seat is on sale again, and the refund names it; a refused
/// request changes nothing; asking again, or racing the buyer's own cancel
/// of the same ticket, refunds it once.
#[test]
fn a_refund_of_one_ticket_through_the_refund_api_names_and_voids_it() {
    let app = accounts::spawn(&[]);
    let o = order(&app, 6, 5);
    let org = &o.org.token;
    let id = |i: usize| o.tickets[i]["id"].as_str().unwrap().to_string();

    // refused requests change nothing
    refund_ticket(&app, org, &o, json!({"ticket_id": "nope"})).assert_problem(422);
    refund_ticket(&app, org, &o, json!({"ticket_id": id(0), "amount_minor": 0})).assert_problem(422);
    refund_ticket(&app, org, &o, json!({})).assert_problem(422);
    refund_ticket(&app, org, &o, json!({"ticket_id": "tkt_01jdx3v9k7m2q8w4e6r5t0y1za"})).assert_problem(404);
    refund_ticket(&app, &o.buyer.token, &o, json!({"ticket_id": id(0)})).assert_problem(403);
    let too_much =
        refund_ticket(&app, org, &o, json!({"ticket_id": id(0), "amount_minor": 5 * 4500 + 1})).assert_problem(409);
    assert_eq!(too_much["type"], "/problems/refund-exceeds-payment");
    assert_eq!(ticket_status(&app, &o, &id(0)), "valid", "a refused refund voids nothing");

    // the ticket's price by default; the refund names the ticket
    let seat = o.tickets[0]["seat_id"].as_str().unwrap().to_string();
    let r = refund_ticket(&app, org, &o, json!({"ticket_id": id(0), "reason": "seat broken"}));
    assert!(r.status == 201 || r.status == 202, "{}", r.text());
    let refund = r.json();
    assert_eq!(
        (refund["ticket_id"].as_str(), refund["amount_minor"].as_i64()),
        (Some(id(0).as_str()), Some(4500)),
        "{refund}"
    );
    assert_eq!(ticket_status(&app, &o, &id(0)), "void");
    assert_eq!(seat_status(&app, &o.event_id, &seat), "available", "the seat is on sale again");
    let s = refunded(&app, &o, 4500);
    let listed: Vec<&Value> = s["refunds"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1, "{s}");
    assert_eq!(listed[0]["ticket_id"], id(0).as_str());
    let b = app.get_as(&o.buyer.token, &format!("/api/bookings/{}", o.booking_id)).json();
    assert_eq!(
        (b["tickets_remaining"].as_i64(), b["cancelled_tickets"][0]["ticket_id"].as_str()),
        (Some(4), Some(id(0).as_str())),
        "{b}"
    );

    // asked again: the same refund; with another amount: refused
    let again = refund_ticket(&app, org, &o, json!({"ticket_id": id(0)}));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["refund_id"], refund["refund_id"]);
    assert_eq!(
        refund_ticket(&app, org, &o, json!({"ticket_id": id(0), "amount_minor": 100})).assert_problem(409)["type"],
        "/problems/ticket-already-refunded"
    );

    // a ticket the buyer cancelled is already refunded: the refund API names that refund
    assert_eq!(cancel(&app, &o.buyer.token, &o, &id(1), json!({})).status, 200);
    refunded(&app, &o, 9000);
    let theirs = refund_ticket(&app, org, &o, json!({"ticket_id": id(1)}));
    assert_eq!((theirs.status, theirs.json()["ticket_id"].as_str()), (200, Some(id(1).as_str())), "{}", theirs.text());

    // two refund requests for one ticket at once, and one racing the buyer's cancel: once each
    let answers: Vec<Reply> = at_once(3, |i| match i {
        0 | 1 => refund_ticket(&app, org, &o, json!({"ticket_id": id(2), "amount_minor": 2000})),
        _ => cancel(&app, &o.buyer.token, &o, &id(2), json!({})),
    });
    for a in &answers {
        assert!([200, 201, 202, 409].contains(&a.status), "{} {}", a.status, a.text());
        if a.status == 409 {
            // the buyer's cancel won with the ticket's price; the other amount is refused
            assert_eq!(a.json()["type"], "/problems/ticket-already-refunded", "{}", a.text());
        }
    }
    let s = settle(&app, 20, || {
        let s = pay::status(&app, &o.buyer.token, &o.booking_id);
        let mine: Vec<Value> =
            s["refunds"].as_array().unwrap().iter().filter(|r| r["ticket_id"] == id(2).as_str()).cloned().collect();
        (mine.len() == 1 && mine[0]["status"] != "pending").then_some(s)
    })
    .unwrap_or_else(|| {
        panic!("ticket {} not refunded exactly once: {}", id(2), pay::status(&app, &o.buyer.token, &o.booking_id))
    });
    let paid_back = s["refunded_minor"].as_i64().unwrap();
    assert!(paid_back == 9000 + 2000 || paid_back == 9000 + 4500, "{s}");
    assert_eq!(ticket_status(&app, &o, &id(2)), "void");

    // the last tickets: booking's refusals come back as they are
    assert_eq!(refund_ticket(&app, org, &o, json!({"ticket_id": id(3)})).status, 201);
    let last = refund_ticket(&app, org, &o, json!({"ticket_id": id(4)})).assert_problem(409);
    assert_eq!(last["type"], "/problems/last-ticket", "{last}");
    assert_eq!(ticket_status(&app, &o, &id(4)), "valid");
}
