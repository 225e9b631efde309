//! Several real Spin instances on one state, as SpinKube replicas behind a
//! load balancer: N = 2 and 3 `spin up` processes on one private
//! `redis-server` (every key-value label) and the same SQLite files (WAL),
//! each request sent to the next instance round-robin
//! ([`App::spawn_instances`]). On it, the race tests: 50 buyers on one
//! seat, general admission at capacity, simultaneous checkouts of one
//! hold, and holds that expire while every instance sweeps every 250 ms —
//! each ending with booking's invariants counted from the Redis keys
//! themselves (all 0). And faults survived mid-rush on 2 instances:
//! `kill -9` of one, a Redis restart, and read-only databases (bookings,
//! then payments), each printing its counts.
//!
//! These need a Spin CLI (`SPIN_BIN`, else `spin` on `PATH`) and Debian's
//! `redis-server` (installed with apt-get when missing), so they are
//! `#[ignore]`d in the per-host passes; `cargo xtask test` runs them in a
//! pass of their own whenever it finds a Spin CLI, and says loudly when it
//! did not. By hand: `SPIN_BIN=/path/to/spin cargo test --release -p e2e
//! --test instances -- --ignored`.
//!
//! `events` and `payments` are played by the booking fixture (see
//! `e2e::booking`).

