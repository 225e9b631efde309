//! E-mail links that work on a phone (issue 13, item 8): the ticket
//! e-mail's "Add to calendar" link is a signed, expiring link that answers
//! the calendar file with nobody signed in — and nothing for a forged,
//! altered or other ticket's link; its "Open ticket" link is a page of the
//! app (the browser journey 8 follows it through sign-in back to the
//! ticket). The whole app: the mail is read from the sandbox mailbox.

use e2e::journey;
use e2e::tickets::{self as t, settle};
use e2e::{accounts, catalog, App};

/// `path?query` of the URL after `label: ` in the mail's text part.
fn link(text: &str, label: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(label))
        .map(|u| {
            let u = u.trim();
            let after_host = u.splitn(4, '/').nth(3).unwrap_or("");
            format!("/{after_host}")
        })
        .collect()
}

fn tamper(url: &str, key: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let q: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with(&format!("{key}=")) { format!("{key}={value}") } else { kv.to_string() })
        .collect();
    format!("{path}?{}", q.join("&"))
}

fn get_signed_out(app: &App, path: &str) -> e2e::Reply {
    app.call("GET", path, None, &[])
}

#[test]
fn the_emailed_calendar_link_works_signed_out_and_only_for_its_ticket() {
    let app = accounts::spawn(&[]);
    let p = journey::paid_purchase(&app, "Phone night", &catalog::days_ahead(20, "20:00"), &["Ada", "Bob"]);
    let mail = settle(&app, 20, || {
        t::mailbox(&app, &p.email).into_iter().find(|m| m["subject"].as_str().unwrap_or("").starts_with("Your tickets"))
    });
    let mail = mail.expect("the tickets e-mail");
    let text = mail["text"].as_str().unwrap();
    let calendars = link(text, "Calendar:");
    let pages = link(text, "Ticket:");
    assert_eq!((calendars.len(), pages.len()), (2, 2), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(
        html.contains("Add to calendar") && html.contains("&#38;expires="),
        "the link is in the HTML part, escaped: {html}"
    );

    for url in &calendars {
        assert!(url.contains("?k=") && url.contains("&expires=") && url.contains("&sig="), "{url}");
        let r = get_signed_out(&app, url);
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        assert!(r.header("content-type").unwrap_or("").starts_with("text/calendar"), "{:?}", r.header("content-type"));
        assert!(r.text().contains("BEGIN:VEVENT") && r.text().contains("Phone night"));
    }
    // the ticket page is a page of the app, not an API error
    let page = get_signed_out(&app, &pages[0]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap_or("").starts_with("text/html"), "{:?}", page.header("content-type"));

    // forged, altered, another ticket's, or no signature: no calendar
    let url = &calendars[0];
    get_signed_out(&app, &tamper(url, "sig", "AAAA")).assert_problem(403);
    get_signed_out(&app, &tamper(url, "expires", "99999999999")).assert_problem(403);
    get_signed_out(&app, &tamper(url, "k", "nokey")).assert_problem(403);
    let (path, query) = url.split_once('?').unwrap();
    let other_id = calendars[1].split_once('?').unwrap().0;
    get_signed_out(&app, &format!("{other_id}?{query}")).assert_problem(403);
    get_signed_out(&app, path).assert_problem(401);

    // a ticket voided since: its link answers 410
    let tickets = t::my_tickets(&app, &p.buyer.token, Some(&p.booking_id));
    let first = tickets.iter().find(|tk| url.contains(tk["id"].as_str().unwrap())).unwrap();
    let r = app.post_as(
        &p.buyer.token,
        &format!("/api/bookings/{}/tickets/{}/cancel", p.booking_id, first["id"].as_str().unwrap()),
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    get_signed_out(&app, url).assert_problem(410);
}
