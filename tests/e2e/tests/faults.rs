//! Faults injected for real into a running app: requests that died half
//! way through a seat claim (orphaned lock counters written straight into
//! the app's KV file, exactly as the dead request left them), a broken
//! key-value store and a broken database (their files overwritten in place
//! while the runner has them open, then restored), and a saga subscriber
//! that never comes back.
//!
//! `events` and `payments` are played by the booking fixture (see
//! `e2e::booking`).

use e2e::accounts::{self, customer, Minted};
use e2e::booking::{self as bk, availability, hold, seat_status, tier};
use e2e::{json, App, Reply};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::PathBuf;
use std::time::Duration;

/// Opens one of the app's SQLite files (KV stores are SQLite files too:
/// table `spin_key_value(store, key, value)`, see `runner/src/key_value.rs`).
/// Booking keeps its keys in the label's namespace, `holds/<key>`.
fn open(app: &App, file: &str) -> Connection {
    let c = Connection::open(app.state_dir().join(file)).expect("open state file");
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

/// Adds `delta` to counter `key` of the `holds` store the way the store's
/// own `increment` does (8 little-endian bytes, in one write transaction):
/// what a claim request does right before it dies.
fn increment(app: &App, key: &str, delta: i64) -> i64 {
    // Spin creates a KV store's file and table on first use: booking's
    // health check opens the store, so both exist before the injection.
    assert_eq!(app.get("/api/holds/health").status, 200);
    let mut c = open(app, "holds-kv.db");
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    let old: Option<Vec<u8>> = tx
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'holds' AND key = ?1",
            [format!("holds/{key}")],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    let new = old.map(|b| i64::from_le_bytes(b.try_into().expect("8-byte counter"))).unwrap_or(0) + delta;
    tx.execute(
        "INSERT INTO spin_key_value (store, key, value) VALUES ('holds', ?1, ?2) ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
        params![format!("holds/{key}"), new.to_le_bytes().to_vec()],
    )
    .unwrap();
    tx.commit().unwrap();
    new
}

/// The raw value of counter `key` in the `holds` store.
fn counter(app: &App, key: &str) -> i64 {
    let c = open(app, "holds-kv.db");
    let v: Vec<u8> = c
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'holds' AND key = ?1",
            [format!("holds/{key}")],
            |r| r.get(0),
        )
        .unwrap();
    i64::from_le_bytes(v.try_into().unwrap())
}

/// Checks out `hold_id` (one ticket) and has the fixture report the
/// payment: the booking is confirmed and its hold consumed (sold).
fn sell(app: &App, token: &str, hold_id: &str) -> String {
    let r = app.post_as(token, "/api/bookings", &bk::booking_body(hold_id, 1));
    assert_eq!(r.status, 201, "{}", r.text());
    let bid = r.json()["id"].as_str().unwrap().to_string();
    bk::emit(
        app,
        "PaymentSucceeded",
        json!({"booking_id": bid, "payment_id": "pay_1", "amount_minor": 4500, "currency": "EUR"}),
    );
    assert_eq!(app.get_as(token, &format!("/api/bookings/{bid}")).json()["status"], "confirmed");
    bid
}