use e2e::accounts::{customer, Minted};
use e2e::booking::{self as bk, availability, hold, seat_status, tier, TICK_TOKEN};
use e2e::race::at_once;
use e2e::{json, App, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn spawn(n: usize, vars: &[(&str, &str)]) -> App {
    App::spawn_instances(n, Some(&bk::test_manifest()), vars, &[])
}

/// Decodes a counter as Spin's Redis `increment` stores it (decimal text).
fn counter(v: &[u8]) -> i64 {
    std::str::from_utf8(v).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(i64::MIN)
}

/// Booking's invariants for `event`, counted from the `holds/` keys in
/// Redis at `now_ms` (booking's `locks` and `holds` modules): seats in more
/// than one live hold, seat lock counters other than the seat's live
/// owners (0 or 1), general-admission counters other than what live holds
/// hold, allowance counters below 0. Each count must be 0.
fn invariants(app: &App, event: &str, now_ms: i64) -> Vec<(&'static str, u64)> {
    let redis = app.redis().expect("several instances share a redis-server");
    let mut live_seats: HashMap<String, u64> = HashMap::new();
    let mut live_ga: HashMap<String, i64> = HashMap::new();
    for (_, v) in redis.entries("holds/hold:") {
        let rec: Value = serde_json::from_slice(&v).expect("hold record");
        if rec["event_id"] != event {
            continue;
        }
        let live = match rec["status"].as_str() {
            Some("active" | "booked") => rec["expires_ms"].as_i64().unwrap_or(0) > now_ms,
            Some("consumed") => true,
            _ => false,
        };
        if !live {
            continue;
        }
        for s in rec["seats"].as_array().into_iter().flatten() {
            *live_seats.entry(s["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
        for t in rec["tiers"].as_array().into_iter().flatten().filter(|t| t["kind"] == "general_admission") {
            *live_ga.entry(t["tier_id"].as_str().unwrap().to_string()).or_default() += t["quantity"].as_i64().unwrap();
        }
    }
    let lock_prefix = format!("holds/lock:{event}:");
    let bad_locks = redis
        .entries(&lock_prefix)
        .iter()
        .filter(|(k, v)| counter(v) != live_seats.get(&k[lock_prefix.len()..]).map_or(0, |n| (*n).min(1) as i64))
        .count() as u64;
    let ga_prefix = format!("holds/ga:{event}:");
    let bad_ga = redis
        .entries(&ga_prefix)
        .iter()
        .filter(|(k, v)| counter(v) != live_ga.get(&k[ga_prefix.len()..]).copied().unwrap_or(0))
        .count() as u64;
    let negative_users =
        redis.entries(&format!("holds/user:{event}:")).iter().filter(|(_, v)| counter(v) < 0).count() as u64;
    vec![
        ("seats in more than one live hold", live_seats.values().filter(|n| **n > 1).count() as u64),
        ("seat lock counters not equal to their live owners", bad_locks),
        ("general-admission counters not equal to their live holds", bad_ga),
        ("allowance counters below 0", negative_users),
    ]
}

fn assert_invariants(app: &App, event: &str) {
    let counts = invariants(app, event, platform::clock::now_ms());
    eprintln!("{} instances, event {event}: {counts:?}", app.instances());
    assert!(counts.iter().all(|(_, n)| *n == 0), "invariants broken on {} instances: {counts:?}", app.instances());
    availability(app, event);
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn fifty_buyers_on_one_seat_across_instances_exactly_one_wins() {
    for n in [2, 3] {
        let app = spawn(n, &[]);
        let ev = bk::event(&app, 2, 10, 10, |_| {});
        for seat in ["A5", "B1"] {
            let buyers: Vec<String> = (0..50).map(|_| customer(Minted).token).collect();
            let results =
                at_once(50, |i| hold(&app, &buyers[i], &json!({"event_id": ev, "seats": [seat]})).status_json());
            let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
            assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{n} instances, {seat}: {statuses:?}");
            for (status, body) in results.iter().filter(|r| r.0 != 201) {
                assert_eq!((*status, body["type"].as_str()), (409, Some("/problems/seat-unavailable")), "{body}");
            }
            assert_eq!(seat_status(&availability(&app, &ev), seat), "held");
        }
        assert_eq!(tier(&availability(&app, &ev), "tier_s")["held"], 2);
        assert_invariants(&app, &ev);
    }
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn general_admission_across_instances_sells_exactly_capacity() {
    for n in [2, 3] {
        let app = spawn(n, &[]);
        for capacity in [1u32, 5] {
            let ev = bk::event(&app, 0, 0, capacity, |_| {});
            let buyers: Vec<String> = (0..20).map(|_| customer(Minted).token).collect();
            let results = at_once(20, |i| {
                hold(&app, &buyers[i], &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 1})).status_json()
            });
            let won = results.iter().filter(|r| r.0 == 201).count();
            assert_eq!(won, capacity as usize, "{n} instances: {:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
            assert!(
                results.iter().all(|(s, b)| *s == 201 || (*s == 409 && b["type"] == "/problems/sold-out")),
                "{results:?}"
            );
            let t = tier(&availability(&app, &ev), "tier_ga").clone();
            assert_eq!((t["held"].as_i64(), t["available"].as_i64()), (Some(i64::from(capacity)), Some(0)), "{t}");
            assert_invariants(&app, &ev);
        }
    }
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn simultaneous_checkouts_across_instances_make_one_booking() {
    for n in [2, 3] {
        let app = spawn(n, &[]);
        let ev = bk::event(&app, 1, 4, 0, |_| {});
        for round in 1..=3 {
            let seat = format!("A{round}");
            let token = customer(Minted).token;
            let h = hold(&app, &token, &json!({"event_id": ev, "seats": [seat]}));
            assert_eq!(h.status, 201, "{}", h.text());
            let hold_id = h.json()["id"].as_str().unwrap().to_string();
            let results =
                at_once(10, |_| app.post_as(&token, "/api/bookings", &bk::booking_body(&hold_id, 1)).status_json());
            let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
            assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{n} instances, round {round}: {results:?}");
            let created = results.iter().find(|r| r.0 == 201).unwrap().1["id"].clone();
            for (status, body) in &results {
                match status {
                    200 | 201 => assert_eq!(body["id"], created, "the same booking: {body}"),
                    409 | 503 => assert!(body["type"].is_string(), "a problem: {body}"),
                    _ => panic!("{n} instances, round {round}: {status} {body}"),
                }
            }
            let mine = app.get_as(&token, "/api/bookings").json();
            assert_eq!(mine["items"].as_array().unwrap().len(), 1, "exactly one booking: {mine}");
            let h = app.get_as(&token, &format!("/api/holds/{hold_id}")).json();
            assert_eq!((h["status"].as_str(), &h["booking_id"]), (Some("booked"), &created), "{h}");
            hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": [seat]})).assert_problem(409);
        }
        let got = app.get("/fixture/payments/received").json();
        let ordered = got.as_object().unwrap().values().filter(|v| v["type"] == "BookingOrdered").count();
        assert_eq!(ordered, 3, "one BookingOrdered per booking: {got}");
        assert_invariants(&app, &ev);
    }
}

/// `POST /api/bookings/tick` on instance `i`: how many holds it expired.
fn tick_on(app: &App, i: usize) -> u64 {
    let r = ureq::post(&format!("{}/api/bookings/tick", app.instance_base(i)))
        .set("authorization", &format!("Bearer {TICK_TOKEN}"))
        .call()
        .unwrap_or_else(|e| panic!("tick on instance {i}: {e}"));
    let v: Value = serde_json::from_reader(r.into_reader()).expect("tick JSON");
    v["expired"].as_u64().unwrap_or_else(|| panic!("tick answer without expired: {v}"))
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn holds_expiring_while_every_instance_sweeps_are_each_expired_once() {
    for n in [2, 3] {
        let app = spawn(n, &[("hold_ttl_seconds", "2")]);
        let ev = bk::event(&app, 2, 10, 20, |_| {});
        let mut holds = 0u64;
        for row in ["A", "B"] {
            for i in (1..=10).step_by(2) {
                let r = hold(
                    &app,
                    &customer(Minted).token,
                    &json!({"event_id": ev, "seats": [format!("{row}{i}"), format!("{row}{}", i + 1)]}),
                );
                assert_eq!(r.status, 201, "{}", r.text());
                holds += 1;
            }
        }
        for _ in 0..5 {
            let r = hold(&app, &customer(Minted).token, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 3}));
            assert_eq!(r.status, 201, "{}", r.text());
            holds += 1;
        }
        // every instance sweeps every 250 ms until 2 s past the last expiry;
        // no reads meanwhile, so only sweeps expire holds
        let until = Instant::now() + Duration::from_millis(4500);
        let expired: Vec<u64> = std::thread::scope(|s| {
            let app = &app;
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    s.spawn(move || {
                        let mut total = 0;
                        while Instant::now() < until {
                            total += tick_on(app, i);
                            std::thread::sleep(Duration::from_millis(250));
                        }
                        total
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        eprintln!("{n} instances: expired per instance {expired:?} of {holds} holds");
        assert_eq!(expired.iter().sum::<u64>(), holds, "{n} instances: every hold expired exactly once: {expired:?}");
        let avail = availability(&app, &ev);
        assert_eq!(tier(&avail, "tier_s")["available"], 20, "{avail}");
        assert_eq!(tier(&avail, "tier_ga")["available"], 20, "{avail}");
        assert_invariants(&app, &ev);
        // and the freed seats sell again
        assert_eq!(hold(&app, &customer(Minted).token, &json!({"event_id": ev, "seats": ["A1", "B10"]})).status, 201);
        assert_eq!(
            hold(&app, &customer(Minted).token, &json!({"event_id": ev, "tier_id": "tier_ga", "quantity": 8})).status,
            201
        );
        assert_invariants(&app, &ev);
    }
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn ticks_on_three_instances_never_do_a_piece_of_work_twice() {
    use e2e::payments::{self as pay, PROCESSING};
    use e2e::tickets as t;
    use e2e::{accounts, catalog, journey};
    // every instance gets every tick route every 250 ms
    let routes: Vec<String> = ["bookings", "payments", "notifications", "events", "tickets", "users"]
        .iter()
        .map(|s| format!("/api/{s}/tick"))
        .collect();
    let ticks: Vec<(&str, Duration)> = routes.iter().map(|r| (r.as_str(), Duration::from_millis(250))).collect();
    let app = App::spawn_instances(3, None, &[], &ticks);
    let staff = accounts::staff(Minted);
    let purchases: Vec<journey::Purchase> = (0..4)
        .map(|i| {
            journey::unpaid_purchase(
                &app,
                &format!("Ticked {i}"),
                &catalog::days_ahead(20 + i as i64, "20:00"),
                &["Ada Lovelace", "Alan Turing"],
            )
        })
        .collect();
    // the buyers' address confirmations went out at registration; from now
    // on the e-mail provider refuses the first two sends (ticket e-mails:
    // the ticks retry them); the payment provider sends no webhooks, so
    // only the payments tick's reconciliation learns that a processing card
    // succeeded
    for p in &purchases {
        accounts::mailed_tokens(&app, &p.email, accounts::CONFIRM_SUBJECT, "verify-email", 1);
    }
    t::email_faults(&app, json!({"mode": "status", "status": 503, "count": 2}));
    pay::faults(&app, json!({"webhooks": "none"}));
    for p in &purchases {
        let r = pay::pay(&app, &p.buyer.token, &p.booking_id, PROCESSING);
        assert_eq!(r.status, 202, "{}", r.text());
    }
    for p in &purchases {
        let done = t::wait_for(60, || {
            let b = app.get_as(&p.buyer.token, &format!("/api/bookings/{}", p.booking_id)).json();
            (b["status"] == "confirmed" && !t::booking_mail(&app, &p.email).is_empty()).then_some(())
        });
        assert!(done.is_some(), "booking {} confirmed and mailed by the ticks", p.booking_id);
    }
    // more ticks on every instance find nothing left to do twice
    std::thread::sleep(Duration::from_secs(3));
    let requests = t::booking_provider_requests(&app);
    for p in &purchases {
        assert_eq!(t::booking_mail(&app, &p.email).len(), 1, "one ticket e-mail for {}", p.booking_id);
        assert_eq!(
            pay::events(&app, &staff.token, &p.booking_id),
            ["PaymentSucceeded"],
            "reconciled once: {}",
            p.booking_id
        );
        assert_eq!(t::my_tickets(&app, &p.buyer.token, Some(&p.booking_id)).len(), 2, "two tickets, issued once");
        assert_eq!(t::my_messages(&app, &p.buyer.token).len(), 1, "one in-site message");
    }
    let mut accepted: HashMap<String, u32> = HashMap::new();
    for r in requests.iter().filter(|r| r["outcome"] == "accepted") {
        *accepted.entry(r["idempotency_key"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    assert_eq!(accepted.len(), purchases.len(), "one accepted send per booking: {requests:?}");
    assert!(accepted.values().all(|n| *n == 1), "no e-mail accepted twice: {accepted:?}");
    assert_eq!(requests.iter().filter(|r| r["outcome"] == "fault").count(), 2, "the two refusals were retried");
}

/// What one buyer's attempts came to in [`killing_one_of_two_instances_mid_rush_loses_and_double_sells_nothing`].
#[derive(Default, Debug)]
struct Tally {
    won: u64,
    lost: u64,
    cut_off: u64,
    retried_ok: u64,
    bookings: Vec<(String, String)>,
}

/// `POST path` on instance `first`; when the connection fails or the
/// answer is 503 (the instance died, or was dying), the same request again
/// on instance 0, the survivor — a client's retry behind a load balancer.
fn with_retry(app: &App, first: usize, token: &str, path: &str, body: &Value, tally: &mut Tally) -> e2e::Reply {
    let auth = format!("Bearer {token}");
    match app.try_call_on(first, "POST", path, Some(body), &[("authorization", &auth)]) {
        Ok(r) if r.status != 503 => r,
        _ => {
            tally.cut_off += 1;
            let r = app
                .try_call_on(0, "POST", path, Some(body), &[("authorization", &auth)])
                .expect("the survivor answers");
            // served by the survivor: a hold won, or the business answer a
            // live instance gives (409 taken / order limit) — not a 5xx
            if r.status < 500 {
                tally.retried_ok += 1;
            }
            r
        }
    }
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn killing_one_of_two_instances_mid_rush_loses_and_double_sells_nothing() {
    // grace period for orphaned seat locks = hold lifetime = 20 s
    let app = spawn(2, &[("hold_ttl_seconds", "20")]);
    // 200 seats, at most 12 × 12 = 144 bookings: never sold out, so every
    // retry on the survivor can succeed
    let ev = bk::event(&app, 8, 25, 0, |_| {});
    let started = Instant::now();
    let rush_until = started + Duration::from_secs(6);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let app = &app;
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            app.kill_instance(1);
            eprintln!("killed instance 1 (SIGKILL) at {:?}", started.elapsed());
        });
        let buyers: Vec<_> = (0..12)
            .map(|j| {
                let ev = ev.clone();
                s.spawn(move || {
                    let token = customer(Minted).token;
                    let mut tally = Tally::default();
                    let mut k = 0;
                    while Instant::now() < rush_until {
                        k += 1;
                        // best available (general admission's counters are not
                        // recovered after a crash by design: booking `locks` docs)
                        let body = json!({"event_id": ev, "tier_id": "tier_s", "quantity": 1});
                        let r = with_retry(app, (j + k) % 2, &token, "/api/holds", &body, &mut tally);
                        match r.status {
                            201 => tally.won += 1,
                            409 => {
                                tally.lost += 1;
                                continue;
                            }
                            s => panic!("hold: {s} {}", r.text()),
                        }
                        let hold_id = r.json()["id"].as_str().unwrap().to_string();
                        let b = with_retry(
                            app,
                            (j + k + 1) % 2,
                            &token,
                            "/api/bookings",
                            &bk::booking_body(&hold_id, 1),
                            &mut tally,
                        );
                        assert!(b.status == 201 || b.status == 200, "checkout of {hold_id}: {} {}", b.status, b.text());
                        let b = b.json();
                        tally.bookings.push((b["id"].as_str().unwrap().to_string(), token.clone()));
                        if tally.bookings.len() >= 12 {
                            break;
                        }
                    }
                    tally
                })
            })
            .collect();
        buyers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    app.restart_instance(1);
    eprintln!("restarted instance 1 at {:?}", started.elapsed());
    let total = |f: fn(&Tally) -> u64| tallies.iter().map(f).sum::<u64>();
    let bookings: Vec<&(String, String)> = tallies.iter().flat_map(|t| &t.bookings).collect();
    assert!(total(|t| t.cut_off) > 0, "the kill cut some requests off: {tallies:?}");
    assert!(total(|t| t.retried_ok) > 0, "retries on the survivor were served (2xx/4xx): {tallies:?}");
    // every booking is paid now, through the saga, and settles confirmed
    for (id, token) in &bookings {
        let b = app.get_as(token, &format!("/api/bookings/{id}")).json();
        bk::emit(
            &app,
            "PaymentSucceeded",
            json!({"booking_id": id, "payment_id": format!("pay_{id}"), "amount_minor": b["amount_minor"], "currency": b["currency"]}),
        );
    }
    for (id, token) in &bookings {
        let settled = e2e::tickets::wait_for(20, || {
            (app.get_as(token, &format!("/api/bookings/{id}")).json()["status"] == "confirmed").then_some(())
        });
        assert!(settled.is_some(), "booking {id} confirmed");
    }
    // orphaned claims of the requests the kill cut off are recovered after
    // the grace period by the sweeps (both instances ticking)
    let until = Instant::now() + Duration::from_secs(24);
    while Instant::now() < until {
        for i in 0..2 {
            tick_on(&app, i);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let avail = availability(&app, &ev);
    let sold = tier(&avail, "tier_s")["sold"].as_u64().unwrap();
    eprintln!(
        "kill -9 mid-rush on 2 instances: {} holds won, {} lost, {} requests cut off ({} retried on the survivor and succeeded), {} bookings, {} tickets sold",
        total(|t| t.won),
        total(|t| t.lost),
        total(|t| t.cut_off),
        total(|t| t.retried_ok),
        bookings.len(),
        sold
    );
    assert_eq!(sold, bookings.len() as u64, "every booking sold its one ticket, nothing more: {avail}");
    assert_eq!(tier(&avail, "tier_s")["held"], 0, "no seat left held");
    assert_invariants(&app, &ev);
}

/// How the requests of [`a_redis_restart_mid_rush_writes_nothing_half_and_sales_resume_on_restarted_instances`] ended.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// The status, and whether it had `Retry-After` and a problem type.
    Status(u16, bool),
    /// No answer within 10 s.
    NoAnswer,
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn a_redis_restart_mid_rush_writes_nothing_half_and_sales_resume_on_restarted_instances() {
    // What Spin 4.0.2 does (found here): once its Redis connection breaks,
    // every request that touches a Redis-backed store waits forever, even
    // after redis-server is back; a new Spin process works at once. So the
    // answers while Redis is down are "no answer" on Spin 4.0.2 (a host
    // that reports the failure would give the app's 503 + Retry-After,
    // which this test also accepts), and sales resume on instances that
    // were restarted — what spinapp.yaml's liveness probe on a KV-backed
    // health route makes Kubernetes do.
    let app = spawn(2, &[("hold_ttl_seconds", "20")]);
    let ev = bk::event(&app, 8, 25, 0, |_| {});
    let started = Instant::now();
    let (down_at, up_at, rush_until) =
        (Duration::from_millis(1500), Duration::from_millis(3500), Duration::from_secs(5));
    let answers: Vec<(Duration, Answer)> = std::thread::scope(|s| {
        let app = &app;
        s.spawn(move || {
            std::thread::sleep(down_at);
            app.redis().unwrap().kill();
            std::thread::sleep(up_at - down_at);
            app.redis().unwrap().restart().expect("redis-server comes back");
            eprintln!("redis-server down from {down_at:?} to {:?}", started.elapsed());
        });
        let buyers: Vec<_> = (0..8)
            .map(|j| {
                let ev = ev.clone();
                s.spawn(move || {
                    let mut seen = Vec::new();
                    let mut k = j;
                    // a new buyer per attempt (no order limit in the way)
                    while started.elapsed() < rush_until {
                        k += 1;
                        let auth = format!("Bearer {}", customer(Minted).token);
                        let body = json!({"event_id": ev, "tier_id": "tier_s", "quantity": 1});
                        let answer = match app.try_call_on(
                            k % 2,
                            "POST",
                            "/api/holds",
                            Some(&body),
                            &[("authorization", &auth)],
                        ) {
                            Ok(r) => Answer::Status(
                                r.status,
                                r.header("retry-after").is_some() && r.json()["type"].is_string(),
                            ),
                            Err(_) => Answer::NoAnswer,
                        };
                        seen.push((started.elapsed(), answer));
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    seen
                })
            })
            .collect();
        buyers.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let won = answers.iter().filter(|a| matches!(a.1, Answer::Status(201, _))).count();
    let unavailable = answers.iter().filter(|a| matches!(a.1, Answer::Status(503, _))).count();
    let silent = answers.iter().filter(|a| a.1 == Answer::NoAnswer).count();
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.1, Answer::Status(201 | 409, _) | Answer::Status(503, true) | Answer::NoAnswer)),
        "201, 409, 503 with Retry-After, or no answer: {answers:?}"
    );
    assert!(unavailable + silent > 0, "requests while Redis was down failed: {answers:?}");
    // the restarted instance sells again; the other one (never restarted) is left as Spin leaves it
    app.restart_instance(1);
    let mut resumed = 0;
    for _ in 0..5 {
        let r = app.try_call_on(
            1,
            "POST",
            "/api/holds",
            Some(&json!({"event_id": ev, "tier_id": "tier_s", "quantity": 1})),
            &[("authorization", &format!("Bearer {}", customer(Minted).token))],
        );
        let r = r.expect("a restarted instance answers");
        assert_eq!(r.status, 201, "{}", r.text());
        resumed += 1;
    }
    eprintln!(
        "redis restart mid-rush on 2 instances: {} requests: {won} held, {unavailable} answered 503, {silent} never answered (Spin 4.0.2 waits on its broken Redis connection); {resumed} of 5 held on the restarted instance",
        answers.len()
    );
    // nothing half written: seat states held = the 201s; after they expire
    // every seat and lock is free again (locks that failed claims could not
    // give back are recovered after the grace period)
    let on_restarted = |path: &str| app.try_call_on(1, "GET", path, None, &[]).expect("answer");
    let status = on_restarted(&format!("/api/holds/availability/{ev}")).json();
    let held = status["tiers"].as_array().unwrap().iter().find(|t| t["tier_id"] == "tier_s").unwrap()["held"].as_u64();
    assert_eq!(held, Some((won + resumed) as u64), "held = the holds answered 201: {status}");
    let until = Instant::now() + Duration::from_secs(26);
    while Instant::now() < until {
        let r = app
            .try_call_on(1, "POST", "/api/bookings/tick", None, &[("authorization", &format!("Bearer {TICK_TOKEN}"))])
            .expect("tick");
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(500));
    }
    let status = on_restarted(&format!("/api/holds/availability/{ev}")).json();
    let available =
        status["tiers"].as_array().unwrap().iter().find(|t| t["tier_id"] == "tier_s").unwrap()["available"].as_u64();
    assert_eq!(available, Some(200), "{status}");
    let counts = invariants(&app, &ev, platform::clock::now_ms());
    assert!(counts.iter().all(|(_, n)| *n == 0), "{counts:?}");
}

/// `chattr +i` (with `on`) or `-i` on the SQLite database `stem` of the
/// shared state and its `-wal` file. The kernel then refuses every write
/// to them, also to root (`chmod a-w` does not stop root) and also through
/// descriptors opened before: a connection that was open answers a write
/// with SQLITE_IOERR ("disk I/O error"), a new one opens the file
/// read-only and answers SQLITE_READONLY ("attempt to write a readonly
/// database"); reads go on. It stands for a database that cannot take
/// writes for a while: a volume the kernel remounted read-only after I/O
/// errors, a libSQL/Turso database whose writes are blocked.
///
/// The `-shm` file (the WAL's shared-memory index, no data) stays
/// writable: made immutable while a process has it mapped, the kernel
/// kills that process with SIGBUS at its next write to the mapping (found
/// here with Spin and with Python's sqlite3) — a crash, which the kill -9
/// test covers, not the fault this one is about.
///
/// `chattr` needs an ext4 (or similar) file system and
/// CAP_LINUX_IMMUTABLE; the test fails saying so when it is not given.
fn immutable(app: &App, stem: &str, on: bool) {
    for suffix in ["", "-wal"] {
        let path = app.state_dir().join(format!("{stem}.db{suffix}"));
        if !path.exists() {
            continue;
        }
        let out = std::process::Command::new("chattr")
            .arg(if on { "+i" } else { "-i" })
            .arg(&path)
            .output()
            .expect("run chattr");
        assert!(
            out.status.success(),
            "chattr on {} failed (needs CAP_LINUX_IMMUTABLE): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Takes the `chattr +i` of [`immutable`] off again when a test panics
/// while a database is read-only, so the temp dir can be removed.
struct Writable<'a>(&'a App, &'static [&'static str]);

impl Drop for Writable<'_> {
    fn drop(&mut self) {
        for stem in self.1 {
            immutable(self.0, stem, false);
        }
    }
}

/// One answer of [`a_read_only_database_mid_rush_answers_503_and_loses_nothing`].
#[derive(Debug, Clone)]
struct Seen {
    /// When the request was sent and when its answer (or failure) came,
    /// since the rush started.
    at: Duration,
    end: Duration,
    /// `hold`, `checkout`, `pay` or a read (`read availability`, …).
    step: &'static str,
    /// `None`: no answer within 10 s, or the connection failed.
    status: Option<u16>,
    /// The problem `type` of a problem+json answer.
    problem: Option<String>,
    retry_after: bool,
}

/// One thread's requests in the read-only rush: each to the next instance
/// (round-robin from `next`), every answer noted.
struct Client<'a> {
    app: &'a App,
    started: Instant,
    next: usize,
    seen: Vec<Seen>,
}

impl<'a> Client<'a> {
    fn new(app: &'a App, started: Instant, next: usize) -> Self {
        Client { app, started, next, seen: Vec::new() }
    }

    /// `method path` as `token` (10 s limit), noted as `step`.
    fn send(
        &mut self,
        token: &str,
        step: &'static str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Option<e2e::Reply> {
        let auth = format!("Bearer {token}");
        let at = self.started.elapsed();
        self.next += 1;
        let r = self
            .app
            .try_call_on(self.next % self.app.instances(), method, path, body, &[("authorization", &auth)])
            .ok();
        let problem = r
            .as_ref()
            .filter(|r| r.header("content-type").is_some_and(|t| t.starts_with("application/problem+json")))
            .and_then(|r| r.json()["type"].as_str().map(str::to_string));
        let retry_after = r.as_ref().is_some_and(|r| r.header("retry-after").is_some());
        self.seen.push(Seen {
            at,
            end: self.started.elapsed(),
            step,
            status: r.as_ref().map(|r| r.status),
            problem,
            retry_after,
        });
        r
    }
}

/// What one buyer of the read-only rush did.
#[derive(Debug, Default)]
struct Buyer {
    token: String,
    seen: Vec<Seen>,
    /// Bookings whose payment answered 2xx, with when it was sent.
    paid: Vec<(String, Duration)>,
    /// Bookings whose payment answered 503 (told: nothing charged, try again; not retried).
    pay_refused: Vec<String>,
    /// Holds whose checkout answered 503 (left to expire).
    checkout_refused: Vec<String>,
}

/// What the scripted buyers of the read-only rush did.
#[derive(Debug, Default)]
struct Script {
    seen: Vec<Seen>,
    /// `(token, hold id)`: holds checked out while bookings.db was
    /// read-only, then left.
    abandoned: Vec<(String, String)>,
    /// Bookings refused payment while payments.db was read-only and paid
    /// again after.
    repaid: Vec<String>,
    /// `(database, from, to)`: when each database was read-only (from
    /// just before `chattr +i` to just after `chattr -i`).
    windows: Vec<(&'static str, Duration, Duration)>,
}

/// A problem type of a 503 that a storage fault may cause: booking's or
/// payments' database refusing a write (`storage-unavailable`), or payments
/// not yet knowing a booking whose order could not be delivered to it
/// (`unavailable`: "still being set up for payment").
const FAULT_503: [&str; 2] = ["/problems/storage-unavailable", "/problems/unavailable"];

#[test]
#[ignore = "needs a Spin CLI, redis-server and chattr; cargo xtask test runs it in its multi-instance pass"]
fn a_read_only_database_mid_rush_answers_503_and_loses_nothing() {
    use e2e::payments::{self as pay, VISA_OK};
    use e2e::{accounts, catalog};
    // Every instance gets the saga's tick routes every second: expiry
    // sweeps and relay retries (booking), reconciliation and the unpaid
    // holds' PaymentFailed (payments), tickets and e-mail jobs.
    let routes: Vec<String> =
        ["bookings", "payments", "tickets", "notifications"].iter().map(|s| format!("/api/{s}/tick")).collect();
    let ticks: Vec<(&str, Duration)> = routes.iter().map(|r| (r.as_str(), Duration::from_secs(1))).collect();
    let ttl: u64 = 15;
    let app = App::spawn_instances(2, None, &[("hold_ttl_seconds", &ttl.to_string())], &ticks);
    let _writable = Writable(&app, &["bookings", "payments"]);
    // 300 seats, 50 per buyer at most: never sold out, so sales can be
    // seen to resume after each fault
    let org = accounts::organizer(Minted);
    let mut venue = catalog::ga_venue("Read-only Hall", "Denver", "America/Denver");
    venue["ga_areas"] = json!([]);
    venue["seat_map"] = catalog::grid_seat_map(3, 10, 10);
    let venue = catalog::create_venue(&app, &org.token, &venue);
    let ev = catalog::create_event(
        &app,
        &org.token,
        &json!({"title": "Read-only night", "category": "concert", "venue_id": venue, "starts_at": catalog::days_ahead(30, "20:00"), "currency": "USD",
                "order_limit": 50, "tiers": [{"name": "Stalls", "price_minor": 4500, "kind": "seated", "sections": ["S1", "S2", "S3"]}]}),
    );
    let (ev, tier_id) = (ev["id"].as_str().unwrap().to_string(), ev["tiers"][0]["id"].as_str().unwrap().to_string());
    catalog::publish(&app, &org.token, &ev);
    let checkout_body = |hold_id: &str, email: &str| json!({"hold_id": hold_id, "buyer": {"name": "Ada Lovelace", "email": email, "phone": "+14155550100"}, "attendees": [{"name": "Ada Lovelace"}]});
    // a booking made and confirmed before the rush, read back throughout
    let account = accounts::customer(&app);
    let (reader, reader_email) = (account.user(), account.email);
    let h = app.post_as(&reader.token, "/api/holds", &json!({"event_id": ev, "tier_id": tier_id, "quantity": 1}));
    assert_eq!(h.status, 201, "{}", h.text());
    let b =
        app.post_as(&reader.token, "/api/bookings", &checkout_body(h.json()["id"].as_str().unwrap(), &reader_email));
    assert_eq!(b.status, 201, "{}", b.text());
    let read_booking = b.json()["id"].as_str().unwrap().to_string();
    assert_eq!(pay::pay(&app, &reader.token, &read_booking, VISA_OK).status, 200);
    let confirmed = e2e::tickets::wait_for(30, || {
        (app.get_as(&reader.token, &format!("/api/bookings/{read_booking}")).json()["status"] == "confirmed")
            .then_some(())
    });
    assert!(confirmed.is_some(), "the reader's booking is confirmed before the rush");
    let buyers: Vec<(accounts::User, String)> =
        (0..6).map(|_| accounts::customer(&app)).map(|a| (a.user(), a.email)).collect();
    let scripted: Vec<(accounts::User, String)> =
        (0..3).map(|_| accounts::customer(&app)).map(|a| (a.user(), a.email)).collect();

    // The rush: 6 buyers hold one seat, check it out and pay, again and
    // again, round-robin over both instances, for 17 s; bookings.db is
    // read-only from 3 s to 7 s, payments.db from 10 s to 14 s. Beside
    // them, 3 scripted buyers hold a seat just before the first window and
    // check it out inside it (then give up: the hold must come back on
    // sale when it expires), and check a hold out just before the second
    // window, pay inside it (refused: nothing charged) and pay again after
    // it (as a client honouring Retry-After would).
    let plan: [(&'static str, Duration, Duration); 2] = [
        ("bookings", Duration::from_secs(3), Duration::from_secs(7)),
        ("payments", Duration::from_secs(10), Duration::from_secs(14)),
    ];
    let rush = Duration::from_secs(17);
    let started = Instant::now();
    let (tallies, reads, script): (Vec<Buyer>, Vec<Seen>, Script) = std::thread::scope(|s| {
        let app = &app;
        let script = s.spawn(|| {
            let mut out = Script::default();
            let mut client = Client::new(app, started, 0);
            let until = |at: Duration| std::thread::sleep(at.saturating_sub(started.elapsed()));
            for (stem, on, off) in plan {
                until(on.saturating_sub(Duration::from_millis(1500)));
                let mut before = Vec::new();
                for (user, email) in &scripted {
                    let h = client
                        .send(
                            &user.token,
                            "scripted hold",
                            "POST",
                            "/api/holds",
                            Some(&json!({"event_id": ev, "tier_id": tier_id, "quantity": 1})),
                        )
                        .expect("an answer");
                    assert_eq!(h.status, 201, "{}", h.text());
                    let hold_id = h.json()["id"].as_str().unwrap().to_string();
                    if stem == "bookings" {
                        before.push(hold_id);
                        continue;
                    }
                    let c = client
                        .send(
                            &user.token,
                            "scripted checkout",
                            "POST",
                            "/api/bookings",
                            Some(&checkout_body(&hold_id, email)),
                        )
                        .expect("an answer");
                    assert_eq!(c.status, 201, "{}", c.text());
                    before.push(c.json()["id"].as_str().unwrap().to_string());
                }
                until(on);
                let from = started.elapsed();
                immutable(app, stem, true);
                eprintln!("{stem}.db read-only at {from:?}");
                std::thread::sleep(Duration::from_millis(300));
                for ((user, email), id) in scripted.iter().zip(&before) {
                    if stem == "bookings" {
                        client.send(
                            &user.token,
                            "scripted checkout",
                            "POST",
                            "/api/bookings",
                            Some(&checkout_body(id, email)),
                        );
                        out.abandoned.push((user.token.clone(), id.clone()));
                    } else {
                        client.send(
                            &user.token,
                            "scripted pay",
                            "POST",
                            &format!("/api/payments/{id}/pay"),
                            Some(&pay::card(VISA_OK)),
                        );
                    }
                }
                until(off);
                immutable(app, stem, false);
                let to = started.elapsed();
                eprintln!("{stem}.db writable at {to:?}");
                out.windows.push((stem, from, to));
                if stem == "payments" {
                    until(to + Duration::from_millis(600));
                    for ((user, _), id) in scripted.iter().zip(&before) {
                        let r = client.send(
                            &user.token,
                            "scripted pay again",
                            "POST",
                            &format!("/api/payments/{id}/pay"),
                            Some(&pay::card(VISA_OK)),
                        );
                        assert_eq!(
                            r.as_ref().map(|r| r.status),
                            Some(200),
                            "a refused payment succeeds once payments.db is writable: {:?}",
                            r.map(|r| r.text())
                        );
                        out.repaid.push(id.clone());
                    }
                }
            }
            out.seen = client.seen;
            out
        });
        let reader = s.spawn(|| {
            // every read on both instances in turn (3 reads, 2 instances)
            let mut client = Client::new(app, started, 0);
            while started.elapsed() < rush {
                client.send(&reader.token, "read availability", "GET", &format!("/api/holds/availability/{ev}"), None);
                client.send(&reader.token, "read booking", "GET", &format!("/api/bookings/{read_booking}"), None);
                client.send(&reader.token, "read payment", "GET", &format!("/api/payments/{read_booking}"), None);
                std::thread::sleep(Duration::from_millis(300));
            }
            client.seen
        });
        let handles: Vec<_> = buyers
            .iter()
            .enumerate()
            .map(|(j, (user, email))| {
                let (ev, tier_id) = (&ev, &tier_id);
                s.spawn(move || {
                    let mut b = Buyer { token: user.token.clone(), ..Buyer::default() };
                    let mut client = Client::new(app, started, j);
                    while started.elapsed() < rush {
                        let h = client.send(
                            &user.token,
                            "hold",
                            "POST",
                            "/api/holds",
                            Some(&json!({"event_id": ev, "tier_id": tier_id, "quantity": 1})),
                        );
                        if let Some(h) = h.filter(|h| h.status == 201) {
                            let hold_id = h.json()["id"].as_str().unwrap().to_string();
                            match client.send(
                                &user.token,
                                "checkout",
                                "POST",
                                "/api/bookings",
                                Some(&checkout_body(&hold_id, email)),
                            ) {
                                Some(c) if c.status == 201 => {
                                    let id = c.json()["id"].as_str().unwrap().to_string();
                                    match client
                                        .send(
                                            &user.token,
                                            "pay",
                                            "POST",
                                            &format!("/api/payments/{id}/pay"),
                                            Some(&pay::card(VISA_OK)),
                                        )
                                        .map(|r| r.status)
                                    {
                                        Some(200 | 201) => {
                                            b.paid.push((id, client.seen.last().map_or(Duration::ZERO, |s| s.at)))
                                        }
                                        Some(503) => b.pay_refused.push(id),
                                        _ => {}
                                    }
                                }
                                Some(c) if c.status == 503 => b.checkout_refused.push(hold_id),
                                _ => {}
                            }
                        }
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    b.seen = client.seen;
                    b
                })
            })
            .collect();
        (handles.into_iter().map(|h| h.join().unwrap()).collect(), reader.join().unwrap(), script.join().unwrap())
    });
    let all: Vec<&Seen> = tallies.iter().flat_map(|b| &b.seen).chain(&reads).chain(&script.seen).collect();
    // the window a request overlapped, if any
    let windows = &script.windows;
    let window_of = |s: &Seen| windows.iter().find(|(_, from, to)| s.at <= *to && s.end >= *from).map(|w| w.0);
    let count = |f: &dyn Fn(&Seen) -> bool| all.iter().filter(|s| f(s)).count();
    // (step, read-only database or "-", status, problem type) → answers
    type Cell<'a> = (&'a str, &'a str, Option<u16>, Option<&'a str>);
    let mut table: std::collections::BTreeMap<Cell, usize> = Default::default();
    for s in &all {
        *table.entry((s.step, window_of(s).unwrap_or("-"), s.status, s.problem.as_deref())).or_default() += 1;
    }
    eprintln!("answers by (step, read-only database, status, problem type): {table:#?}");
    // every answer is a sale, a business refusal or a 503 problem+json
    // with Retry-After — no 500, no hang
    for s in &all {
        match (s.status, s.problem.as_deref()) {
            (Some(200..=299 | 409 | 410), _) => {}
            (Some(503), Some(kind)) if FAULT_503.contains(&kind) && s.retry_after => {}
            _ => panic!("{s:?}: not a 2xx, 409, 410 or 503 problem+json with Retry-After"),
        }
    }
    // while a database was read-only, the writes it takes were refused
    // with storage-unavailable, and only then; reads went on
    let refused_at = |step: &str, db: &str| {
        count(&|s: &Seen| {
            s.step == step && s.problem.as_deref() == Some("/problems/storage-unavailable") && window_of(s) == Some(db)
        })
    };
    assert!(refused_at("hold", "bookings") > 0, "holds were refused while bookings.db was read-only: {all:?}");
    // the scripted writes inside the windows: refused, storage-unavailable
    let scripted_in_windows: Vec<&Seen> = script
        .seen
        .iter()
        .filter(|s| window_of(s).is_some() && matches!(s.step, "scripted checkout" | "scripted pay"))
        .collect();
    assert_eq!(scripted_in_windows.len(), 6, "{:?}", script.seen);
    for s in &scripted_in_windows {
        assert_eq!(
            (s.status, s.problem.as_deref(), s.retry_after),
            (Some(503), Some("/problems/storage-unavailable"), true),
            "{s:?}"
        );
    }
    // A BookingOrdered delivery refused while payments.db was read-only
    // is retried by the ticks with the relay's backoff (1, 2, 4 s…), so
    // for a few seconds after the window a pay can still find its order
    // not there yet: 503 `unavailable` ("still being set up for payment",
    // nothing charged). Allowed for 8 s after the payments window, no
    // other 503 outside the windows.
    let catching_up = |s: &Seen| {
        s.step == "pay"
            && s.problem.as_deref() == Some("/problems/unavailable")
            && windows.iter().any(|(stem, _, to)| {
                *stem == "payments" && s.at > *to && s.at <= *to + std::time::Duration::from_secs(8)
            })
    };
    let stray: Vec<&&Seen> =
        all.iter().filter(|s| s.status == Some(503) && window_of(s).is_none() && !catching_up(s)).collect();
    assert!(stray.is_empty(), "503 outside the read-only windows: {stray:?}");
    let bad_reads: Vec<&Seen> = reads.iter().filter(|s| s.status != Some(200)).collect();
    assert!(bad_reads.is_empty(), "reads answer while a database is read-only: {bad_reads:?}");
    // sales resumed after each window
    for (stem, _, off) in windows {
        let after = count(&|s: &Seen| s.step == "hold" && s.status == Some(201) && s.at > *off);
        assert!(after > 0, "holds succeed again once {stem}.db is writable");
    }
    let resumed_paid = tallies.iter().flat_map(|b| &b.paid).filter(|(_, at)| *at > windows[1].2).count();
    assert!(resumed_paid > 0, "payments succeed again once payments.db is writable");

    // The saga settles: every booking leaves pending_payment (paid ones
    // are confirmed, unpaid ones expire with their holds), every hold is
    // consumed or given back.
    let bookings_of = |token: &str| {
        catalog::all_pages(&app, "/api/bookings?limit=100", Some(token))
            .into_iter()
            .filter(|x| x["event_id"] == ev.as_str())
            .collect::<Vec<_>>()
    };
    let tokens: Vec<&str> = tallies
        .iter()
        .map(|b| b.token.as_str())
        .chain(scripted.iter().map(|(u, _)| u.token.as_str()))
        .chain([reader.token.as_str()])
        .collect();
    let settled = e2e::tickets::wait_for(ttl + 45, || {
        let pending = tokens.iter().flat_map(|t| bookings_of(t)).filter(|x| x["status"] == "pending_payment").count();
        let held = tier(&availability(&app, &ev), &tier_id)["held"].as_u64().unwrap_or(u64::MAX);
        (pending == 0 && held == 0).then_some(())
    });
    let final_bookings: Vec<Value> = tokens.iter().flat_map(|t| bookings_of(t)).collect();
    let avail = availability(&app, &ev);
    assert!(settled.is_some(), "every booking settled and no seat left held: {}", tier(&avail, &tier_id));

    // invariants, from the API and from the files
    let mut by_status: HashMap<String, u64> = HashMap::new();
    let mut seat_owners: HashMap<String, u64> = HashMap::new();
    for x in &final_bookings {
        *by_status.entry(x["status"].as_str().unwrap_or("?").to_string()).or_default() += 1;
        if x["status"] == "confirmed" {
            for seat in x["seats"].as_array().into_iter().flatten() {
                *seat_owners.entry(seat.as_str().unwrap_or("?").to_string()).or_default() += 1;
            }
        }
    }
    let status_of = |id: &str| {
        final_bookings.iter().find(|x| x["id"] == id).map(|x| x["status"].as_str().unwrap_or("?").to_string())
    };
    let db = |name: &str| {
        rusqlite::Connection::open_with_flags(
            app.state_dir().join(format!("{name}.db")),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open read-only")
    };
    let payments = db("payments");
    let mut succeeded: HashMap<String, (u64, bool)> = HashMap::new();
    let mut st = payments.prepare("SELECT p.booking_id, p.refunded_minor < p.amount_minor FROM payments p JOIN orders o ON o.booking_id = p.booking_id WHERE o.event_id = ?1 AND p.succeeded_ms IS NOT NULL").unwrap();
    for row in st.query_map([&ev], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))).unwrap() {
        let (booking, kept) = row.unwrap();
        let e = succeeded.entry(booking).or_default();
        e.0 += 1;
        e.1 |= kept;
    }
    let bookings_db = db("bookings");
    let sold_rows: i64 =
        bookings_db.query_row("SELECT COUNT(*) FROM sold_seats WHERE event_id = ?1", [&ev], |r| r.get(0)).unwrap();
    let sold_unconfirmed: i64 = bookings_db
        .query_row("SELECT COUNT(*) FROM sold_seats s JOIN bookings b ON b.id = s.booking_id WHERE s.event_id = ?1 AND b.status <> 'confirmed'", [&ev], |r| r.get(0))
        .unwrap();
    let confirmed: Vec<&str> =
        final_bookings.iter().filter(|x| x["status"] == "confirmed").map(|x| x["id"].as_str().unwrap()).collect();
    let paid: Vec<&str> = tallies
        .iter()
        .flat_map(|b| &b.paid)
        .map(|(id, _)| id.as_str())
        .chain(script.repaid.iter().map(String::as_str))
        .collect();
    let pay_refused: Vec<&str> = tallies.iter().flat_map(|b| &b.pay_refused).map(String::as_str).collect();
    let sold = tier(&avail, &tier_id)["sold"].as_u64().unwrap();
    let counts = [
        ("seats sold twice", seat_owners.values().filter(|n| **n > 1).count() as u64),
        (
            "confirmed bookings without exactly one succeeded payment",
            confirmed.iter().filter(|id| succeeded.get(**id).map(|p| p.0) != Some(1)).count() as u64,
        ),
        (
            "paid bookings neither confirmed nor refunded",
            paid.iter()
                .filter(|id| status_of(id).as_deref() != Some("confirmed") && succeeded.get(**id).is_some_and(|p| p.1))
                .count() as u64,
        ),
        (
            "money kept for a booking not confirmed",
            succeeded.iter().filter(|(id, p)| p.1 && !confirmed.contains(&id.as_str())).count() as u64,
        ),
        (
            "payments answered 503 yet charged",
            pay_refused.iter().filter(|id| succeeded.contains_key(**id)).count() as u64,
        ),
        ("sold rows of unconfirmed bookings", sold_unconfirmed as u64),
        (
            "sold seats not the confirmed bookings' seats (API / database)",
            (sold.abs_diff(seat_owners.len() as u64) + (sold_rows as u64).abs_diff(seat_owners.len() as u64)),
        ),
        ("seats left held", tier(&avail, &tier_id)["held"].as_u64().unwrap()),
    ];
    eprintln!(
        "read-only databases mid-rush on 2 instances: {} answers; holds: {} won, {} refused 503 storage-unavailable while bookings.db was read-only; checkouts refused 503 then left: {}; payments refused 503 while payments.db was read-only: {} storage-unavailable, {} unavailable (the order had not reached payments), {} paid again after; {} reads, all 200; bookings by status {by_status:?}; {} paid, {} confirmed, {sold} seats sold; {counts:?}",
        all.len(),
        count(&|s: &Seen| s.step == "hold" && s.status == Some(201)),
        refused_at("hold", "bookings"),
        tallies.iter().map(|b| b.checkout_refused.len()).sum::<usize>() + script.abandoned.len(),
        refused_at("pay", "payments") + refused_at("scripted pay", "payments"),
        count(&|s: &Seen| s.step.ends_with("pay") && s.problem.as_deref() == Some("/problems/unavailable")),
        script.repaid.len(),
        reads.len(),
        paid.len(),
        confirmed.len(),
    );
    assert!(counts.iter().all(|(_, n)| *n == 0), "invariants: {counts:?}");
    // the holds whose checkout was refused came back on sale: expired, no booking made of them
    for (token, hold_id) in &script.abandoned {
        let h = app.get_as(token, &format!("/api/holds/{hold_id}")).json();
        assert!(matches!(h["status"].as_str(), Some("expired" | "freed" | "released")), "{h}");
        assert!(
            final_bookings.iter().all(|x| x["hold_id"] != hold_id.as_str() || x["status"] != "confirmed"),
            "no sale of {hold_id}"
        );
    }
    assert!(
        paid.iter().all(|id| status_of(id).as_deref() == Some("confirmed")),
        "every paid booking confirmed (seats were never short): {by_status:?}"
    );
    let counts = invariants(&app, &ev, platform::clock::now_ms());
    assert!(counts.iter().all(|(_, n)| *n == 0), "{counts:?}");
}
