//! The whole purchase through the real components (events → booking →
//! payments → tickets → notifications → sandbox email), then cancellation.

use e2e::catalog;
use e2e::journey::{paid_purchase, Purchase};
use e2e::tickets as t;
use e2e::{json, App};

#[test]
fn paid_booking_yields_tickets_one_email_and_one_message_then_cancellation_voids_and_tells_once() {
    let app = App::spawn();
    let Purchase { org, event_id, buyer, email, booking_id, .. } = paid_purchase(
        &app,
        "Full flow night",
        &catalog::days_ahead(20, "19:30"),
        &["Ada Lovelace", "Charles Babbage", "Mary Somerville"],
    );

    // tickets, one email carrying all of them, one in-site message
    let tickets = t::wait_for(20, || {
        t::tick(&app, "/api/bookings/tick");
        let v = t::my_tickets(&app, &buyer.token, Some(&booking_id));
        (v.len() == 3).then_some(v)
    })
    .expect("three tickets");
    let inbox = t::wait_for(20, || {
        t::tick(&app, "/api/notifications/tick");
        let v = t::booking_mail(&app, &email);
        (!v.is_empty()).then_some(v)
    })
    .expect("the tickets email");
    assert_eq!(inbox.len(), 1);
    for tk in &tickets {
        assert!(inbox[0]["text"].as_str().unwrap().contains(tk["code"].as_str().unwrap()));
        assert_eq!(tk["timezone"], "America/New_York");
    }
    // where to go, from events through booking: on the ticket, in the e-mail, in the calendar file
    let venue = tickets[0]["venue"].as_str().unwrap().to_string();
    assert!(venue.contains(", ") && venue.ends_with(", US"), "one line with name, address, city, country: {venue:?}");
    assert!(inbox[0]["text"].as_str().unwrap().contains(&format!("Where: {venue}\n")), "{}", inbox[0]["text"]);
    let ics = app.get_as(&buyer.token, &format!("/api/tickets/{}.ics", tickets[0]["id"].as_str().unwrap())).text();
    let unfolded = ics.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("\r\nLOCATION:{}\r\n", venue.replace(',', "\\,"))), "{ics}");
    let names: Vec<&str> = tickets.iter().map(|t| t["attendee"].as_str().unwrap()).collect();
    assert!(names.contains(&"Charles Babbage"), "{names:?}");
    assert_eq!(t::my_messages(&app, &buyer.token).len(), 1);

    // cancellation (before anyone was admitted: a used ticket is not the
    // buyer's to cancel, tests/security_medium.rs): tickets void, one cancellation email and message
    let c = app.post_as(&buyer.token, &format!("/api/bookings/{booking_id}/cancel"), &json!({}));
    assert!(c.status == 200 || c.status == 202, "{}", c.text());
    t::wait_for(20, || {
        for path in ["/api/bookings/tick", "/api/payments/tick", "/api/notifications/tick"] {
            t::tick(&app, path);
        }
        let all_void = t::my_tickets(&app, &buyer.token, Some(&booking_id)).iter().all(|t| t["status"] == "void");
        (all_void && t::booking_mail(&app, &email).len() >= 2).then_some(())
    })
    .expect("tickets void and the buyer told");
    assert_eq!(t::booking_mail(&app, &email).len(), 2);
    let kinds: Vec<String> =
        t::my_messages(&app, &buyer.token).iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, vec!["booking_cancelled", "booking_confirmed"]);
    let refused =
        app.post_as(&org.token, "/api/tickets/check-in", &json!({"code": tickets[1]["code"], "event_id": event_id}));
    refused.assert_problem(410);
}
