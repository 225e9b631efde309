//! Phase 4 — hold expiry under load: an app with a short
//! `hold_ttl_seconds`, `expiry_holds` holds on disjoint seats and
//! general-admission places, reader threads polling availability and
//! health, and the booking tick called every `tick_ms` (as the runner's
//! timer would). Measured: the lag from a hold's expiry to the tick that
//! freed it; counted: that every expired hold was freed exactly once (tick
//! reports, hold records, claim counters back to 0) and that every freed
//! seat and place could be held again.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{Invariants, Section};
use crate::rush;
use crate::stats::Samples;
use e2e::accounts::{self, Minted};
use e2e::catalog::Api;
use e2e::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to hold for hold number `i`: 1–4 seats of its own, or (every
/// fourth hold) 1–3 general-admission places.
fn want(ev: &rush::RushEvent, i: usize, next_seat: &mut usize) -> Value {
    if i % 4 == 3 {
        json!({"event_id": ev.id, "tier_id": ev.ga, "quantity": 1 + i % 3})
    } else {
        let q = 1 + i % 4;
        let seats = &ev.seats[*next_seat..*next_seat + q];
        *next_seat += q;
        json!({"event_id": ev.id, "seats": seats})
    }
}

/// Runs the phase on a fresh app (its own `hold_ttl_seconds`).
pub fn run(opts: &Opts, log: &Path, sec: &mut Section, inv: &mut Invariants) {
    let n = opts.expiry_holds;
    let ttl = opts.ttl.to_string();
    let host = Host::start(opts, &[("hold_ttl_seconds", &ttl)], log);
    let api = host.client();
    let org = accounts::organizer(Minted);
    let seats_needed = n * 3 + 25;
    let ga_needed = n; // ≤ 3 places per fourth hold
    let ev = rush::create_event(&api, &org.token, seats_needed.div_ceil(25) * 25, ga_needed.max(3));
    let bodies: Vec<Value> = {
        let mut next = 0;
        (0..n).map(|i| want(&ev, i, &mut next)).collect()
    };

    // Hold everything at once from 4 threads, each hold by its own customer.
    let created = Instant::now();
    let holds: Vec<(String, String, i64)> = std::thread::scope(|s| {
        let parts: Vec<_> = (0..4)
            .map(|k| {
                let (bodies, host) = (&bodies, &host);
                s.spawn(move || {
                    let api = host.client();
                    let mut out = Vec::new();
                    for body in bodies.iter().skip(k).step_by(4) {
                        let user = accounts::customer(Minted);
                        let (status, v) = api.send("POST", "/api/holds", Some(body), Some(&user.token));
                        assert_eq!(status, 201, "expiry phase hold {body}: {v}");
                        let expires = platform::clock::parse_rfc3339(v["expires_at"].as_str().unwrap_or_default())
                            .expect("expires_at");
                        out.push((v["id"].as_str().unwrap_or_default().to_string(), user.token, expires));
                    }
                    out
                })
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().expect("hold thread")).collect()
    });
    sec.row(
        "holds placed (ttl)",
        format!("{} in {:.1} s (hold_ttl_seconds {})", holds.len(), created.elapsed().as_secs_f64(), opts.ttl),
    );
    let last_expiry = holds.iter().map(|h| h.2).max().unwrap_or(0);
    let first_expiry = holds.iter().map(|h| h.2).min().unwrap_or(0);

    // Load + ticks until every hold was reported expired (or a time cap).
    let stop = AtomicBool::new(false);
    let mut sweeps = Samples::default();
    let (mut expired_total, mut first_free_ms, mut all_free_ms) = (0u64, None, None);
    let reads = std::thread::scope(|s| {
        let readers: Vec<_> = (0..opts.expiry_load)
            .map(|k| {
                let (host, stop, ev) = (&host, &stop, &ev);
                s.spawn(move || {
                    let api = host.client();
                    let mut reads = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let path = if k % 2 == 0 {
                            format!("/api/holds/availability/{}", ev.id)
                        } else {
                            "/api/events/health".to_string()
                        };
                        api.send("GET", &path, None, None);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let cap = Instant::now() + Duration::from_secs(opts.ttl + 30);
        while (expired_total as usize) < holds.len() && Instant::now() < cap {
            std::thread::sleep(Duration::from_millis(opts.tick_ms));
            let t = Instant::now();
            let report = host.tick(&api, "/api/bookings/tick");
            sweeps.push(t.elapsed());
            let now = platform::clock::now_ms();
            let expired = report["expired"].as_u64().unwrap_or(0);
            if expired > 0 && first_free_ms.is_none() {
                first_free_ms = Some(now - first_expiry);
            }
            expired_total += expired;
            if expired_total as usize >= holds.len() {
                all_free_ms = Some(now - last_expiry);
            }
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().expect("reader")).sum::<usize>()
    });
    sec.row("readers during expiry (availability + health)", format!("{} threads, {reads} requests", opts.expiry_load));
    sec.row(format!("tick every {} ms: sweep request p50/p95/p99", opts.tick_ms), sweeps.summary());
    let ms = |v: Option<i64>| v.map_or("never".to_string(), |ms| format!("{ms} ms"));
    sec.row("first expiry → first tick that freed a hold", ms(first_free_ms));
    sec.row("last expiry → tick that freed the last hold", ms(all_free_ms));
    sec.row("holds reported expired by ticks", format!("{expired_total} of {}", holds.len()));

    // Exactly once: claim counters all back to 0, every record expired.
    let kv = host.holds_kv(&ev.id, platform::clock::now_ms());
    let locks_nonzero: u64 = kv.locks.iter().filter(|(v, _)| **v != 0).map(|(_, n)| n).sum();
    let ga_nonzero = kv.ga.values().filter(|v| **v != 0).count() as u64;
    let not_expired = holds
        .iter()
        .filter(|(id, token, _)| {
            api.send("GET", &format!("/api/holds/{id}"), None, Some(token)).1["status"] != "expired"
        })
        .count() as u64;

    // Sellable again: the same seats and places, held by someone else.
    let t = Instant::now();
    let mut rehold_failed = 0;
    for body in &bodies {
        let user = accounts::customer(Minted);
        let (status, _) = api.send("POST", "/api/holds", Some(body), Some(&user.token));
        rehold_failed += u64::from(status != 201);
    }
    sec.row(
        "same seats/places held again",
        format!("{} of {} in {:.1} s", bodies.len() as u64 - rehold_failed, bodies.len(), t.elapsed().as_secs_f64()),
    );

    inv.count(
        host.name,
        "expiry.holds_not_reported_expired_exactly_once",
        (expired_total as i64 - holds.len() as i64).unsigned_abs(),
    );
    inv.count(host.name, "expiry.hold_records_not_expired", not_expired);
    inv.count(host.name, "expiry.seat_lock_counters_not_0", locks_nonzero);
    inv.count(host.name, "expiry.ga_counters_not_0", ga_nonzero);
    inv.count(host.name, "expiry.user_counters_not_0", kv.users_nonzero);
    inv.count(host.name, "expiry.freed_seats_not_holdable_again", rehold_failed);
}
