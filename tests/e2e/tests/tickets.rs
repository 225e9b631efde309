//! Tickets through the runner: issuing on `BookingConfirmed`, reading (QR,
//! iCalendar), voiding, check-in once / twice / concurrently / forged /
//! void / wrong event, organizer rights.

use e2e::accounts::{self, Minted, User};
use e2e::catalog;
use e2e::race::at_once;
use e2e::tickets::{self as t, confirmed, deliver, id};
use e2e::{json, App, Value};
use icalendar::{Calendar, CalendarComponent, Component};

fn scan(app: &App, token: &str, code: &str, event_id: &str) -> e2e::Reply {
    app.post_as(token, "/api/tickets/check-in", &json!({"code": code, "event_id": event_id}))
}

fn issue(app: &App, buyer: &User, event_id: &str, seats: &[&str], ga: usize) -> (String, Vec<Value>) {
    let booking = id("bkg");
    let r = deliver(
        app,
        "tickets",
        "BookingConfirmed",
        &confirmed(&booking, &buyer.user_id, event_id, "buyer@example.test", seats, ga),
        None,
    );
    assert_eq!(r["status"], 200, "{r}");
    let tickets = t::my_tickets(app, &buyer.token, Some(&booking));
    (booking, tickets)
}

#[test]
fn confirmed_booking_yields_one_signed_ticket_per_attendee_and_redelivery_adds_none() {
    let app = App::spawn();
    let buyer = accounts::customer(Minted);
    let event = id("evt");
    let booking = id("bkg");
    let payload = confirmed(&booking, &buyer.user_id, &event, "ada@example.test", &["S1-A-1", "S1-A-2"], 1);
    let msg = id("msg");
    assert_eq!(deliver(&app, "tickets", "BookingConfirmed", &payload, Some(&msg))["body"]["status"], "applied");
    let tickets = t::my_tickets(&app, &buyer.token, None);
    assert_eq!(tickets.len(), 3, "{tickets:?}");
    let mut seats: Vec<Value> = tickets.iter().map(|t| t["seat_id"].clone()).collect();
    seats.sort_by_key(|v| v.to_string());
    assert_eq!(seats, vec![json!("S1-A-1"), json!("S1-A-2"), Value::Null]);
    for tk in &tickets {
        assert_eq!(tk["status"], "valid");
        assert_eq!(tk["event_id"], json!(event));
        let code = tk["code"].as_str().unwrap();
        assert_eq!(code.split('.').count(), 4, "kid.ticket.event.sig: {code}");
        assert!(code.contains(tk["id"].as_str().unwrap()) && code.contains(&event));
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "URL-safe");
    }

    // the same delivery again, and a re-emitted confirmation with a new id: nothing new
    assert_eq!(deliver(&app, "tickets", "BookingConfirmed", &payload, Some(&msg))["body"]["status"], "duplicate");
    assert_eq!(deliver(&app, "tickets", "BookingConfirmed", &payload, None)["body"]["status"], "applied");
    assert_eq!(t::my_tickets(&app, &buyer.token, None).len(), 3);

    // one ticket with its QR code; the QR alone as SVG
    let tid = tickets[0]["id"].as_str().unwrap();
    let one = app.get_as(&buyer.token, &format!("/api/tickets/{tid}"));
    assert_eq!(one.status, 200, "{}", one.text());
    assert!(
        one.json()["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || one.json()["qr_svg"].as_str().unwrap().contains("<svg")
    );
    let svg = app.get_as(&buyer.token, &format!("/api/tickets/{tid}/qr.svg"));
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text().contains("<svg"));

    // nobody else reads it, nor learns that it exists (404, like an unknown
    // id: ticket, calendar file and QR alike); admins read it; signed-out
    // callers are told to sign in
    let other = accounts::customer(Minted);
    for path in [format!("/api/tickets/{tid}"), format!("/api/tickets/{tid}.ics"), format!("/api/tickets/{tid}/qr.svg")]
    {
        app.get_as(&other.token, &path).assert_problem(404);
        app.get_as(&accounts::staff(Minted).token, &path).assert_problem(404);
    }
    assert_eq!(app.get_as(&accounts::user(Minted, "admin").token, &format!("/api/tickets/{tid}")).status, 200);
    assert!(t::my_tickets(&app, &other.token, None).is_empty());
    app.get("/api/tickets").assert_problem(401);
    app.get_as(&buyer.token, "/api/tickets/tkt_01jnotthere00000000000000").assert_problem(404);

    // paging: newest first, cursor continues
    let page1 = app.get_as(&buyer.token, "/api/tickets?limit=2").json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().expect("next cursor");
    let page2 = app.get_as(&buyer.token, &format!("/api/tickets?limit=2&cursor={cursor}")).json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next_cursor"].is_null());
    app.get_as(&buyer.token, "/api/tickets?limit=0").assert_problem(422);

    // the saga route is not reachable from outside
    app.post("/api/tickets/saga", &json!({})).assert_not_routed();
}