#[test]
fn orphaned_seat_locks_are_recovered_and_live_claims_never_are() {
    // grace period = hold lifetime (clamped to >= 2 s): 2 s here
    let app = bk::spawn(&[("hold_ttl_seconds", "2")]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let token = customer(Minted).token;
    let lock = |seat: &str| format!("lock:{ev}:{seat}");

    // A1: a claimant won the lock and died before recording anything
    assert_eq!(increment(&app, &lock("A1"), 1), 1);
    // A2: sold; a losing claimant died between its +1 and its -1
    let h2 = hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})).json();
    let b2 = sell(&app, &token, h2["id"].as_str().unwrap());
    assert_eq!(increment(&app, &lock("A2"), 1), 2);
    // A3: sold, nothing wrong with it
    let h3 = hold(&app, &token, &json!({"event_id": ev, "seats": ["A3"]})).json();
    sell(&app, &token, h3["id"].as_str().unwrap());

    let other = customer(Minted).token;
    hold(&app, &other, &json!({"event_id": ev, "seats": ["A1"]})).assert_problem(409);
    assert_eq!(seat_status(&availability(&app, &ev), "A1"), "held");

    // first sweep only notes the suspects; nothing is reset before the grace period
    bk::tick(&app);
    hold(&app, &other, &json!({"event_id": ev, "seats": ["A1"]})).assert_problem(409);
    std::thread::sleep(Duration::from_millis(2300));
    bk::tick(&app);

    // A1 is sellable again: the dead claimant's +1 was taken off
    assert_eq!(counter(&app, &lock("A1")), 0, "A1 corrected to 0");
    let h1 = hold(&app, &other, &json!({"event_id": ev, "seats": ["A1"]}));
    assert_eq!(h1.status, 201, "{}", h1.text());
    // A2 keeps its live owner's claim, without the dead loser's
    assert_eq!(counter(&app, &lock("A2")), 1, "A2: one claimant, its live owner");
    // A3 was never touched
    assert_eq!(counter(&app, &lock("A3")), 1);
    for seat in ["A2", "A3"] {
        hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": [seat]})).assert_problem(409);
    }
    // more sweeps never touch live claims (A2/A3 sold); A1's new hold
    // expires and gives its claim back
    std::thread::sleep(Duration::from_millis(2300));
    bk::tick(&app);
    std::thread::sleep(Duration::from_millis(1100));
    bk::tick(&app);
    for (seat, value) in [("A1", 0), ("A2", 1), ("A3", 1)] {
        assert_eq!(counter(&app, &lock(seat)), value, "{seat} after later sweeps");
    }
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1"]})).status, 201);
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A2"), "sold");
    assert_eq!(seat_status(&avail, "A3"), "sold");

    // cancelling A2's booking gives the live claim back: exactly free
    let c = app.post_as(&token, &format!("/api/bookings/{b2}/cancel"), &json!({}));
    assert_eq!(c.status, 200, "{}", c.text());
    assert_eq!(counter(&app, &lock("A2")), 0, "A2: nobody");
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A2"]})).status, 201);
    hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A2"]})).assert_problem(409);
    availability(&app, &ev);
}

/// Overwrites `file` in place (same inode, so the runner's open handles
/// see it) with junk; returns what to put back.
fn break_file(app: &App, file: &str) -> (PathBuf, Vec<u8>) {
    let path = app.state_dir().join(file);
    let saved = std::fs::read(&path).expect("state file exists");
    std::fs::write(&path, vec![0x5a; saved.len().max(4096)]).unwrap();
    (path, saved)
}

fn restore((path, saved): (PathBuf, Vec<u8>)) {
    std::fs::write(path, saved).unwrap();
}

/// A 503 problem of type `/problems/<kind>` with a `Retry-After` in seconds.
fn assert_503(r: &Reply, kind: &str) {
    let p = r.assert_problem(503);
    assert_eq!(p["type"], format!("/problems/{kind}"), "{p}");
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<u32>().is_ok()), "Retry-After: {:?}", r.headers);
}

/// A store or database that failed: 503 `storage-unavailable`.
fn assert_unavailable(r: &Reply) {
    assert_503(r, "storage-unavailable");
}

#[test]
fn a_broken_store_or_database_answers_503_and_leaves_nothing_half_written() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let token = customer(Minted).token;
    // a hold made while everything works, to check out later
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).json();
    let hold_id = h["id"].as_str().unwrap().to_string();
    let before = availability(&app, &ev);

    // the key-value store breaks
    let kv = break_file(&app, "holds-kv.db");
    assert_unavailable(&hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})));
    assert_unavailable(&hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 2})));
    assert_unavailable(&app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 1)));
    assert_unavailable(&app.get(&format!("/api/holds/availability/{ev}")));
    assert_eq!(app.get("/api/holds/health").status, 503);
    restore(kv);
    let after = availability(&app, &ev);
    assert_eq!(after["seats"], before["seats"], "no seat changed while the store was broken");
    assert_eq!(after["tiers"], before["tiers"]);
    assert!(app.get_as(&token, "/api/bookings").json()["items"].as_array().unwrap().is_empty());
    assert_eq!(app.get_as(&token, &format!("/api/holds/{hold_id}")).json()["status"], "active");

    // the database breaks
    let db = break_file(&app, "bookings.db");
    assert_unavailable(&app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 1)));
    assert_unavailable(&hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})));
    assert_eq!(app.get("/api/bookings/health").status, 503);
    restore(db);
    let after = availability(&app, &ev);
    assert_eq!(after["seats"], before["seats"], "no seat changed while the database was broken");
    assert_eq!(tier(&after, "tier_ga")["held"], 0);
    assert!(app.get_as(&token, "/api/bookings").json()["items"].as_array().unwrap().is_empty(), "no booking half made");
    assert_eq!(
        app.get_as(&token, &format!("/api/holds/{hold_id}")).json()["status"],
        "active",
        "the hold was not checked out"
    );

    // and everything works again: the same hold checks out, A2 can be held
    let r = app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 1));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})).status, 201);
    availability(&app, &ev);
}

