//! `Idempotency-Key` on state-creating POSTs (platform::idempotency) through
//! the runner: replays, concurrent duplicates, key reuse with another body,
//! per-user scope, malformed keys, and a failed first attempt that frees the
//! key — for holds, bookings, venues, events and refunds; and the ticks of
//! booking, events and payments sweeping expired keys.

use e2e::accounts::{self, Minted, User};
use e2e::catalog;
use e2e::payments as pay;
use e2e::race::at_once;
use e2e::{json, App, Reply, Value};

/// `POST path` as `user` with `Idempotency-Key: key`.
fn post_key(app: &App, user: &User, path: &str, body: &Value, key: &str) -> Reply {
    app.call(
        "POST",
        path,
        Some(body),
        &[("authorization", &format!("Bearer {}", user.token)), ("idempotency-key", key)],
    )
}

/// Sends the same keyed request from `n` threads released together.
fn race(app: &App, user: &User, path: &str, body: &Value, key: &str, n: usize) -> Vec<Reply> {
    at_once(n, |_| post_key(app, user, path, body, key))
}

/// Asserts `again` is `first` replayed: same status, location and bytes,
/// marked `Idempotent-Replayed: true` (and `first` is not).
fn assert_replay(first: &Reply, again: &Reply) {
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(again.status, first.status, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_eq!(again.body, first.body, "identical body");
}

/// Asserts that of `replies` exactly one resource was created: every reply is
/// 201 (the first or a replay) or 409 `idempotency-in-progress` with
/// `Retry-After`, and every 201 names the same id. Returns that id.
fn one_created(replies: &[Reply]) -> String {
    let mut ids = std::collections::BTreeSet::new();
    for r in replies {
        match r.status {
            201 => {
                ids.insert(r.json()["id"].as_str().unwrap().to_string());
            }
            409 => {
                assert_eq!(r.assert_problem(409)["type"], "/problems/idempotency-in-progress");
                assert!(r.header("retry-after").is_some(), "Retry-After on 409");
            }
            s => panic!("unexpected {s}: {}", r.text()),
        }
    }
    let fresh = replies.iter().filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none()).count();
    assert_eq!(fresh, 1, "exactly one request ran: {:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(ids.len(), 1, "one resource: {ids:?}");
    ids.into_iter().next().unwrap()
}

/// A published event with one general-admission tier of 100; (event id, tier id).
fn ga_event(app: &App, org: &User) -> (String, String) {
    let venue = catalog::create_venue(app, &org.token, &catalog::ga_venue("Key Hall", "Denver", "America/Denver"));
    let ev = catalog::create_event(
        app,
        &org.token,
        &catalog::event_body(&venue, "Key Night", &catalog::days_ahead(30, "20:00")),
    );
    let id = ev["id"].as_str().unwrap().to_string();
    catalog::publish(app, &org.token, &id);
    (id, ev["tiers"][0]["id"].as_str().unwrap().to_string())
}

fn held(app: &App, event: &str) -> i64 {
    let v = app.get(&format!("/api/holds/availability/{event}")).json();
    v["totals"]["held"].as_i64().unwrap()
}

fn my_events(app: &App, org: &User) -> usize {
    app.get_as(&org.token, "/api/events/mine").json()["items"].as_array().unwrap().len()
}

#[test]
fn holds_and_bookings_run_once_per_key() {
    let app = App::spawn();
    let org = accounts::organizer(Minted);
    let (ev, tier) = ga_event(&app, &org);
    let buyer = accounts::customer(Minted);
    let body = json!({"event_id": ev, "tier_id": tier, "quantity": 2});

    // the same key twice: one hold, the first answer replayed
    let first = post_key(&app, &buyer, "/api/holds", &body, "hold-key-1");
    assert_eq!(first.status, 201, "{}", first.text());
    let again = post_key(&app, &buyer, "/api/holds", &body, "hold-key-1");
    assert_replay(&first, &again);
    assert_eq!(held(&app, &ev), 2);

    // ten at once with one new key: exactly one hold
    let replies = race(&app, &buyer, "/api/holds", &body, "hold-key-2", 10);
    let id = one_created(&replies);
    assert_eq!(held(&app, &ev), 4);
    let later = post_key(&app, &buyer, "/api/holds", &body, "hold-key-2");
    assert_eq!((later.status, later.json()["id"].as_str()), (201, Some(id.as_str())));

    // the same key for another request: 422, nothing held
    let other = json!({"event_id": ev, "tier_id": tier, "quantity": 1});
    let p = post_key(&app, &buyer, "/api/holds", &other, "hold-key-1").assert_problem(422);
    assert_eq!(p["type"], "/problems/idempotency-key-reused");
    assert_eq!(held(&app, &ev), 4);

    // another user with the same key: independent
    let other_buyer = accounts::customer(Minted);
    let theirs = post_key(&app, &other_buyer, "/api/holds", &body, "hold-key-1");
    assert_eq!(theirs.status, 201, "{}", theirs.text());
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    assert_eq!(held(&app, &ev), 6);

    // malformed keys: 400 before anything happens
    for bad in ["k".repeat(256), "tab\there".to_string(), "two words".to_string()] {
        post_key(&app, &buyer, "/api/holds", &body, &bad).assert_problem(400);
    }
    assert_eq!(held(&app, &ev), 6);

    // a first attempt that failed (422) frees the key for a corrected retry
    let wrong = json!({"event_id": ev, "tier_id": tier, "quantity": 0});
    post_key(&app, &buyer, "/api/holds", &wrong, "hold-key-3").assert_problem(422);
    let fixed =
        post_key(&app, &buyer, "/api/holds", &json!({"event_id": ev, "tier_id": tier, "quantity": 1}), "hold-key-3");
    assert_eq!(fixed.status, 201, "{}", fixed.text());
    assert_eq!(fixed.header("idempotent-replayed"), None);
    assert_eq!(held(&app, &ev), 7);

    // checkout: concurrent duplicates with one key make one booking, and a
    // later retry gets the first answer
    let hold_id = first.json()["id"].as_str().unwrap().to_string();
    let order = e2e::booking::booking_body(&hold_id, 2);
    let replies = race(&app, &buyer, "/api/bookings", &order, "book-key-1", 5);
    let booking = one_created(&replies);
    let fresh = replies.iter().find(|r| r.status == 201 && r.header("idempotent-replayed").is_none()).unwrap();
    assert_replay(fresh, &post_key(&app, &buyer, "/api/bookings", &order, "book-key-1"));
    let mine = app.get_as(&buyer.token, "/api/bookings").json();
    let ids: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![booking.as_str()]);
}

