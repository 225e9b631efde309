//! Issue 17 (security review of b5a251e): its Medium items 4-9, each as it
//! was found, now refused.
//!
//! 4. An organizer's request cannot burn seconds of CPU or hundreds of MB:
//!    sizes are checked before the work, and error lists are capped.
//! 5. A ticket admitted at the door is not the buyer's to cancel and have
//!    refunded; the organizer or an admin decides.
//! 6. The platform mails only the account's own address, and never speaks
//!    a buyer's free text as its own.
//! 7. Door staff check in only where the organizer assigned them, and
//!    refund nothing; refunds are the event's organizer's and admins'.
//! 8. Outside the sandbox, a secret that still holds its published value is
//!    a health failure naming it, and nothing uses it.
//! 9. Deleting an account reaches every component, and its access tokens —
//!    and those of a password change or "log out everywhere" — stop
//!    working at once.

use e2e::accounts::{self, organizer, Minted};
use e2e::catalog::{create_venue, days_ahead};
use e2e::journey::{paid_purchase, Purchase};
use e2e::tickets as t;
use e2e::{json, App, Reply, Value};
use std::time::{Duration, Instant};

/// The most field errors a 422 lists (`platform::MAX_FIELD_ERRORS`).
const MAX_LISTED: usize = 50;

/// Runs `f`, returning its reply and how long it took.
fn timed(f: impl FnOnce() -> Reply) -> (Reply, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// A 422 that lists at most [`MAX_LISTED`] errors, says how many more there
/// were, and is small; returns the problem.
fn capped_422(r: &Reply, what: &str) -> Value {
    assert!(r.body.len() < 16 * 1024, "{what}: a {} byte 422", r.body.len());
    let p = r.assert_problem(422);
    let listed = p["errors"].as_array().map(Vec::len).unwrap_or(0);
    assert!(listed <= MAX_LISTED, "{what}: {listed} errors listed");
    p
}

// ---------------------------------------------------------------------------
// 4. Sizes before work

#[test]
fn a_huge_seat_map_is_refused_from_its_arithmetic() {
    let app = App::spawn();
    let org = organizer(Minted);
    // 2,000 rows of 99,999 seats each: under 60 KB of JSON for 200 million
    // seats, which used to be made (and laid out) before the cap was checked
    let rows: Vec<Value> = (0..2_000).map(|r| json!({"label": format!("R{r}"), "count": 99_999})).collect();
    let body = json!({"name": "Endless Hall", "city": "Reno", "country": "US", "timezone": "America/Los_Angeles",
                      "seat_map": {"sections": [{"code": "S1", "rows": rows}]}});
    let (r, took) = timed(|| app.post_as(&org.token, "/api/venues", &body));
    let p = capped_422(&r, "huge map");
    assert_eq!(
        p["errors"],
        json!([{"field": "seat_map", "message": "has 199998000 seats; at most 100000 are supported"}]),
        "{p}"
    );
    assert!(took < Duration::from_secs(3), "refused after {took:?}");

    // exactly at the cap is still a venue
    let rows: Vec<Value> = (0..10).map(|r| json!({"label": format!("R{r}"), "count": 10_000})).collect();
    let at_cap = json!({"name": "Full Hall", "city": "Reno", "country": "US", "timezone": "America/Los_Angeles",
                        "seat_map": {"sections": [{"code": "S1", "rows": rows}]}});
    create_venue(&app, &org.token, &at_cap);
}

#[test]
fn a_repeated_section_list_answers_a_small_422() {
    let app = App::spawn();
    let org = organizer(Minted);
    // the venue's own map, with one section code repeated 15,000 times
    let section = |i: usize| json!({"code": "S1", "rows": [{"label": format!("R{i}"), "count": 1}]});
    let body = json!({"name": "Echo Hall", "city": "Reno", "country": "US", "timezone": "America/Los_Angeles",
                      "seat_map": {"sections": (0..15_000).map(section).collect::<Vec<_>>()}});
    let r = app.post_as(&org.token, "/api/venues", &body);
    let p = capped_422(&r, "repeated venue sections");
    assert_eq!(p["errors"].as_array().unwrap().len(), MAX_LISTED, "{p}");
    assert_eq!(p["errors_omitted"], 14_999 - MAX_LISTED, "{p}");
    assert_eq!(p["errors"][0], json!({"field": "seat_map/sections/1/code", "message": "section S1 appears twice"}));

    // a tier naming a 2,500-seat section 40,000 times: each naming used to
    // claim every seat again (100 million claims, a 37 MB answer)
    let grid = e2e::catalog::grid_seat_map(1, 50, 50);
    let venue = create_venue(
        &app,
        &org.token,
        &json!({"name": "Grid Hall", "city": "Reno", "country": "US", "timezone": "America/Los_Angeles", "seat_map": grid}),
    );
    let event = json!({"title": "Echo Night", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "20:00"),
        "currency": "USD", "tiers": [{"name": "All", "price_minor": 1000, "kind": "seated", "sections": vec!["S1"; 40_000]}]});
    let (r, took) = timed(|| app.post_as(&org.token, "/api/events", &event));
    let p = capped_422(&r, "repeated tier sections");
    assert_eq!(p["errors"][0], json!({"field": "tiers/0/sections/1", "message": "section S1 is listed twice"}), "{p}");
    assert_eq!(p["errors_omitted"], 39_999 - MAX_LISTED, "{p}");
    assert!(took < Duration::from_secs(3), "refused after {took:?}");
}