#[test]
fn a_subscriber_that_never_answers_is_dead_lettered_after_the_attempt_budget_then_requeued() {
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 2, 5, |_| {});
    let token = customer(Minted).token;
    assert_eq!(app.post("/fixture/payments/down", &json!({})).status, 204);
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).json();
    let r = app.post_as(&token, "/api/bookings", &bk::booking_body(h["id"].as_str().unwrap(), 1));
    assert_eq!(r.status, 201, "{}", r.text());

    // time travel: every retry is due now instead of after its backoff
    let db = open(&app, "bookings.db");
    let delivery = |col: &str| -> i64 {
        db.query_row(
            &format!("SELECT {col} FROM saga_deliveries d JOIN saga_outbox o ON o.id = d.event_id WHERE d.subscriber = 'payments' AND o.event_type = 'BookingOrdered'"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let status = || -> String {
        db.query_row(
            "SELECT status FROM saga_deliveries d JOIN saga_outbox o ON o.id = d.event_id WHERE d.subscriber = 'payments' AND o.event_type = 'BookingOrdered'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(delivery("attempts"), 1, "the first attempt ran in the checkout request");
    let max = 15; // saga::MAX_ATTEMPTS
    for n in 2..=max {
        db.execute("UPDATE saga_deliveries SET next_attempt_ms = 0 WHERE status = 'pending'", []).unwrap();
        let t = bk::tick(&app);
        assert_eq!(delivery("attempts"), n, "attempt {n}: {t}");
        if n < max {
            assert_eq!(status(), "pending", "still retrying after {n} attempts");
            // the backoff doubles: 1 s, 2 s, 4 s … (capped at 10 min)
            let wait = delivery("next_attempt_ms") - platform::clock::now_ms();
            let expect = (1_000i64 << (n - 1).min(19)).min(600_000);
            assert!(wait <= expect && wait > expect - 5_000, "after {n}: due in {wait} ms, expected ~{expect}");
        } else {
            assert_eq!(t["relay"]["dead"], 1, "{t}");
        }
    }
    assert_eq!(status(), "dead");
    let admin = accounts::mint_token("usr_admin", "admin");
    let dead = app.get_as(&admin, "/api/bookings/admin/dead-letters").json();
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!((items[0]["subscriber"].as_str(), items[0]["attempts"].as_i64()), (Some("payments"), Some(max)));
    assert!(items[0]["last_error"].as_str().unwrap().contains("503"), "{}", items[0]);
    // further ticks leave it alone
    bk::tick(&app);
    assert_eq!(delivery("attempts"), max);

    // the subscriber is back; an admin requeues; it arrives once
    assert_eq!(app.post("/fixture/payments/up", &json!({})).status, 204);
    let rq = app.post_as(
        &admin,
        "/api/bookings/admin/dead-letters/requeue",
        &json!({"event_id": items[0]["event_id"], "subscriber": "payments"}),
    );
    assert_eq!(rq.status, 200, "{}", rq.text());
    assert_eq!(status(), "delivered");
    let got = app.get("/fixture/payments/received").json();
    assert_eq!(got.as_object().unwrap().values().filter(|v| v["type"] == "BookingOrdered").count(), 1, "{got}");
    assert!(app.get_as(&admin, "/api/bookings/admin/dead-letters").json()["items"].as_array().unwrap().is_empty());
}

#[test]
fn orphaned_ga_and_user_counters_cost_exactly_their_own_places() {
    // Not recovered, by design (booking `locks` module docs): an orphan only
    // makes a counter too high, costing its own places and nothing more.
    let app = bk::spawn(&[("hold_ttl_seconds", "2")]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let buyer = customer(Minted);
    let (token, user) = (buyer.token, buyer.user_id);
    let ga = format!("ga:{ev}:tier_ga");
    let allowance = format!("user:{ev}:{user}");
    // a general-admission claimant died after its +2; this user's claims of
    // 7 tickets died after their +7 (order limit 8)
    assert_eq!(increment(&app, &ga, 2), 2);
    assert_eq!(increment(&app, &allowance, 7), 7);
    let t = tier(&availability(&app, &ev), "tier_ga").clone();
    assert_eq!((t["held"].as_i64(), t["available"].as_i64()), (Some(2), Some(3)), "{t}");

    // sweeps past the grace period leave both counters exactly as they are
    bk::tick(&app);
    std::thread::sleep(Duration::from_millis(2300));
    bk::tick(&app);
    assert_eq!((counter(&app, &ga), counter(&app, &allowance)), (2, 7));

    // the tier sells its other 3 places and not one more; other users are unaffected
    let (a, b) = (customer(Minted).token, customer(Minted).token);
    assert_eq!(hold(&app, &a, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 2})).status, 201);
    assert_eq!(hold(&app, &b, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 1})).status, 201);
    assert_eq!(
        hold(&app, &b, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 1})).assert_problem(409)["type"],
        "/problems/sold-out"
    );
    // the user keeps exactly 1 of their 8: one seat yes, a second no
    assert_eq!(hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).status, 201);
    hold(&app, &token, &json!({"event_id": ev, "seats": ["A2"]})).assert_problem(409);
    assert_eq!(hold(&app, &b, &json!({"event_id": ev, "seats": ["A2", "A3"]})).status, 201);
    assert_eq!((counter(&app, &ga), counter(&app, &allowance)), (5, 8));
    availability(&app, &ev);
}

