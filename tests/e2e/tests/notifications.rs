//! Notifications through the runner: one email with every ticket and one
//! in-site message per confirmed booking, retries until the provider
//! recovers (exactly once), dead letters for admins, redelivery sends
//! nothing new, one cancellation notice, the in-site inbox API.

use e2e::accounts::{self, Minted};
use e2e::tickets::{self as t, confirmed, deliver, id};
use e2e::{json, App, Value};

fn codes(tickets: &[Value]) -> Vec<String> {
    tickets.iter().map(|t| t["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn confirmed_booking_sends_one_email_with_every_ticket_and_one_message() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    let booking = id("bkg");
    // three attendees who all share the buyer's address
    let payload = confirmed(&booking, &buyer.user_id, &id("evt"), &email, &["S1-A-1", "S1-A-2"], 1);
    let msg = t::confirm(&app, &payload);

    let tickets = t::my_tickets(&app, &buyer.token, Some(&booking));
    assert_eq!(tickets.len(), 3);
    let inbox = t::booking_mail(&app, &email);
    assert_eq!(inbox.len(), 1, "exactly one email: {inbox:?}");
    let m = &inbox[0];
    assert_eq!(m["to"], json!([email]));
    assert_eq!(m["subject"], "Your tickets for Night & Day <Live>");
    let (html, text) = (m["html"].as_str().unwrap(), m["text"].as_str().unwrap());
    for code in codes(&tickets) {
        assert!(html.contains(&code) && text.contains(&code), "ticket {code} missing from the email");
    }
    assert!(html.contains("Night &#38; Day &#60;Live&#62;") && !html.contains("<Live>"), "HTML is escaped");
    assert!(html.contains("Attendee: <strong>Seat guest 0</strong>"), "{html}");
    assert!(
        !html.contains("Lovelace") && !text.contains("Lovelace"),
        "the free-text buyer name is not in the mail: {text}"
    );
    assert!(text.contains("19:00 EDT"), "local time of the event: {text}");
    assert!(m["idempotency_key"].as_str().unwrap().starts_with("ntf_"));

    // one in-site message
    let messages = t::my_messages(&app, &buyer.token);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["kind"], "booking_confirmed");
    assert_eq!(messages[0]["read"], false);
    assert_eq!(app.get_as(&buyer.token, "/api/notifications/unread-count").json()["unread"], 1);

    // redelivery (same envelope), and a re-emitted confirmation (new envelope): nothing new
    for to in ["tickets", "notifications"] {
        assert_eq!(deliver(&app, to, "BookingConfirmed", &payload, Some(&msg))["body"]["status"], "duplicate");
        assert_eq!(deliver(&app, to, "BookingConfirmed", &payload, None)["body"]["status"], "applied");
    }
    assert_eq!(t::my_tickets(&app, &buyer.token, Some(&booking)).len(), 3);
    assert_eq!(t::booking_mail(&app, &email).len(), 1);
    assert_eq!(t::my_messages(&app, &buyer.token).len(), 1);
    assert_eq!(t::booking_provider_requests(&app).len(), 1, "the provider was called once");

    // mark read; another user cannot
    let nid = messages[0]["id"].as_str().unwrap();
    let other = accounts::customer(Minted);
    app.post_as(&other.token, &format!("/api/notifications/{nid}/read"), &json!({})).assert_problem(404);
    let r = app.post_as(&buyer.token, &format!("/api/notifications/{nid}/read"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["read"], true);
    assert_eq!(app.get_as(&buyer.token, "/api/notifications/unread-count").json()["unread"], 0);
    app.get("/api/notifications").assert_problem(401);
    app.post("/api/notifications/saga", &json!({})).assert_not_routed();
}

#[test]
fn email_is_retried_until_the_provider_recovers_and_sent_exactly_once() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    // the provider fails twice (503, then a slow timeout), then works
    t::email_faults(&app, json!({"mode": "status", "status": 503, "count": 1}));
    let booking = id("bkg");
    t::confirm(&app, &confirmed(&booking, &buyer.user_id, &id("evt"), &email, &[], 2));
    assert!(t::booking_mail(&app, &email).is_empty(), "first attempt failed");
    t::email_faults(&app, json!({"mode": "timeout", "delay_ms": 300, "count": 1}));

    let sent = t::wait_for(20, || {
        t::tick(&app, "/api/notifications/tick");
        let inbox = t::booking_mail(&app, &email);
        (!inbox.is_empty()).then_some(inbox)
    })
    .expect("delivered once the provider recovered");
    assert_eq!(sent.len(), 1);
    // more ticks send nothing more
    t::tick(&app, "/api/notifications/tick");
    assert_eq!(t::booking_mail(&app, &email).len(), 1);
    let log = t::booking_provider_requests(&app);
    let outcomes: Vec<(&str, i64)> =
        log.iter().map(|r| (r["outcome"].as_str().unwrap(), r["status"].as_i64().unwrap())).collect();
    assert_eq!(outcomes, vec![("fault", 503), ("fault", 504), ("accepted", 200)], "{log:?}");
    let keys: Vec<&Value> = log.iter().map(|r| &r["idempotency_key"]).collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one idempotency key for every attempt");

    // the admin sees the job sent after three attempts
    let admin = accounts::user(Minted, "admin");
    let jobs = app.get_as(&admin.token, &format!("/api/notifications/admin/jobs?booking_id={booking}")).json();
    assert_eq!(jobs["items"][0]["status"], "sent");
    assert_eq!(jobs["items"][0]["attempts"], 3);
    app.get_as(&buyer.token, "/api/notifications/admin/jobs").assert_problem(403);
    app.call("POST", "/api/notifications/tick", None, &[("authorization", "Bearer wrong")]).assert_problem(401);
}

/// A hostile event title and attendee name (markup, quotes, `&`) reach
/// the buyer's mailbox escaped in the HTML part (askama's numeric
/// character references) and as they were typed in the text part.
#[test]
fn hostile_titles_and_names_arrive_escaped_in_html_and_verbatim_in_text() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    let title = r#"<script>alert("x")</script> & 'Rock'"#;
    let name = r#"Ada "<b>" & O'Brien"#;
    let mut payload = confirmed(&id("bkg"), &buyer.user_id, &id("evt"), &email, &["S1-A-1"], 0);
    payload["event_title"] = json!(title);
    payload["attendees"][0]["name"] = json!(name);
    t::confirm(&app, &payload);
    let inbox = t::booking_mail(&app, &email);
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let m = &inbox[0];
    assert_eq!(m["subject"], json!(format!("Your tickets for {title}")), "the subject is plain text");
    let (html, text) = (m["html"].as_str().unwrap(), m["text"].as_str().unwrap());
    let escaped = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;Rock&#39;";
    assert!(
        html.contains(&format!("<title>Your tickets for {escaped}</title>"))
            && html.contains(&format!("<strong>{escaped}</strong>")),
        "{html}"
    );
    assert!(html.contains("Attendee: <strong>Ada &#34;&#60;b&#62;&#34; &#38; O&#39;Brien</strong>"), "{html}");
    for raw in ["<script>", "<b>", "'Rock'", "O'Brien"] {
        assert!(!html.contains(raw), "{raw} is markup in the HTML part: {html}");
    }
    assert!(text.contains(&format!("for {title} on ")) && text.contains(&format!("  Attendee: {name}\n")), "{text}");
    assert!(!text.contains("&#"), "the text part is not escaped: {text}");
}