#[test]
fn venues_and_events_run_once_per_key() {
    let app = App::spawn();
    let org = accounts::organizer(Minted);
    let venue_body = catalog::ga_venue("Once Hall", "Austin", "America/Chicago");

    // venues: replay, then 422 for another body
    let v1 = post_key(&app, &org, "/api/venues", &venue_body, "venue-key");
    assert_eq!(v1.status, 201, "{}", v1.text());
    assert_replay(&v1, &post_key(&app, &org, "/api/venues", &venue_body, "venue-key"));
    let renamed = catalog::ga_venue("Twice Hall", "Austin", "America/Chicago");
    let p = post_key(&app, &org, "/api/venues", &renamed, "venue-key").assert_problem(422);
    assert_eq!(p["type"], "/problems/idempotency-key-reused");
    let venue = v1.json()["id"].as_str().unwrap().to_string();

    // events: the same key twice, one draft
    let body = catalog::event_body(&venue, "Once Only", &catalog::days_ahead(40, "19:30"));
    let first = post_key(&app, &org, "/api/events", &body, "event-key-1");
    assert_eq!(first.status, 201, "{}", first.text());
    assert_replay(&first, &post_key(&app, &org, "/api/events", &body, "event-key-1"));
    assert_eq!(my_events(&app, &org), 1);

    // ten at once with a new key: exactly one more
    let body2 = catalog::event_body(&venue, "Raced", &catalog::days_ahead(41, "19:30"));
    one_created(&race(&app, &org, "/api/events", &body2, "event-key-2", 10));
    assert_eq!(my_events(&app, &org), 2);

    // the key of event 1 with another body: 422, nothing created
    let p = post_key(&app, &org, "/api/events", &body2, "event-key-1").assert_problem(422);
    assert_eq!(p["type"], "/problems/idempotency-key-reused");
    assert_eq!(my_events(&app, &org), 2);

    // another organizer, same key and body: their own draft
    let other = accounts::organizer(Minted);
    let theirs = post_key(&app, &other, "/api/events", &body, "event-key-1");
    assert_eq!(theirs.status, 201, "{}", theirs.text());
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    assert_eq!((my_events(&app, &org), my_events(&app, &other)), (2, 1));

    // malformed keys
    for bad in ["e".repeat(256), "a\tb".to_string(), String::new()] {
        post_key(&app, &org, "/api/events", &body, &bad).assert_problem(400);
    }
    assert_eq!(my_events(&app, &org), 2);

    // a rejected first attempt does not burn the key
    let mut invalid = body.clone();
    invalid["title"] = json!("");
    post_key(&app, &org, "/api/events", &invalid, "event-key-3").assert_problem(422);
    let ok = post_key(&app, &org, "/api/events", &body, "event-key-3");
    assert_eq!(ok.status, 201, "{}", ok.text());
    assert_eq!(my_events(&app, &org), 3);

    // imports: a repeated key replays the first report
    let doc = json!({"@context": "https://schema.org", "@type": "Event", "name": "Imported once",
        "startDate": format!("{}", catalog::days_ahead(50, "20:00")),
        "location": {"@type": "Place", "name": "Import Hall", "address": {"@type": "PostalAddress", "streetAddress": "1 Main St",
            "addressLocality": "Austin", "addressCountry": "US"}},
        "offers": {"@type": "Offer", "price": "25.00", "priceCurrency": "USD"}});
    let r1 = post_key(&app, &org, "/api/events/import/jsonld?timezone=America/Chicago", &doc, "import-key");
    assert_eq!(r1.status, 200, "{}", r1.text());
    assert_replay(&r1, &post_key(&app, &org, "/api/events/import/jsonld?timezone=America/Chicago", &doc, "import-key"));
}