#[test]
fn tiers_past_the_limit_are_refused_unread() {
    let app = App::spawn();
    let org = organizer(Minted);
    let venue = create_venue(
        &app,
        &org.token,
        &json!({"name": "Tier Hall", "city": "Reno", "country": "US", "timezone": "America/Los_Angeles",
                "seat_map": e2e::catalog::grid_seat_map(1, 40, 50)}),
    );
    // 1,000 tiers each naming every seat: each used to be validated (a set
    // of every seat id per tier, 5 s) and reported seat by seat
    let tier = json!({"name": "Same", "price_minor": 1000, "kind": "seated", "sections": ["S1"]});
    let event = json!({"title": "Many Tiers", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "20:00"),
        "currency": "USD", "tiers": vec![tier; 1_000]});
    let (r, took) = timed(|| app.post_as(&org.token, "/api/events", &event));
    let p = capped_422(&r, "1,000 tiers");
    assert_eq!(p["errors"], json!([{"field": "tiers", "message": "has 1000 tiers; at most 50 are allowed"}]), "{p}");
    assert!(took < Duration::from_secs(3), "refused after {took:?}");

    // within the limit, overlapping tiers are one error per section
    let tiers: Vec<Value> = (0..3)
        .map(|k| json!({"name": format!("T{k}"), "price_minor": 1000, "kind": "seated", "sections": ["S1"]}))
        .collect();
    let event = json!({"title": "Overlap", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "20:00"),
        "currency": "USD", "tiers": tiers});
    let p = capped_422(&app.post_as(&org.token, "/api/events", &event), "overlap");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["tiers/1/sections/0", "tiers/2/sections/0"], "{p}");
    assert_eq!(p["errors"][1]["message"], "section S1 is already in tier 0", "{p}");
}

// ---------------------------------------------------------------------------
// 5. Check-in and cancellation

/// The booking's tickets once issued (ticks booking's relay meanwhile).
fn issued(app: &App, p: &Purchase, n: usize) -> Vec<Value> {
    t::wait_for(20, || {
        t::tick(app, "/api/bookings/tick");
        let v = t::my_tickets(app, &p.buyer.token, Some(&p.booking_id));
        (v.len() == n).then_some(v)
    })
    .expect("tickets issued")
}