/// A rate-limited provider's 429 with `Retry-After: 30` (RFC 9110
/// §10.2.3): the job waits what the provider asked, not its own backoff
/// (1-2 s for a first retry), and is not sent by ticks before then.
#[test]
fn a_providers_retry_after_is_honoured() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    let admin = accounts::user(Minted, "admin");
    t::email_faults(&app, json!({"mode": "status", "status": 429, "retry_after_secs": 30, "count": 1}));
    let booking = id("bkg");
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    t::confirm(&app, &confirmed(&booking, &buyer.user_id, &id("evt"), &email, &[], 1));
    let jobs = app.get_as(&admin.token, &format!("/api/notifications/admin/jobs?booking_id={booking}")).json();
    let job = &jobs["items"][0];
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("pending"), Some(1)), "{jobs}");
    let next = platform::clock::parse_rfc3339(job["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(next >= before + 30_000, "the retry waits the provider's 30 s: {} ms", next - before);
    assert!(next <= before + 40_000, "and not much longer: {} ms", next - before);
    t::tick(&app, "/api/notifications/tick");
    assert!(t::booking_mail(&app, &email).is_empty(), "no tick sends it early");
    assert!(job["last_error"].as_str().unwrap_or_default().contains("429"), "{job}");
}

#[test]
fn refused_emails_go_to_dead_letters_that_admins_see_and_requeue() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    let admin = accounts::user(Minted, "admin");
    t::email_faults(&app, json!({"mode": "status", "status": 422, "count": 1}));
    let booking = id("bkg");
    t::confirm(&app, &confirmed(&booking, &buyer.user_id, &id("evt"), &email, &[], 1));
    let dead = app.get_as(&admin.token, "/api/notifications/admin/jobs?status=dead").json();
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!(items[0]["booking_id"], json!(booking));
    assert!(items[0]["last_error"].as_str().unwrap().contains("422"));
    assert!(t::booking_mail(&app, &email).is_empty());
    app.get_as(&admin.token, "/api/notifications/admin/jobs?status=lost").assert_problem(422);

    let jid = items[0]["id"].as_str().unwrap();
    let r = app.post_as(&admin.token, &format!("/api/notifications/admin/jobs/{jid}/retry"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(t::booking_mail(&app, &email).len(), 1);
    app.post_as(&admin.token, &format!("/api/notifications/admin/jobs/{jid}/retry"), &json!({})).assert_problem(404);
}

#[test]
fn cancelled_booking_voids_tickets_and_tells_the_buyer_once() {
    let app = App::spawn();
    let account = accounts::customer(&app);
    let (buyer, email) = (account.user(), account.email);
    let (booking, event) = (id("bkg"), id("evt"));
    t::confirm(&app, &confirmed(&booking, &buyer.user_id, &event, &email, &["S1-A-1"], 1));
    assert_eq!(t::booking_mail(&app, &email).len(), 1);

    // booking cancels, payments refunds: both reach tickets and notifications
    let cancelled = json!({"booking_id": booking, "user_id": buyer.user_id, "event_id": event,
        "reason": "requested_by_customer", "amount_minor": 9000, "currency": "USD"});
    let refunded =
        json!({"booking_id": booking, "payment_id": "pay_1", "amount_minor": 9000, "currency": "USD", "full": true});
    for to in ["tickets", "notifications"] {
        assert_eq!(deliver(&app, to, "BookingCancelled", &cancelled, None)["status"], 200);
        assert_eq!(deliver(&app, to, "PaymentRefunded", &refunded, None)["status"], 200);
    }
    for tk in t::my_tickets(&app, &buyer.token, Some(&booking)) {
        assert_eq!(tk["status"], "void");
        app.get_as(&buyer.token, &format!("/api/tickets/{}", tk["id"].as_str().unwrap())).assert_problem(410);
    }
    let inbox = t::booking_mail(&app, &email);
    assert_eq!(inbox.len(), 2, "tickets + one cancellation: {inbox:?}");
    assert!(inbox[0]["subject"].as_str().unwrap().contains("cancelled"));
    assert!(inbox[0]["text"].as_str().unwrap().contains("USD 90.00"));
    let messages = t::my_messages(&app, &buyer.token);
    let kinds: Vec<&str> = messages.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["booking_cancelled", "booking_confirmed"], "newest first");

    // the event is cancelled afterwards too: still one notice
    deliver(
        &app,
        "notifications",
        "EventCancelled",
        &json!({"event_id": event, "title": "Night", "reason": "storm"}),
        None,
    );
    assert_eq!(t::booking_mail(&app, &email).len(), 2);
    assert_eq!(t::my_messages(&app, &buyer.token).len(), 2);
}

#[test]
fn inbox_pages_newest_first_and_marks_all_read() {
    let app = App::spawn();
    let buyer = accounts::customer(Minted);
    for _ in 0..5 {
        let b = id("bkg");
        let r = deliver(
            &app,
            "notifications",
            "BookingConfirmed",
            &confirmed(&b, &buyer.user_id, &id("evt"), "p@example.test", &[], 1),
            None,
        );
        assert_eq!(r["status"], 200);
    }
    let p1 = app.get_as(&buyer.token, "/api/notifications?limit=2").json();
    assert_eq!(p1["unread_count"], 5);
    let mut seen: Vec<String> =
        p1["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    let mut cursor = p1["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let p = app.get_as(&buyer.token, &format!("/api/notifications?limit=2&cursor={c}")).json();
        seen.extend(p["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()));
        cursor = p["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    app.get_as(&buyer.token, "/api/notifications?cursor=bogus").assert_problem(422);
    let r = app.post_as(&buyer.token, "/api/notifications/read-all", &json!({})).json();
    assert_eq!(r["marked"], 5);
    assert_eq!(app.get_as(&buyer.token, "/api/notifications/unread-count").json()["unread"], 0);
    assert_eq!(app.get_as(&buyer.token, "/api/notifications?unread=true").json()["items"].as_array().unwrap().len(), 0);
}

#[test]
fn sandbox_mailbox_page_and_provider_rules() {
    let app = App::spawn();
    let send = |token: &str, key: &str, body: &Value| {
        app.call(
            "POST",
            "/sandbox/email/emails",
            Some(body),
            &[("authorization", &format!("Bearer {token}")), ("idempotency-key", key)],
        )
    };
    let token = "re_boxoffice_sandbox_token";
    let body = json!({"from": "Boxoffice <t@boxoffice.local>", "to": ["x@example.test"], "subject": "<Hi>", "text": "hello", "html": "<p>hello</p>"});
    assert_eq!(send("wrong", "k1", &body).status, 403);
    let first = send(token, "k1", &body);
    assert_eq!(first.status, 200, "{}", first.text());
    let again = send(token, "k1", &body);
    assert_eq!(again.json()["id"], first.json()["id"], "same key, same answer");
    assert_eq!(
        send(token, "k1", &json!({"from": "a@b.co", "to": "x@example.test", "subject": "s", "text": "other"})).status,
        409
    );
    assert_eq!(send(token, "k2", &json!({"from": "a@b.co", "to": "nobody", "subject": "s", "text": "t"})).status, 422);
    assert_eq!(t::mailbox(&app, "x@example.test").len(), 1);
    let page = app.sandbox("GET", "/sandbox/email", None);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("&#60;Hi&#62;") && !page.text().contains("<Hi>"), "subjects are escaped on the page");
}

#[test]
fn user_settings_are_respected_but_ticket_email_cannot_be_switched_off() {
    let app = App::spawn();
    let user = accounts::customer(&app);
    let r = accounts::patch_as(
        &app,
        &user.access_token,
        "/api/users/me/settings",
        &json!({"notifications": {"booking": {"email": false, "in_app": true}, "ticket": {"email": false}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let email = user.email.clone();
    let booking = id("bkg");
    let ordered = json!({"booking_id": booking, "user_id": user.user_id, "event_id": id("evt"), "amount_minor": 9000, "currency": "USD",
        "buyer": {"name": "Ada", "email": email, "phone": "+14155550100"}});
    assert_eq!(deliver(&app, "notifications", "BookingOrdered", &ordered, None)["status"], 200);
    let failed = json!({"booking_id": booking, "payment_id": "pay_1", "reason": "card_declined"});
    assert_eq!(deliver(&app, "notifications", "PaymentFailed", &failed, None)["status"], 200);
    // booking emails are off: in-site message only, the job is skipped
    let messages = t::my_messages(&app, &user.access_token);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["kind"], "payment_failed");
    assert!(t::booking_mail(&app, &email).is_empty());
    let admin = accounts::user(Minted, "admin");
    let jobs = app.get_as(&admin.token, &format!("/api/notifications/admin/jobs?booking_id={booking}")).json();
    assert_eq!(jobs["items"][0]["status"], "skipped");

    // the tickets email is transactional: sent although "ticket" email is off
    t::confirm(&app, &confirmed(&booking, &user.user_id, &id("evt"), &email, &[], 1));
    assert_eq!(t::booking_mail(&app, &email).len(), 1);
}
