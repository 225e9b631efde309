//! Editing a published event (issue 13, bug 5): a save is all or nothing
//! and names the refused field; a tier's price changes while nothing of it
//! is sold or held, and never what existing holds and bookings pay; moving
//! the start reaches every buyer (e-mail + in-site message, once per move)
//! and their booking, tickets and calendar files show the new time.
//! The whole app: real events, booking, payments, tickets, notifications.

use e2e::accounts::{self, Minted};
use e2e::journey::{self, Purchase};
use e2e::payments::{self as pay, VISA_OK};
use e2e::race::at_once;
use e2e::tickets::{self as t, settle};
use e2e::{catalog, json, App, Reply, Value};

fn patch(app: &App, token: &str, event_id: &str, body: &Value) -> Reply {
    accounts::patch_as(app, token, &format!("/api/events/{event_id}"), body)
}

fn event(app: &App, id: &str) -> Value {
    let r = app.get(&format!("/api/events/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The event's tiers as a PATCH body's `tiers`, with `price` overrides by
/// position.
fn tiers_with(ev: &Value, prices: &[(usize, i64)]) -> Value {
    let tiers: Vec<Value> = ev["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let price = prices.iter().find(|(i, _)| *i == k).map(|(_, p)| *p).unwrap_or(t["price_minor"].as_i64().unwrap());
            json!({"id": t["id"], "name": t["name"], "kind": t["kind"], "capacity": t["capacity"], "price_minor": price})
        })
        .collect();
    Value::Array(tiers)
}

fn hold(app: &App, token: &str, event_id: &str, tier_id: &str, n: u32) -> Reply {
    app.post_as(token, "/api/holds", &json!({"event_id": event_id, "tier_id": tier_id, "quantity": n}))
}

#[test]
fn a_save_is_all_or_nothing_and_a_price_changes_only_while_nothing_is_sold_or_held() {
    let app = accounts::spawn(&[]);
    let p = journey::paid_purchase(&app, "Edit me", &catalog::days_ahead(20, "20:00"), &["Ada", "Bob"]);
    let org = &p.org.token;
    // two more tiers, nothing sold of them yet
    let ev = event(&app, &p.event_id);
    let mut tiers = tiers_with(&ev, &[]);
    for (name, price) in [("VIP", 9000), ("Balcony", 3000)] {
        tiers
            .as_array_mut()
            .unwrap()
            .push(json!({"name": name, "kind": "general_admission", "capacity": 10, "price_minor": price}));
    }
    let r = patch(&app, org, &p.event_id, &json!({"tiers": tiers}));
    assert_eq!(r.status, 200, "adding tiers to a published event: {}", r.text());
    let ev = event(&app, &p.event_id);
    let (general, vip, balcony) =
        (ev["tiers"][0]["id"].clone(), ev["tiers"][1]["id"].clone(), ev["tiers"][2]["id"].clone());

    // a sold tier's price cannot change, and the title in the same save is not kept
    let r = patch(&app, org, &p.event_id, &json!({"title": "Renamed", "tiers": tiers_with(&ev, &[(0, 5000)])}));
    let prob = r.assert_problem(409);
    assert_eq!(prob["type"], "/problems/event-has-sales", "{prob}");
    assert_eq!(prob["errors"][0]["field"], "tiers/0/price_minor", "the refused field is named: {prob}");
    let now = event(&app, &p.event_id);
    assert_eq!(
        (now["title"].as_str(), now["tiers"][0]["price_minor"].as_i64()),
        (Some("Edit me"), Some(4500)),
        "nothing of the save was kept"
    );
    // other refusals name theirs; bad input is 422 and changes nothing
    let prob = patch(&app, org, &p.event_id, &json!({"title": "Renamed", "currency": "EUR"})).assert_problem(409);
    assert_eq!(prob["errors"][0]["field"], "currency", "{prob}");
    let prob = patch(&app, org, &p.event_id, &json!({"title": "Renamed", "tiers": tiers_with(&ev, &[(1, -5)])}))
        .assert_problem(422);
    assert!(prob["errors"][0]["field"].as_str().unwrap().starts_with("tiers/1"), "{prob}");
    assert_eq!(event(&app, &p.event_id)["title"], "Edit me");
    let stranger = accounts::organizer(Minted);
    assert_eq!(patch(&app, &stranger.token, &p.event_id, &json!({"tiers": tiers_with(&ev, &[(1, 1)])})).status, 403);

    // an unsold tier is repriced together with the title
    let r = patch(&app, org, &p.event_id, &json!({"title": "Renamed", "tiers": tiers_with(&ev, &[(1, 9900)])}));
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = event(&app, &p.event_id);
    assert_eq!((ev["title"].as_str(), ev["tiers"][1]["price_minor"].as_i64()), (Some("Renamed"), Some(9900)));
    // the new price is what a new hold pays; the paid booking keeps its amount
    let buyer2 = accounts::customer(&app).user();
    let h = hold(&app, &buyer2.token, &p.event_id, vip.as_str().unwrap(), 1);
    assert_eq!(h.status, 201, "{}", h.text());
    assert_eq!(h.json()["amount_minor"], 9900);
    let b = app.get_as(&p.buyer.token, &format!("/api/bookings/{}", p.booking_id)).json();
    assert_eq!(b["amount_minor"], 9000, "{b}");
    // held now: the price is fixed again, and the refusal says so
    let prob = patch(&app, org, &p.event_id, &json!({"tiers": tiers_with(&ev, &[(1, 12000)])})).assert_problem(409);
    assert_eq!(prob["errors"][0]["field"], "tiers/1/price_minor", "{prob}");
    assert_eq!(general, ev["tiers"][0]["id"]);

    // a reprice racing holds of that tier: each hold is priced old or new,
    // never anything else, and the tier ends at one of the two
    let buyers: Vec<_> = (0..4).map(|_| accounts::customer(&app).user()).collect();
    let mut holds = at_once(buyers.len() + 1, |i| match i {
        0 => patch(&app, org, &p.event_id, &json!({"tiers": tiers_with(&ev, &[(2, 3500)])})),
        _ => hold(&app, &buyers[i - 1].token, &p.event_id, balcony.as_str().unwrap(), 1),
    });
    let edit = holds.remove(0);
    assert!(edit.status == 200 || edit.status == 409, "{} {}", edit.status, edit.text());
    if edit.status == 409 {
        assert_eq!(edit.json()["errors"][0]["field"], "tiers/2/price_minor");
    }
    let final_price = event(&app, &p.event_id)["tiers"][2]["price_minor"].as_i64().unwrap();
    assert_eq!(final_price, if edit.status == 200 { 3500 } else { 3000 });
    for h in &holds {
        assert_eq!(h.status, 201, "{}", h.text());
        let amount = h.json()["amount_minor"].as_i64().unwrap();
        assert!(amount == 3000 || amount == 3500, "a hold priced {amount}");
    }
    eprintln!(
        "reprice racing 4 holds: edit {}, hold prices {:?}",
        edit.status,
        holds.iter().map(|h| h.json()["amount_minor"].clone()).collect::<Vec<_>>()
    );
}

fn ics_of(app: &App, p: &Purchase) -> String {
    let tickets = app.get_as(&p.buyer.token, "/api/tickets").json();
    let tid = tickets["items"][0]["id"].as_str().expect("a ticket").to_string();
    let r = app.get_as(&p.buyer.token, &format!("/api/tickets/{tid}.ics"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn rescheduled_messages(app: &App, token: &str) -> Vec<Value> {
    t::my_messages(app, token).into_iter().filter(|m| m["kind"] == "event_rescheduled").collect()
}

#[test]
fn moving_the_start_reaches_every_buyer_once_and_the_tickets_show_the_new_time() {
    let app = accounts::spawn(&[]);
    let p = journey::paid_purchase(&app, "Moving night", &catalog::days_ahead(20, "20:00"), &["Ada", "Bob"]);
    let ready = settle(&app, 20, || {
        (!app.get_as(&p.buyer.token, "/api/tickets").json()["items"].as_array().unwrap().is_empty()).then_some(())
    });
    assert!(ready.is_some(), "tickets issued");
    let before = ics_of(&app, &p);
    assert!(before.contains("DTSTART;TZID=America/New_York:") && before.contains("T200000"), "{before}");
    assert!(before.contains("SEQUENCE:0"), "{before}");
    // a second buyer whose booking is still unpaid: told nothing yet (no tickets)
    let unpaid = journey::unpaid_purchase(&app, "Other night", &catalog::days_ahead(20, "20:00"), &["Cy"]);

    // bad input is refused and tells nobody anything
    patch(&app, &p.org.token, &p.event_id, &json!({"starts_at": "next friday"})).assert_problem(422);

    let new_start = catalog::days_ahead(21, "19:30");
    let r = patch(&app, &p.org.token, &p.event_id, &json!({"starts_at": new_start}));
    assert_eq!(r.status, 200, "{}", r.text());
    let moved_to = r.json()["starts_at"].as_str().unwrap().to_string();
    let told = settle(&app, 20, || {
        let m = rescheduled_messages(&app, &p.buyer.token);
        (!m.is_empty()).then_some(m)
    });
    let told = told.expect("the buyer gets an in-site message");
    assert_eq!(told.len(), 1, "{told:?}");
    let body = told[0]["body"].as_str().unwrap();
    assert!(body.contains("19:30") && body.contains("20:00"), "new and old local time: {body}");
    let mail = settle(&app, 20, || {
        let inbox = t::mailbox(&app, &p.email);
        inbox.into_iter().find(|m| m["subject"].as_str().unwrap_or("").contains("has moved"))
    });
    let mail = mail.expect("the buyer gets an e-mail");
    assert!(mail["text"].as_str().unwrap().contains("19:30"), "{mail}");
    // booking, tickets and the calendar file show the new time
    let b = app.get_as(&p.buyer.token, &format!("/api/bookings/{}", p.booking_id)).json();
    assert_eq!(b["starts_at"], moved_to.as_str(), "{b}");
    let tickets = app.get_as(&p.buyer.token, "/api/tickets").json();
    for tk in tickets["items"].as_array().unwrap() {
        assert_eq!(tk["starts_at"], moved_to.as_str(), "{tk}");
    }
    let after = ics_of(&app, &p);
    assert!(
        after.contains("T193000") && !after.contains("SEQUENCE:0"),
        "the calendar file moved and supersedes the old one: {after}"
    );
    // only this event's buyers are told
    assert!(
        rescheduled_messages(&app, &unpaid.buyer.token).is_empty(),
        "unpaid bookings of another event are not told"
    );

    // saving the same time again is no news; a second move is
    let r =
        patch(&app, &p.org.token, &p.event_id, &json!({"starts_at": new_start, "title": "Moving night (new date)"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let again = catalog::days_ahead(22, "18:00");
    assert_eq!(patch(&app, &p.org.token, &p.event_id, &json!({"starts_at": again})).status, 200);
    let twice = settle(&app, 20, || {
        let m = rescheduled_messages(&app, &p.buyer.token);
        (m.len() >= 2).then_some(m)
    });
    let twice = twice.expect("a second move is told");
    assert_eq!(twice.len(), 2, "once per move: {twice:?}");
    assert!(ics_of(&app, &p).contains("T180000"));
    // the other event was not moved: its unpaid booking is still payable
    let paid = pay::pay(&app, &unpaid.buyer.token, &unpaid.booking_id, VISA_OK);
    assert_eq!(paid.status, 200, "{}", paid.text());
}