#[test]
fn a_checkout_the_database_cannot_write_leaves_the_hold_active() {
    // A write lock held on booking's database makes the booking INSERT time
    // out (5 s busy timeout) after the hold was moved to `booked`: the
    // answer is 503 and the hold is active again, not tied up until expiry.
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 5, |_| {});
    let token = customer(Minted).token;
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1", "A2"]})).json();
    let hold_id = h["id"].as_str().unwrap().to_string();
    let mut db = open(&app, "bookings.db");
    let (locked, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
            locked.wait();
            release.wait();
            tx.rollback().unwrap();
        });
        locked.wait();
        let r = app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 2));
        release.wait();
        r
    });
    assert_unavailable(&r);
    let now = app.get_as(&token, &format!("/api/holds/{hold_id}")).json();
    assert_eq!(now["status"], "active", "{now}");
    assert!(app.get_as(&token, "/api/bookings").json()["items"].as_array().unwrap().is_empty());
    assert_eq!(seat_status(&availability(&app, &ev), "A1"), "held");
    // nothing was left behind: the same hold checks out now, once
    let r = app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 2));
    assert_eq!(r.status, 201, "{}", r.text());
    let bid = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(app.get_as(&token, &format!("/api/holds/{hold_id}")).json()["booking_id"], bid.as_str());
    let ordered = app.get("/fixture/payments/received").json();
    assert_eq!(ordered.as_object().unwrap().values().filter(|v| v["type"] == "BookingOrdered").count(), 1, "{ordered}");
    availability(&app, &ev);
}

#[test]
fn a_sale_the_database_fails_to_write_is_retried_never_refunded() {
    // The payment arrived, the hold is ours, and the database fails at the
    // INSERT of the sold seat — as a statement fails when the connection
    // to a remote libSQL breaks or the disk errs. Stand-in: a trigger the
    // test adds to booking's database that aborts that INSERT with
    // SQLite's I/O error text. That is a storage fault, not a refusal (a
    // seat sold twice): the delivery answers 503 and changes nothing, the
    // booking stays pending — never cancelled and refunded — and the same
    // delivery confirms it once the database writes again.
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 4, 0, |_| {});
    let token = customer(Minted).token;
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).json();
    let r = app.post_as(&token, "/api/bookings", &bk::booking_body(h["id"].as_str().unwrap(), 1));
    assert_eq!(r.status, 201, "{}", r.text());
    let bid = r.json()["id"].as_str().unwrap().to_string();
    let db = open(&app, "bookings.db");
    db.execute_batch(
        "CREATE TRIGGER test_fault BEFORE INSERT ON sold_seats BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
    )
    .unwrap();
    let emitted = bk::emit(
        &app,
        "PaymentSucceeded",
        json!({"booking_id": bid, "payment_id": "pay_1", "amount_minor": 4500, "currency": "EUR"}),
    );
    assert_eq!(emitted["relay"]["delivered"], 0, "booking did not take the delivery: {emitted}");
    let event = emitted["event"].clone();
    let d = app.post("/fixture/payments/deliver", &event).json();
    assert_eq!(d["status"], 503, "{d}");
    assert_eq!(d["body"]["type"], "/problems/storage-unavailable", "{d}");
    let b = app.get_as(&token, &format!("/api/bookings/{bid}")).json();
    assert_eq!(b["status"], "pending_payment", "not cancelled for a fault: {b}");
    let got = app.get("/fixture/payments/received").json();
    assert!(got.as_object().unwrap().values().all(|v| v["type"] != "BookingCancelled"), "no refund asked for: {got}");
    assert_eq!(seat_status(&availability(&app, &ev), "A1"), "held");
    // the database writes again: the same delivery confirms, once
    db.execute_batch("DROP TRIGGER test_fault").unwrap();
    let d = app.post("/fixture/payments/deliver", &event).json();
    assert_eq!((d["status"].as_u64(), d["body"]["status"].as_str()), (Some(200), Some("applied")), "{d}");
    assert_eq!(app.get_as(&token, &format!("/api/bookings/{bid}")).json()["status"], "confirmed");
    let avail = availability(&app, &ev);
    assert_eq!((seat_status(&avail, "A1"), tier(&avail, "tier_s")["sold"].as_u64()), ("sold".to_string(), Some(1)));
    let got = app.get("/fixture/payments/received").json();
    assert!(got.as_object().unwrap().values().all(|v| v["type"] != "BookingCancelled"), "{got}");
}