#[test]
fn an_admitted_ticket_is_not_the_buyers_to_refund() {
    let app = accounts::spawn(&[]);
    let used = paid_purchase(&app, "Door night", &days_ahead(20, "19:30"), &["Ada Lovelace", "Charles Babbage"]);
    let tickets = issued(&app, &used, 2);
    let scan = app.post_as(
        &used.org.token,
        "/api/tickets/check-in",
        &json!({"code": tickets[0]["code"], "event_id": used.event_id}),
    );
    assert_eq!(scan.json()["result"], "admitted", "{}", scan.text());

    // the buyer's cancel is refused: nothing changes, nothing is refunded
    let cancel = app.post_as(&used.buyer.token, &format!("/api/bookings/{}/cancel", used.booking_id), &json!({}));
    let p = cancel.assert_problem(409);
    assert_eq!(p["type"], "/problems/checked-in", "{p}");
    let b = app.get_as(&used.buyer.token, &format!("/api/bookings/{}", used.booking_id)).json();
    assert_eq!((b["status"].clone(), b["refunded_minor"].clone()), (json!("confirmed"), json!(0)), "{b}");
    for path in ["/api/payments/tick", "/api/bookings/tick"] {
        t::tick(&app, path);
    }
    let pay = app.get_as(&used.buyer.token, &format!("/api/payments/{}", used.booking_id)).json();
    assert_eq!(pay["refunded_minor"], 0, "{pay}");
    assert!(t::my_tickets(&app, &used.buyer.token, Some(&used.booking_id)).iter().all(|t| t["status"] == "valid"));

    // an admin decides otherwise
    let admin = accounts::admin_token(&app);
    let by_admin = app.post_as(&admin, &format!("/api/bookings/{}/cancel", used.booking_id), &json!({}));
    assert_eq!(by_admin.status, 200, "{}", by_admin.text());
    assert!(["cancelled", "refunded"].contains(&by_admin.json()["status"].as_str().unwrap()), "{}", by_admin.text());

    // a booking nobody used is still the buyer's to cancel
    let unused = paid_purchase(&app, "Quiet night", &days_ahead(21, "19:30"), &["Mary Somerville"]);
    issued(&app, &unused, 1);
    let mine = app.post_as(&unused.buyer.token, &format!("/api/bookings/{}/cancel", unused.booking_id), &json!({}));
    assert_eq!(mine.status, 200, "{}", mine.text());
    assert!(["cancelled", "refunded"].contains(&mine.json()["status"].as_str().unwrap()), "{}", mine.text());
}

// ---------------------------------------------------------------------------
// 6. Whom the platform mails, and in whose voice

#[test]
fn mail_goes_to_the_account_and_never_greets_with_the_buyers_text() {
    let app = App::spawn();
    let org = organizer(Minted);
    let venue = create_venue(&app, &org.token, &e2e::catalog::ga_venue("Hall", "New York", "America/New_York"));
    let ev = e2e::catalog::create_event(
        &app,
        &org.token,
        &e2e::catalog::event_body(&venue, "Phish night", &days_ahead(20, "20:00")),
    );
    let event_id = ev["id"].as_str().unwrap();
    e2e::catalog::publish(&app, &org.token, event_id);

    // hold → book → cancel, no payment: the mail the review got sent to any address
    let account = accounts::customer(&app);
    let (mallory, own_address) = (account.user(), account.email);
    let victim = format!("{}@example.test", t::id("victim"));
    let lure = "URGENT: your bank account is locked - verify at https://evil.example/login now";
    let hold = app.post_as(
        &mallory.token,
        "/api/holds",
        &json!({"event_id": event_id, "tier_id": ev["tiers"][0]["id"], "quantity": 1}),
    );
    assert_eq!(hold.status, 201, "{}", hold.text());
    let booking = app.post_as(
        &mallory.token,
        "/api/bookings",
        &json!({"hold_id": hold.json()["id"], "buyer": {"name": lure, "email": victim, "phone": "+14155550100"},
                "attendees": [{"name": "<b>Guest</b>"}]}),
    );
    assert_eq!(booking.status, 201, "{}", booking.text());
    let booking_id = booking.json()["id"].as_str().unwrap().to_string();
    let c = app.post_as(&mallory.token, &format!("/api/bookings/{booking_id}/cancel"), &json!({}));
    assert_eq!(c.status, 200, "{}", c.text());
    let mails = t::wait_for(20, || {
        for path in ["/api/bookings/tick", "/api/notifications/tick"] {
            t::tick(&app, path);
        }
        let v = t::booking_mail(&app, &own_address);
        (!v.is_empty()).then_some(v)
    })
    .expect("the cancellation mail, to the account's own address");
    assert!(t::mailbox(&app, &victim).is_empty(), "nothing to the typed address");
    let m = &mails[0];
    assert_eq!(m["to"], json!([own_address]), "{m}");
    let (text, html) = (m["text"].as_str().unwrap(), m["html"].as_str().unwrap());
    assert!(text.starts_with("Hello,\n"), "{text}");
    for body in [text, html] {
        assert!(
            !body.contains("URGENT") && !body.contains("evil.example"),
            "the buyer's text is not the platform's voice: {body}"
        );
    }
    // every mail of the app went to an account address
    let all = app.sandbox("GET", "/sandbox/email/messages", None).json();
    assert!(!all.to_string().contains(&victim) && !all.to_string().contains("URGENT"), "{all}");
}