#[test]
fn ics_parses_with_a_standard_parser_and_keeps_the_zone() {
    let app = App::spawn();
    let buyer = accounts::customer(Minted);
    let (_, tickets) = issue(&app, &buyer, &id("evt"), &["S1-A-1"], 0);
    let tid = tickets[0]["id"].as_str().unwrap();
    let r = app.get_as(&buyer.token, &format!("/api/tickets/{tid}.ics"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/calendar"));
    let text = r.text();
    let cal: Calendar = text.parse().expect("parses as iCalendar");
    let ev = cal
        .components
        .iter()
        .find_map(|c| if let CalendarComponent::Event(e) = c { Some(e) } else { None })
        .expect("a VEVENT");
    assert_eq!(ev.get_summary(), Some("Night & Day <Live>"));
    let start = ev.properties().get("DTSTART").expect("DTSTART");
    assert_eq!(start.params().get("TZID").map(|p| p.value()), Some("America/New_York"));
    assert_eq!(start.value(), "20270501T190000", "19:00 local = 23:00Z in EDT");
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"), "{text}");
    assert!(text.contains("TZOFFSETTO:-0400") && text.contains("TZOFFSETTO:-0500"));
}

#[test]
fn check_in_admits_once_and_refuses_second_forged_void_and_wrong_event() {
    let app = App::spawn();
    let buyer = accounts::customer(Minted);
    let staff = accounts::staff(Minted);
    let event = t::staffed_event(&app, &staff);
    let (_, tickets) = issue(&app, &buyer, &event, &[], 2);
    let code = tickets[0]["code"].as_str().unwrap().to_string();

    // customers cannot scan; missing fields are 422
    scan(&app, &buyer.token, &code, &event).assert_problem(403);
    app.post_as(&staff.token, "/api/tickets/check-in", &json!({"code": code})).assert_problem(422);

    // once
    let first = scan(&app, &staff.token, &code, &event);
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["result"], "admitted");
    let at = first["checked_in_at"].as_str().unwrap().to_string();
    // twice: already checked in, with the first scan's time
    let second = scan(&app, &staff.token, &code, &event).assert_problem(409);
    assert_eq!(second["type"], "/problems/already-checked-in");
    assert_eq!(second["checked_in_at"], json!(at));
    // the buyer sees it checked in
    let tid = tickets[0]["id"].as_str().unwrap();
    assert_eq!(app.get_as(&buyer.token, &format!("/api/tickets/{tid}")).json()["checked_in_at"], json!(at));

    // wrong event
    let other = tickets[1]["code"].as_str().unwrap();
    let elsewhere = t::staffed_event(&app, &staff);
    let wrong = scan(&app, &staff.token, other, &elsewhere).assert_problem(409);
    assert_eq!(wrong["type"], "/problems/wrong-event");

    // forged: altered signature, altered ticket id, made-up code
    let mut forged = other.to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(scan(&app, &staff.token, &forged, &event).assert_problem(422)["type"], "/problems/ticket-invalid");
    let swapped = other.replace(tickets[1]["id"].as_str().unwrap(), tid);
    scan(&app, &staff.token, &swapped, &event).assert_problem(422);
    scan(&app, &staff.token, "not-a-ticket", &event).assert_problem(422);
    // the untouched code still admits
    assert_eq!(scan(&app, &staff.token, other, &event).status, 200);

    // void: a cancelled booking's tickets answer 410 and never admit
    let (booking, void_tickets) = issue(&app, &buyer, &event, &["S2-B-7"], 0);
    let r = deliver(
        &app,
        "tickets",
        "BookingCancelled",
        &json!({"booking_id": booking, "user_id": buyer.user_id, "event_id": event,
        "reason": "requested_by_customer", "amount_minor": 4500, "currency": "USD"}),
        None,
    );
    assert_eq!(r["status"], 200, "{r}");
    let vid = void_tickets[0]["id"].as_str().unwrap();
    app.get_as(&buyer.token, &format!("/api/tickets/{vid}")).assert_problem(410);
    app.get_as(&buyer.token, &format!("/api/tickets/{vid}.ics")).assert_problem(410);
    app.get_as(&accounts::customer(Minted).token, &format!("/api/tickets/{vid}")).assert_problem(404);
    let listed = t::my_tickets(&app, &buyer.token, Some(&booking));
    assert_eq!(listed[0]["status"], "void");
    let v = scan(&app, &staff.token, void_tickets[0]["code"].as_str().unwrap(), &event).assert_problem(410);
    assert_eq!(v["type"], "/problems/ticket-void");

    // a refund voids too; a confirmation that arrives after the cancellation is born void
    let late = id("bkg");
    deliver(
        &app,
        "tickets",
        "PaymentRefunded",
        &json!({"booking_id": late, "payment_id": "pay_x", "amount_minor": 100, "currency": "USD", "full": true}),
        None,
    );
    let r = deliver(
        &app,
        "tickets",
        "BookingConfirmed",
        &confirmed(&late, &buyer.user_id, &event, "b@example.test", &[], 1),
        None,
    );
    assert_eq!(r["status"], 200);
    assert_eq!(t::my_tickets(&app, &buyer.token, Some(&late))[0]["status"], "void");
}

#[test]
fn simultaneous_scans_of_one_ticket_admit_exactly_once() {
    let app = App::spawn();
    let buyer = accounts::customer(Minted);
    let staff = accounts::staff(Minted);
    let event = t::staffed_event(&app, &staff);
    let (_, tickets) = issue(&app, &buyer, &event, &[], 1);
    let code = tickets[0]["code"].as_str().unwrap().to_string();
    const N: usize = 8;
    let statuses: Vec<u16> = at_once(N, |_| scan(&app, &staff.token, &code, &event).status);
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), N - 1, "{statuses:?}");
}

#[test]
fn organizers_check_in_their_own_events_only() {
    let app = App::spawn();
    let org = accounts::organizer(Minted);
    let venue = catalog::create_venue(&app, &org.token, &catalog::ga_venue("Hall", "Denver", "America/Denver"));
    let ev = catalog::create_event(
        &app,
        &org.token,
        &catalog::event_body(&venue, "Show", &catalog::days_ahead(30, "19:00")),
    );
    let event_id = ev["id"].as_str().unwrap().to_string();
    catalog::publish(&app, &org.token, &event_id);
    let buyer = accounts::customer(Minted);
    let (_, tickets) = issue(&app, &buyer, &event_id, &[], 2);
    let stranger = accounts::organizer(Minted);
    scan(&app, &stranger.token, tickets[0]["code"].as_str().unwrap(), &event_id).assert_problem(403);
    scan(&app, &stranger.token, tickets[0]["code"].as_str().unwrap(), &id("evt")).assert_problem(404);
    let ok = scan(&app, &org.token, tickets[0]["code"].as_str().unwrap(), &event_id);
    assert_eq!(ok.status, 200, "{}", ok.text());
}