#[test]
fn best_available_steps_around_a_claim_booking_did_not_know_of() {
    // A request died holding A3's lock: booking's seat states show A3 free,
    // so best available picks A3-A4 first, loses A3 in the KV store, marks
    // A3 taken and picks again under the same hold id.
    let app = bk::spawn(&[]);
    let ev = bk::event(&app, 1, 6, 0, |_| {});
    assert_eq!(increment(&app, &format!("lock:{ev}:A3"), 1), 1);
    let token = customer(Minted).token;
    let r = hold(&app, &token, &json!({"event_id": ev, "tier_id": "tier_s", "quantity": 2}));
    assert_eq!(r.status, 201, "{}", r.text());
    let held = r.json();
    let seats: Vec<&str> = held["seats"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(seats, ["A1", "A2"], "{held}");
    let avail = availability(&app, &ev);
    assert_eq!(seat_status(&avail, "A3"), "held", "the unknown claim shows");
    assert_eq!((seat_status(&avail, "A4"), seat_status(&avail, "A5")), ("available".into(), "available".into()));
    assert_eq!(counter(&app, &format!("lock:{ev}:A3")), 1, "the lost attempt took its +1 back");
    // the explicit seat is refused without a KV claim; its neighbours sell
    hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A3"]})).assert_problem(409);
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A4", "A5"]})).status, 201);
}

#[test]
fn a_hold_whose_change_was_claimed_by_a_request_that_died_is_rescued_after_the_grace_period() {
    // A request won the exit claim on the hold's version 0 (booking
    // `holds` module) and died before writing version 1: nobody else may
    // change the hold, so a release answers 503 — until the claim has
    // stood unreplaced for the grace period (hold lifetime, >= 2 s), when
    // the record is rewritten as version 1 and the hold changes again.
    let app = bk::spawn(&[("hold_ttl_seconds", "3")]);
    let ev = bk::event(&app, 1, 4, 0, |_| {});
    let token = customer(Minted).token;
    let h = hold(&app, &token, &json!({"event_id": ev, "seats": ["A1"]})).json();
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(increment(&app, &format!("exit:{id}:0"), 1), 1);
    let stuck_from = std::time::Instant::now();
    let release =
        || app.call("DELETE", &format!("/api/holds/{id}"), None, &[("authorization", &format!("Bearer {token}"))]);
    assert_503(&release(), "unavailable");
    assert_eq!(app.get_as(&token, &format!("/api/holds/{id}")).json()["status"], "active", "nothing changed");
    assert_eq!(seat_status(&availability(&app, &ev), "A1"), "held");
    // within the grace period (here 3 s, the hold lifetime) it stays so
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(stuck_from.elapsed()));
    assert_503(&release(), "unavailable");
    // a grace period after the claim was first seen stuck: rescued once, then released once
    std::thread::sleep(Duration::from_millis(3600).saturating_sub(stuck_from.elapsed()));
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = release();
        answers.push(r.status);
        if r.status == 204 {
            break;
        }
    }
    assert_eq!(answers.last(), Some(&204), "released after the rescue: {answers:?}");
    assert_eq!(app.get_as(&token, &format!("/api/holds/{id}")).json()["status"], "released");
    assert_eq!(counter(&app, &format!("lock:{ev}:A1")), 0, "the seat's claim was given back once");
    assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1"]})).status, 201);
    availability(&app, &ev);
}