#[test]
fn refunds_run_once_per_key() {
    let app = App::spawn();
    let admin = accounts::user(Minted, "admin"); // refunds: the event's organizer or an admin
    let buyer = accounts::customer(Minted);
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    assert_eq!(pay::pay(&app, &buyer.token, &b, pay::VISA_OK).json()["status"], "succeeded");
    let path = format!("/api/payments/{b}/refunds");
    let body = json!({"amount_minor": 2500});
    let replies = race(&app, &admin, &path, &body, "refund-key", 6);
    let ran: Vec<&Reply> =
        replies.iter().filter(|r| r.header("idempotent-replayed").is_none() && r.status < 300).collect();
    assert_eq!(ran.len(), 1, "{:?}", replies.iter().map(|r| (r.status, r.text())).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status >= 300) {
        assert_eq!(r.assert_problem(409)["type"], "/problems/idempotency-in-progress");
    }
    assert_replay(ran[0], &post_key(&app, &admin, &path, &body, "refund-key"));
    assert_eq!(pay::status(&app, &buyer.token, &b)["refunded_minor"], 2500);
    post_key(&app, &admin, &path, &json!({"amount_minor": 100}), "refund-key").assert_problem(422);
    assert_eq!(pay::status(&app, &buyer.token, &b)["refunded_minor"], 2500);
}

/// Makes every Idempotency-Key record in `db` (one of the app's SQLite
/// files) expired, as if 24 h had passed; returns how many there are.
fn age_keys(app: &App, db: &str) -> usize {
    let c = rusqlite::Connection::open(app.state_dir().join(db)).expect("open database");
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute("UPDATE idempotency_keys SET expires_ms = 0", []).expect("age keys")
}

#[test]
fn each_tick_sweeps_its_expired_keys_and_a_swept_key_runs_afresh() {
    let app = App::spawn();
    let org = accounts::organizer(Minted);
    let (ev, tier) = ga_event(&app, &org);
    let buyer = accounts::customer(Minted);
    let admin = accounts::user(Minted, "admin");
    let venue_body = catalog::ga_venue("Sweep Hall", "Denver", "America/Denver");
    let hold_body = json!({"event_id": ev, "tier_id": tier, "quantity": 1});
    let b = pay::order(&app, &buyer.user_id, 10000, 600);
    assert_eq!(pay::pay(&app, &buyer.token, &b, pay::VISA_OK).json()["status"], "succeeded");
    let refund_path = format!("/api/payments/{b}/refunds");
    let refund_body = json!({"amount_minor": 1000});
    // one keyed request per component
    let keyed = |user: &User, path: &str, body: &Value| {
        let r = post_key(&app, user, path, body, "sweep-key");
        assert!(r.status < 300 && r.header("idempotent-replayed").is_none(), "{}", r.text());
        r
    };
    let venue = keyed(&org, "/api/venues", &venue_body).json()["id"].clone();
    let hold = keyed(&buyer, "/api/holds", &hold_body).json()["id"].clone();
    let refund = keyed(&admin, &refund_path, &refund_body).json()["id"].clone();
    assert_eq!(
        post_key(&app, &org, "/api/venues", &venue_body, "sweep-key").header("idempotent-replayed"),
        Some("true")
    );

    // 24 h later: each component's tick deletes exactly its expired records, once
    let aged: Vec<usize> = ["events.db", "bookings.db", "payments.db"].iter().map(|db| age_keys(&app, db)).collect();
    assert!(aged.iter().all(|n| *n >= 1), "{aged:?}");
    let events_tick = || {
        let r = app.call(
            "POST",
            "/api/events/tick",
            None,
            &[("authorization", &format!("Bearer {}", e2e::booking::TICK_TOKEN))],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let swept = |t: &Value| t["idempotency_keys_swept"].as_u64().unwrap_or_else(|| panic!("no count in {t}")) as usize;
    assert_eq!(swept(&events_tick()), aged[0]);
    assert_eq!(swept(&e2e::booking::tick(&app)), aged[1]);
    assert_eq!(swept(&pay::tick(&app)), aged[2]);
    assert_eq!(swept(&events_tick()) + swept(&e2e::booking::tick(&app)) + swept(&pay::tick(&app)), 0, "nothing left");

    // the swept key is new again: each request runs, nothing is replayed;
    // a refund still finds the key recorded on itself and refunds nothing twice
    assert_ne!(keyed(&org, "/api/venues", &venue_body).json()["id"], venue);
    assert_ne!(keyed(&buyer, "/api/holds", &hold_body).json()["id"], hold);
    assert_eq!(keyed(&admin, &refund_path, &refund_body).json()["id"], refund);
    assert_eq!(held(&app, &ev), 2);
    assert_eq!(pay::status(&app, &buyer.token, &b)["refunded_minor"], 1000);
}