// ---------------------------------------------------------------------------
// 7. Door staff and refunds

#[test]
fn staff_work_the_doors_they_are_assigned_to_and_refund_nothing() {
    let app = accounts::spawn(&[]);
    let p = paid_purchase(&app, "Staffed night", &days_ahead(20, "19:30"), &["Ada Lovelace", "Charles Babbage"]);
    let tickets = issued(&app, &p, 2);
    let staff = accounts::staff(Minted);
    let other_org = organizer(Minted);
    let scan = |token: &str, k: usize| {
        app.post_as(token, "/api/tickets/check-in", &json!({"code": tickets[k]["code"], "event_id": p.event_id}))
    };
    let staff_path = format!("/api/events/{}/staff/{}", p.event_id, staff.user_id);

    // the staff role alone opens no door
    scan(&staff.token, 0).assert_problem(403);
    // only the event's organizer (or an admin) assigns staff
    for token in [&staff.token, &other_org.token, &p.buyer.token] {
        let r = accounts::put_as(&app, token, &staff_path, &json!({}));
        assert_eq!(r.status, 403, "{}", r.text());
    }
    accounts::put_as(&app, &p.org.token, &format!("/api/events/{}/staff/nobody", p.event_id), &json!({}))
        .assert_problem(422);
    let put = app.call("PUT", &staff_path, None, &[("authorization", &format!("Bearer {}", p.org.token))]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["items"][0]["user_id"], json!(staff.user_id), "{}", put.text());
    let listed = app.get_as(&p.org.token, &format!("/api/events/{}/staff", p.event_id)).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    app.get_as(&other_org.token, &format!("/api/events/{}/staff", p.event_id)).assert_problem(403);

    // assigned: this door, and no other event's
    assert_eq!(scan(&staff.token, 0).json()["result"], "admitted");
    let elsewhere = paid_purchase(&app, "Other night", &days_ahead(22, "19:30"), &["Mary Somerville"]);
    let their = issued(&app, &elsewhere, 1);
    let r = app.post_as(
        &staff.token,
        "/api/tickets/check-in",
        &json!({"code": their[0]["code"], "event_id": elsewhere.event_id}),
    );
    r.assert_problem(403);

    // removed: the door closes again at once
    assert_eq!(accounts::delete_as(&app, &p.org.token, &staff_path).status, 204);
    scan(&staff.token, 1).assert_problem(403);

    // refunds: not staff, not another organizer; the event's organizer and admins
    let refund = |token: &str| {
        app.post_as(token, &format!("/api/payments/{}/refunds", p.booking_id), &json!({"amount_minor": 100}))
    };
    for token in [&staff.token, &other_org.token, &p.buyer.token] {
        refund(token).assert_problem(403);
    }
    let by_org = refund(&p.org.token);
    assert!(by_org.status == 201 || by_org.status == 202, "{}", by_org.text());
    let by_admin = refund(&accounts::admin_token(&app));
    assert!(by_admin.status == 201 || by_admin.status == 202, "{}", by_admin.text());
    let pay = app.get_as(&p.buyer.token, &format!("/api/payments/{}", p.booking_id)).json();
    assert_eq!(pay["refunds"].as_array().unwrap().len(), 2, "{pay}");
}

// ---------------------------------------------------------------------------
// 8. Published secrets

/// The development values spin.toml ships (public: they are in the repository).
const DEV_TICK: &str = "boxoffice-development-tick-token";

#[test]
fn published_secrets_are_refused_outside_the_sandbox() {
    // spin.toml as shipped: sandbox off, every secret at its published value
    let app = App::spawn_as_shipped(&[]);
    let expect = [
        ("/api/auth/health", &["jwt_keys"][..]),
        ("/api/users/health", &["jwt_keys"]),
        ("/api/events/health", &["jwt_keys", "tick_token"]),
        ("/api/bookings/health", &["jwt_keys", "tick_token"]),
        ("/api/tickets/health", &["jwt_keys", "tick_token"]),
        ("/api/notifications/health", &["jwt_keys", "tick_token"]),
        ("/api/payments/health", &["jwt_keys", "tick_token", "payment_webhook_secret", "payment_secret_key"]),
    ];
    for (path, names) in expect {
        let r = app.get(path);
        assert_eq!(r.status, 503, "{path}: {}", r.text());
        let v = r.json();
        for name in names {
            let check = v["checks"].as_array().unwrap().iter().find(|c| c["name"] == format!("secret:{name}")).cloned();
            let check = check.unwrap_or_else(|| panic!("{path} has no secret:{name} check: {v}"));
            assert_eq!(check["ok"], false, "{path}: {check}");
            assert!(check["error"].as_str().unwrap().contains(&format!("`{name}`")), "{path}: {check}");
        }
    }
    let tickets = app.get("/api/tickets/health").json();
    assert!(tickets.to_string().contains("ticket_signing_key"), "{tickets}");

    // nothing uses them: no account is made, no token signed or trusted,
    // no tick runs, no webhook is believed
    let reg = app.post("/api/auth/register", &json!({"email": "first@example.test", "password": accounts::PASSWORD}));
    let p = reg.assert_problem(503);
    assert!(p["detail"].as_str().unwrap().contains("jwt_keys"), "{p}");
    let forged_admin = accounts::mint_token(&platform::ids::new("usr"), "admin");
    app.get_as(&forged_admin, "/api/users").assert_problem(503);
    let tick = app.call("POST", "/api/bookings/tick", None, &[("authorization", &format!("Bearer {DEV_TICK}"))]);
    assert!(tick.assert_problem(503)["detail"].as_str().unwrap().contains("tick_token"));
    let event = json!({"id": "evt_forged", "object": "event", "type": "customer.created", "created": platform::clock::now_secs(),
                       "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string();
    let sig = e2e::payments::signature(e2e::payments::WEBHOOK_SECRET, platform::clock::now_secs(), event.as_bytes());
    let hook = app.call_raw(
        "POST",
        "/api/payments/webhook",
        "application/json",
        event.as_bytes(),
        &[("stripe-signature", &sig)],
    );
    assert!(hook.assert_problem(503)["detail"].as_str().unwrap().contains("payment_webhook_secret"), "{}", hook.text());
    drop(app);

    // the operator's own secrets: healthy, and in use
    let own = r#"{"current":"prod1","keys":{"prod1":"an-operators-own-signing-key-0123456789"}}"#;
    let app = App::spawn_as_shipped(&[
        ("jwt_keys", own),
        ("ticket_signing_key", "an-operators-own-ticket-signing-key-0123456789"),
        ("tick_token", "an-operators-own-tick-token-0123456789"),
        ("payment_webhook_secret", "whsec_an_operators_own_0123456789"),
        ("payment_secret_key", "sk_live_an_operators_own_0123456789"),
    ]);
    for (path, _) in expect {
        let r = app.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let reg = app.post("/api/auth/register", &json!({"email": "first@example.test", "password": accounts::PASSWORD}));
    assert_eq!(reg.status, 201, "{}", reg.text());
    // a token signed with the published key is now just a forgery
    app.get_as(&forged_admin, "/api/users").assert_problem(401);
    let tick = app.call("POST", "/api/bookings/tick", None, &[("authorization", &format!("Bearer {DEV_TICK}"))]);
    tick.assert_problem(401);
}

// ---------------------------------------------------------------------------
// 9. Erasure and ended sessions

/// Every text value of table `table` in the app's SQLite database `db`,
/// joined (what is still stored there, as one string to search).
fn stored_text(app: &App, db: &str, table: &str) -> String {
    let path = app.state_dir().join(format!("{db}.db"));
    let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open database");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).expect("select");
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|"))
        })
        .expect("query");
    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_erased_account_is_forgotten_everywhere_and_its_token_dies_at_once() {
    let app = App::spawn();
    // a paid booking with tickets, a tickets e-mail and an in-site message
    let p = paid_purchase(&app, "Erasure night", &days_ahead(20, "19:30"), &["Grace Hopper Attendee"]);
    issued(&app, &p, 1);
    t::wait_for(20, || {
        t::tick(&app, "/api/notifications/tick");
        (!t::booking_mail(&app, &p.email).is_empty()).then_some(())
    })
    .expect("the tickets mail");
    let local = p.email.split('@').next().unwrap().to_string();
    for (db, table) in
        [("bookings", "bookings"), ("tickets", "tickets"), ("payments", "orders"), ("notifications", "email_jobs")]
    {
        let text = stored_text(&app, db, table);
        assert!(
            text.contains(&local) || text.contains("Grace Hopper Attendee"),
            "{db}.{table} holds the person before: {text}"
        );
    }
    assert!(!t::my_messages(&app, &p.buyer.token).is_empty());

    let gone = accounts::delete_as(&app, &p.buyer.token, "/api/users/me");
    assert_eq!(gone.status, 204, "{}", gone.text());
    // the same access token, at once, anywhere
    for path in [
        "/api/bookings",
        "/api/tickets",
        "/api/notifications",
        "/api/users/me",
        &format!("/api/payments/{}", p.booking_id),
    ] {
        app.get_as(&p.buyer.token, path).assert_problem(401);
    }
    let hold = app.post_as(
        &p.buyer.token,
        "/api/holds",
        &json!({"event_id": p.event_id, "tier_id": p.tier_id, "quantity": 1}),
    );
    hold.assert_problem(401);

    // every component forgot the person (the saga's deliveries, retried by ticks)
    let forgotten = t::wait_for(20, || {
        t::tick(&app, "/api/users/tick");
        let all: Vec<String> = [
            ("bookings", "bookings"),
            ("bookings", "saga_outbox"),
            ("tickets", "tickets"),
            ("tickets", "saga_outbox"),
            ("payments", "orders"),
            ("payments", "saga_outbox"),
            ("notifications", "email_jobs"),
            ("notifications", "messages"),
            ("notifications", "booking_contacts"),
            ("users", "profiles"),
            ("auth", "accounts"),
            ("auth", "saga_outbox"),
        ]
        .iter()
        .map(|(db, table)| stored_text(&app, db, table))
        .collect();
        all.iter()
            .all(|text| {
                !text.contains(&local)
                    && !text.contains("Grace Hopper")
                    && !text.contains("Ada Lovelace")
                    && !text.contains("4155550100")
            })
            .then_some(all)
    });
    assert!(forgotten.is_some(), "personal data left behind");
    // the anonymous records stay: the booking and its ticket, the payment
    assert!(stored_text(&app, "bookings", "bookings").contains(&p.booking_id));
    assert!(stored_text(&app, "payments", "orders").contains(&p.booking_id));
    assert!(stored_text(&app, "tickets", "tickets").contains(&p.booking_id));
}

#[test]
fn a_password_change_or_logging_out_everywhere_ends_every_access_token_at_once() {
    let app = App::spawn();
    let email = accounts::unique_email("epoch");
    let phone = accounts::register(&app, &email, accounts::PASSWORD);
    let laptop = accounts::login(&app, &email, accounts::PASSWORD);
    assert_eq!(app.get_as(&phone.access_token, "/api/bookings").status, 200);

    // the laptop changes the password: the phone's token dies now, not in 15 minutes
    let changed = app.post_as(
        &laptop.access_token,
        "/api/auth/password",
        &json!({"current_password": accounts::PASSWORD, "new_password": "a-brand-new-passphrase-42"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    let fresh = accounts::Tokens::from_reply(&changed);
    for old in [&phone.access_token, &laptop.access_token] {
        for path in ["/api/bookings", "/api/tickets", "/api/users/me", "/api/auth/session"] {
            app.get_as(old, path).assert_problem(401);
        }
    }
    assert_eq!(app.get_as(&fresh.access_token, "/api/bookings").status, 200);

    // log out everywhere: this token too, at once
    let out = app.post_as(&fresh.access_token, "/api/auth/logout-all", &json!({}));
    assert_eq!(out.status, 204, "{}", out.text());
    app.get_as(&fresh.access_token, "/api/bookings").assert_problem(401);
    accounts::refresh(&app, &fresh.refresh_token).assert_problem(401);
    // signing in again works, with a token that works
    let again = accounts::login(&app, &email, "a-brand-new-passphrase-42");
    assert_eq!(app.get_as(&again.access_token, "/api/bookings").status, 200);
}
