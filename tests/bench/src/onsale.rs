//! Phase 4 — the on-sale at arena size: an arena (sections of an upper
//! and a lower bowl, rows of seats, three price tiers) sold out to the
//! last seat by `onsale_buyers` buyers, while `watchers` simulated seat-map
//! tabs poll the status document the way the frontend does, measured next
//! to two ceilings of the same host in the same run.
//!
//! * **Ceilings** ([`ceiling`]): the same number of clients, closed loop,
//!   for `ceiling_secs` each, against a purpose-built empty component
//!   (`tests/components/bench-empty`) and a component doing one KV write
//!   per request (`tests/components/bench-kv-write`). Every on-sale figure
//!   is printed also as a ratio to them.
//! * **Buyers**: each signs up, then loops until nothing is left: orders of
//!   1–4 tickets, half picked seat by seat from its own view of the map
//!   (the layout document once, then the status document refreshed with
//!   `If-None-Match` when older than the frontend's poll period or after a
//!   409 — the front sections first, adjacent seats of one row), half best
//!   available in a tier that still has places. Each order is hold → book
//!   → pay (sandbox success card); an order whose checkout or payment
//!   fails is released or cancelled as a buyer abandoning it would.
//! * **Watchers** ([`watchers`]): `watchers` tabs, each polling
//!   `GET /api/holds/availability/{event}` every `watch_ms` (the frontend's
//!   `POLL_MS`) with `If-None-Match` and `Accept-Encoding: gzip`, spread
//!   over a few threads; bytes are counted as they come off the wire.
//! * Ticks every second (the hold sweep and every relay), as a timer would.
//!
//! Sell-out time runs from the start barrier until the status document says
//! every seat is sold; the saga is then settled with ticks and the same
//! invariant counts as the rush are taken ([`crate::rush::count_invariants`]).
//! The phase runs twice: at `onsale_small` seats (default 500) and at
//! `onsale_seats` (default 20,000), so hold latency can be compared
//! across venue sizes.
//!
//! Why not `goose`: its users are async tasks on its own tokio runtime
//! with its own report, while this phase needs the harness's blocking
//! clients, shared per-buyer state between steps (hold → booking → payment)
//! and the invariant counts afterwards; it would also add tokio, reqwest
//! and their trees to every CI build of the bench. The loops here are
//! bounded in count and time like every other phase.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{rate, Invariants, Section};
use crate::rush::{self, Buyer, RushEvent};
use crate::stats::Samples;
use base64::Engine;
use e2e::accounts::{self, Minted};
use e2e::catalog::{self, Api, Remote};
use e2e::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// Seats per row of the arena.
const PER_ROW: usize = 25;
/// Rows per section.
const ROWS: usize = 20;
/// The arena's per-customer ticket limit (`order_limit`: tickets one
/// account may hold or buy for the event). Customers are registered before
/// the sale opens, as they are in a real on-sale queue: enough accounts
/// for every seat ([`accounts_needed`]), handed out to the buyer threads;
/// a thread moves to its next account when the next order would pass the
/// limit.
pub const ORDER_LIMIT: usize = 20;

/// Accounts to register for `seats` seats and `buyers` threads: every
/// account stops within 3 tickets of [`ORDER_LIMIT`] (orders are 1–4), plus
/// one spare per thread.
pub fn accounts_needed(seats: usize, buyers: usize) -> usize {
    seats.div_ceil(ORDER_LIMIT - 3) + buyers
}

/// Names of the three price tiers, best first, with their prices (cents)
/// and the share of sections each gets (front sections first).
const TIERS: [(&str, i64, usize); 3] =
    [("Lower Centre", 15000, 20), ("Lower Corner", 9500, 20), ("Upper Bowl", 5500, 60)];

/// What one run of the arena measured, for the ratios and the comparison.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Seats of the arena.
    pub seats: usize,
    /// Hold latencies.
    pub hold: Samples,
    /// Seconds from the start until every seat was sold (`None`: not by the cap).
    pub sold_out: Option<f64>,
}

/// A ceiling: requests per second and latencies of `clients` closed-loop clients.
#[derive(Debug, Clone, Default)]
pub struct Ceiling {
    /// Host CPU milliseconds per request answered.
    pub cpu_ms: f64,
    /// Requests answered 200 per second.
    pub per_sec: f64,
    /// Their latencies.
    pub lat: Samples,
    /// Non-200 answers.
    pub errors: usize,
}

/// Runs both ceilings and the arena at both sizes on `host`.
pub fn run(host: &Host, opts: &Opts, sec: &mut Section, inv: &mut Invariants) {
    let secs = Duration::from_secs(opts.ceiling_secs.max(1));
    let empty = ceiling(host, opts.onsale_buyers, secs, "GET", &|_| "/bench/empty".to_string());
    let kv = ceiling(host, opts.onsale_buyers, secs, "POST", &|k| format!("/bench/kv-write/c{k}"));
    for (name, c) in [("empty component", &empty), ("one KV write", &kv)] {
        sec.row(
            format!("ceiling: {name}, {} clients", opts.onsale_buyers),
            format!(
                "{:.0} req/s; p50 {:.1} / p99 {:.1} ms; host CPU {:.2} ms per request; {} errors",
                c.per_sec,
                c.lat.pct(50.0),
                c.lat.pct(99.0),
                c.cpu_ms,
                c.errors
            ),
        );
    }
    let small = (opts.onsale_small > 0).then(|| arena(host, opts, opts.onsale_small, &empty, &kv, sec, inv));
    let big = arena(host, opts, opts.onsale_seats, &empty, &kv, sec, inv);
    if let Some(small) = small {
        let (a, b) = (big.hold.pct(50.0), small.hold.pct(50.0));
        let (c, d) = (big.hold.pct(99.0), small.hold.pct(99.0));
        sec.row(
            format!("hold latency at {} vs {} seats (target within 1.5×)", big.seats, small.seats),
            format!(
                "p50 {a:.1} vs {b:.1} ms ({:.2}×); p99 {c:.1} vs {d:.1} ms ({:.2}×)",
                a / b.max(0.001),
                c / d.max(0.001)
            ),
        );
    }
}

/// `clients` threads, each on its own keep-alive connection, sending
/// `method path(k)` (k = the client's index) back to back for `for_`.
pub fn ceiling(
    host: &Host,
    clients: usize,
    for_: Duration,
    method: &str,
    path: &(dyn Fn(usize) -> String + Sync),
) -> Ceiling {
    let start = Barrier::new(clients + 1);
    let mut out = Ceiling::default();
    let mut wall = 0.0;
    let cpu0 = host.cpu_secs();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|k| {
                let (start, api) = (&start, host.client());
                s.spawn(move || {
                    let p = path(k);
                    let mut lat = Samples::default();
                    let mut errors = 0;
                    start.wait();
                    let end = Instant::now() + for_;
                    while Instant::now() < end {
                        let t = Instant::now();
                        let (status, _) = api.send(method, &p, None, None);
                        if status == 200 {
                            lat.push(t.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        start.wait();
        let t = Instant::now();
        for h in handles {
            let (lat, e) = h.join().expect("ceiling client");
            out.lat.extend(&lat);
            out.errors += e;
        }
        wall = t.elapsed().as_secs_f64();
    });
    out.per_sec = out.lat.len() as f64 / wall.max(1e-9);
    out.cpu_ms = (host.cpu_secs() - cpu0) * 1000.0 / out.lat.len().max(1) as f64;
    out
}

/// The arena's seat map: `sections` sections of [`ROWS`] rows of
/// [`PER_ROW`]: the first 40 % are the lower bowl (`101`, `102`, …), the
/// rest the upper bowl (`201`, …); rows lettered A, B, … from the front;
/// the two end seats of the front row are wheelchair places. Returns the
/// map and the section codes in order.
pub fn arena_map(sections: usize, rows: usize) -> (Value, Vec<String>) {
    let lower = (sections * 2).div_ceil(5).max(1).min(sections);
    let codes: Vec<String> = (0..sections)
        .map(|i| if i < lower { format!("{}", 101 + i) } else { format!("{}", 201 + i - lower) })
        .collect();
    let list: Vec<Value> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let rows: Vec<Value> = (0..rows)
                .map(|r| {
                    let label = row_label(r);
                    let acc: Vec<usize> = if r == 0 { vec![1, PER_ROW] } else { vec![] };
                    json!({"label": label, "count": PER_ROW, "accessible": acc})
                })
                .collect();
            let level = if i < lower { "Lower Bowl" } else { "Upper Bowl" };
            json!({"code": code, "name": format!("Section {code}"), "level": level, "rows": rows})
        })
        .collect();
    (json!({ "sections": list }), codes)
}

/// `A`…`Z`, then `AA`, `AB`, … (row 0 is `A`).
fn row_label(r: usize) -> String {
    let a = |n: usize| char::from(b'A' + (n % 26) as u8);
    if r < 26 {
        a(r).to_string()
    } else {
        format!("{}{}", a(r / 26 - 1), a(r))
    }
}

/// Creates and publishes an arena of about `seats` seats (whole sections
/// of [`ROWS`] × [`PER_ROW`]; fewer rows per section below 4 sections'
/// worth) in the three [`TIERS`]; order limit [`ORDER_LIMIT`].
fn create_arena(api: &Remote, token: &str, seats: usize) -> (RushEvent, Vec<String>) {
    let per_section = ROWS * PER_ROW;
    let (sections, rows) =
        if seats >= 4 * per_section { (seats / per_section, ROWS) } else { (4, (seats / (4 * PER_ROW)).max(1)) };
    let (map, codes) = arena_map(sections, rows);
    let mut venue = catalog::ga_venue("Bench Arena", "Chicago", "America/Chicago");
    venue["ga_areas"] = json!([]);
    venue["seat_map"] = map;
    let venue_id = catalog::create_venue(api, token, &venue);
    let mut tiers = Vec::new();
    let mut taken = 0;
    for (i, (name, price, share)) in TIERS.iter().enumerate() {
        let n = if i == TIERS.len() - 1 { sections - taken } else { (sections * share / 100).max(1) };
        tiers.push(json!({"name": name, "price_minor": price, "kind": "seated", "sections": codes[taken..taken + n]}));
        taken += n;
    }
    let body = json!({"title": format!("Bench Arena On-sale ({} seats)", sections * rows * PER_ROW), "category": "concert", "venue_id": venue_id,
                      "starts_at": catalog::days_ahead(40, "19:30"), "currency": "USD", "order_limit": ORDER_LIMIT, "tiers": tiers});
    let ev = catalog::create_event(api, token, &body);
    let id = ev["id"].as_str().expect("event id").to_string();
    catalog::publish(api, token, &id);
    let tier_ids: Vec<String> =
        ev["tiers"].as_array().into_iter().flatten().filter_map(|t| t["id"].as_str().map(str::to_string)).collect();
    (RushEvent { id, seated: tier_ids[0].clone(), ga: None, seats: Vec::new() }, tier_ids)
}

/// A buyer's picture of the map: the layout (once) and the last status document.
struct View {
    /// Seat ids in layout order.
    ids: Vec<String>,
    /// Per layout row: the layout indices of its seats, in order.
    rows: Vec<Vec<usize>>,
    /// Tier index of each row (rows are single-tier in this arena).
    row_tier: Vec<usize>,
    /// 2-bit state per seat (0 available).
    states: Vec<u8>,
    /// Tier ids and their `available` counts, layout order.
    tiers: Vec<(String, i64)>,
    /// `totals.available`, `totals.held`.
    totals: (i64, i64),
    etag: Option<String>,
    at: Instant,
}

impl View {
    fn load(api: &Remote, event: &str) -> Option<View> {
        let (st, doc) = api.send("GET", &format!("/api/holds/availability/{event}"), None, None);
        if st != 200 {
            return None;
        }
        let (st, layout) = api.send("GET", doc["layout"]["url"].as_str()?, None, None);
        if st != 200 {
            return None;
        }
        let (mut ids, mut rows, mut row_tier) = (Vec::new(), Vec::new(), Vec::new());
        for r in layout["rows"].as_array()? {
            let seats = r["seats"].as_array()?;
            rows.push((ids.len()..ids.len() + seats.len()).collect());
            row_tier.push(seats.first().and_then(|s| s[5].as_u64()).unwrap_or(0) as usize);
            ids.extend(seats.iter().map(|s| s[0].as_str().unwrap_or_default().to_string()));
        }
        let mut v = View {
            ids,
            rows,
            row_tier,
            states: Vec::new(),
            tiers: Vec::new(),
            totals: (0, 0),
            etag: None,
            at: Instant::now(),
        };
        v.apply(&doc);
        Some(v)
    }

    fn apply(&mut self, doc: &Value) {
        let bits = doc["seats"]["bits"].as_str().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD.decode(bits).unwrap_or_default();
        self.states = (0..self.ids.len()).map(|i| bytes.get(i / 4).map_or(0, |b| (b >> (2 * (i % 4))) & 3)).collect();
        self.tiers = doc["tiers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (t["tier_id"].as_str().unwrap_or_default().to_string(), t["available"].as_i64().unwrap_or(0)))
            .collect();
        self.totals = (doc["totals"]["available"].as_i64().unwrap_or(0), doc["totals"]["held"].as_i64().unwrap_or(0));
        self.etag = doc["version"].as_str().map(|v| format!("\"{v}\""));
        self.at = Instant::now();
    }

    /// Refreshes from the status document (a 304 keeps what it has).
    fn refresh(&mut self, raw: &ureq::Agent, base: &str, event: &str, lat: &mut Samples) {
        let mut req = raw.get(&format!("{base}/api/holds/availability/{event}"));
        if let Some(e) = &self.etag {
            req = req.set("if-none-match", e);
        }
        let t = Instant::now();
        let res = req.call();
        lat.push(t.elapsed());
        if let Ok(r) = res {
            if r.status() == 200 {
                if let Ok(doc) = r.into_json::<Value>() {
                    self.apply(&doc);
                }
            }
        }
        self.at = Instant::now();
    }

    /// Up to `q` adjacent available seats of one row, found from a random
    /// seat of the best tier that still has seats in this view.
    fn pick(&self, q: usize, rng: &mut rush::Rng) -> Option<Vec<String>> {
        let tier = (0..self.tiers.len()).find(|&t| self.tiers[t].1 > 0)?;
        let rows: Vec<usize> = (0..self.rows.len()).filter(|&r| self.row_tier[r] == tier).collect();
        for _ in 0..24 {
            let row = &self.rows[rows[rng.below(rows.len())]];
            let at = rng.below(row.len());
            if self.states[row[at]] != 0 {
                continue;
            }
            let mut lo = at;
            let mut hi = at;
            while hi - lo + 1 < q && hi + 1 < row.len() && self.states[row[hi + 1]] == 0 {
                hi += 1;
            }
            while hi - lo + 1 < q && lo > 0 && self.states[row[lo - 1]] == 0 {
                lo -= 1;
            }
            return Some(row[lo..=hi].iter().map(|&i| self.ids[i].clone()).collect());
        }
        None
    }
}

/// Shared state of one arena run.
struct Run<'a> {
    host: &'a Host,
    opts: &'a Opts,
    event: &'a str,
    tiers: &'a [String],
    /// Seats of the arena.
    capacity: usize,
    /// Set when a buyer saw every seat sold.
    sold_out: AtomicBool,
    sold_out_at: Mutex<Option<f64>>,
    started: Mutex<Option<Instant>>,
    /// Status-document reads by buyers (their own map refreshes).
    buyer_refresh: Mutex<Samples>,
}

/// One buyer thread: registers its share of the accounts, waits at
/// `start`, then buys until the arena is sold out (or the cap). Returns
/// one [`Buyer`] per account (its token, bookings paid); the thread's
/// latencies and counts are in the first.
fn buyer_loop(run: &Run, index: usize, start: &Barrier) -> Vec<Buyer> {
    // every request of this buyer, map refreshes included, to one instance
    // (buyer i to instance i modulo the instances)
    let api = run.host.client_for(index);
    let base = run.host.base_for(index);
    let raw = raw_agent();
    let total = accounts_needed(run.capacity, run.opts.onsale_buyers);
    let mut accounts: Vec<Buyer> =
        (index..total).step_by(run.opts.onsale_buyers).map(|k| rush::sign_up(&api, k + rush::MAX_LOGINS)).collect();
    let mut b = Buyer::default();
    for a in &mut accounts {
        for (k, v) in std::mem::take(&mut a.lat) {
            b.lat.entry(k).or_default().extend(&v);
        }
        for (k, v) in std::mem::take(&mut a.counts) {
            *b.counts.entry(k).or_default() += v;
        }
    }
    accounts.retain(|a| !a.token.is_empty());
    let mut rng = rush::Rng::seeded(index as u64 + 1000);
    let mut view = View::load(&api, run.event);
    start.wait();
    let Some(view) = view.as_mut() else {
        b.count("no availability document");
        accounts.insert(0, b);
        return accounts;
    };
    let mut current = 0;
    let mut tickets = 0;
    let deadline = Instant::now() + Duration::from_secs(run.opts.onsale_cap);
    let mut refresh = Samples::default();
    let poll = Duration::from_millis(run.opts.watch_ms);
    let mut stale = false;
    while !run.sold_out.load(Ordering::Relaxed) {
        if Instant::now() > deadline {
            b.count("stopped by the time cap");
            break;
        }
        if stale || view.at.elapsed() > poll {
            view.refresh(&raw, &base, run.event, &mut refresh);
            stale = false;
        }
        let (available, held) = view.totals;
        if available == 0 {
            if held == 0 {
                run.note_sold_out();
                break;
            }
            // places in others' checkouts: they sell or come back
            std::thread::sleep(Duration::from_millis(100));
            stale = true;
            continue;
        }
        let q = 1 + rng.below(4);
        if tickets + q > ORDER_LIMIT {
            current += 1;
            tickets = 0;
        }
        let Some(token) = accounts.get(current).map(|a| a.token.clone()) else {
            b.count("buyer thread ran out of accounts");
            break;
        };
        let body = if rng.below(2) == 0 {
            match view.pick(q, &mut rng) {
                Some(seats) => json!({"event_id": run.event, "seats": seats}),
                None => {
                    stale = true;
                    continue;
                }
            }
        } else {
            let tier = (0..view.tiers.len())
                .find(|&t| view.tiers[t].1 >= q as i64)
                .or_else(|| (0..view.tiers.len()).find(|&t| view.tiers[t].1 > 0));
            let Some(t) = tier else {
                stale = true;
                continue;
            };
            let q = q.min(view.tiers[t].1.max(1) as usize);
            json!({"event_id": run.event, "tier_id": run.tiers.get(t).unwrap_or(&run.tiers[0]), "quantity": q})
        };
        let t0 = Instant::now();
        let (status, hold) = b.timed("hold", || api.send("POST", "/api/holds", Some(&body), Some(&token)));
        if status != 201 {
            let why = rush::problem(&hold);
            if why == "order-limit" {
                current += 1;
                tickets = 0;
            }
            b.count(format!("hold -> {status} {why}"));
            stale = true;
            continue;
        }
        b.count("holds won");
        tickets += hold["quantity"].as_u64().unwrap_or(1) as usize;
        let hold_id = hold["id"].as_str().unwrap_or_default().to_string();
        let n = hold["quantity"].as_u64().unwrap_or(1) as usize;
        let booking = e2e::booking::booking_body(&hold_id, n);
        let (status, bk) =
            retry(|| b.timed("book", || api.send("POST", "/api/bookings", Some(&booking), Some(&token))));
        if status != 201 {
            b.count(format!("book -> {status} {}", rush::problem(&bk)));
            api.send("DELETE", &format!("/api/holds/{hold_id}"), None, Some(&token));
            tickets -= n;
            continue;
        }
        let id = bk["id"].as_str().unwrap_or_default().to_string();
        let card = e2e::payments::card(e2e::payments::VISA_OK);
        let (status, paid) = retry(|| {
            b.timed("pay", || api.send("POST", &format!("/api/payments/{id}/pay"), Some(&card), Some(&token)))
        });
        if status != 200 || paid["status"] != "succeeded" {
            b.count(format!(
                "pay -> {status} {}",
                paid["status"].as_str().map_or_else(|| rush::problem(&paid), str::to_string)
            ));
            if status == 502 || status == 503 {
                accounts[current].pay_unavailable.push(id.clone());
            }
            api.send("POST", &format!("/api/bookings/{id}/cancel"), Some(&json!({})), Some(&token));
            tickets -= n;
            continue;
        }
        b.count("orders paid");
        b.lat.entry("hold → paid").or_default().push(t0.elapsed());
        accounts[current].paid.push(id);
    }
    run.buyer_refresh.lock().expect("refresh samples").extend(&refresh);
    accounts.insert(0, b);
    accounts
}

impl Run<'_> {
    fn note_sold_out(&self) {
        if !self.sold_out.swap(true, Ordering::Relaxed) {
            let t = self.started.lock().expect("start").map(|s| s.elapsed().as_secs_f64());
            *self.sold_out_at.lock().expect("sold out") = t;
        }
    }
}

/// Sends `f` again (up to 5 times in all, 500 ms apart, the order of the
/// app's `Retry-After: 1`) while it answers 502/503 or no answer: what a
/// client does with "try again, nothing charged".
fn retry(mut f: impl FnMut() -> (u16, Value)) -> (u16, Value) {
    let mut out = f();
    for _ in 0..4 {
        if !matches!(out.0, 0 | 502 | 503) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        out = f();
    }
    out
}

/// A client that hands back bodies as sent (no decompression), so sizes are wire sizes.
fn raw_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
}

/// What the watchers saw.
#[derive(Default)]
struct Watch {
    lat: Samples,
    ok: u64,
    not_modified: u64,
    errors: u64,
    /// Bytes of 200 bodies (as sent, gzip when the app compressed).
    bytes_200: u64,
    /// Largest lateness of a poll behind its schedule, ms.
    late_ms: u64,
}

/// `opts.watchers` tabs polling every `opts.watch_ms` on `threads`
/// threads until `stop`; tab i's first poll is at i/watchers of a period,
/// and all its polls go to `bases[i % bases.len()]` (the instances, each
/// tab on one, as behind a load balancer).
fn watchers(bases: &[String], event: &str, opts: &Opts, stop: &AtomicBool) -> Watch {
    let threads = opts.watchers.clamp(1, 8);
    let period = Duration::from_millis(opts.watch_ms.max(100));
    let late = AtomicU64::new(0);
    let out = Mutex::new(Watch::default());
    std::thread::scope(|s| {
        for k in 0..threads {
            let (out, late) = (&out, &late);
            s.spawn(move || {
                let agent = raw_agent();
                let mine: Vec<usize> = (k..opts.watchers).step_by(threads).collect();
                let urls: Vec<String> = mine
                    .iter()
                    .map(|&i| format!("{}/api/holds/availability/{event}", bases[i % bases.len()]))
                    .collect();
                let t0 = Instant::now();
                let mut due: Vec<Instant> =
                    mine.iter().map(|&i| t0 + period.mul_f64(i as f64 / opts.watchers.max(1) as f64)).collect();
                let mut etags: Vec<Option<String>> = vec![None; mine.len()];
                let mut w = Watch::default();
                while !stop.load(Ordering::Relaxed) {
                    let Some((j, at)) = due.iter().enumerate().min_by_key(|(_, d)| **d).map(|(j, d)| (j, *d)) else {
                        break;
                    };
                    let now = Instant::now();
                    if at > now {
                        std::thread::sleep((at - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    w.late_ms = w.late_ms.max((now - at).as_millis() as u64);
                    let mut req = agent.get(&urls[j]).set("accept-encoding", "gzip");
                    if let Some(e) = &etags[j] {
                        req = req.set("if-none-match", e);
                    }
                    let t = Instant::now();
                    match req.call() {
                        Ok(r) if r.status() == 200 => {
                            etags[j] = r.header("etag").map(str::to_string);
                            let mut body = Vec::new();
                            let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut body);
                            w.lat.push(t.elapsed());
                            w.ok += 1;
                            w.bytes_200 += body.len() as u64;
                        }
                        Ok(r) if r.status() == 304 => {
                            w.lat.push(t.elapsed());
                            w.not_modified += 1;
                        }
                        Err(ureq::Error::Status(304, _)) => {
                            w.lat.push(t.elapsed());
                            w.not_modified += 1;
                        }
                        _ => w.errors += 1,
                    }
                    due[j] = at + period;
                }
                late.fetch_max(w.late_ms, Ordering::Relaxed);
                let mut all = out.lock().expect("watch totals");
                all.lat.extend(&w.lat);
                all.ok += w.ok;
                all.not_modified += w.not_modified;
                all.errors += w.errors;
                all.bytes_200 += w.bytes_200;
            });
        }
    });
    let mut w = out.into_inner().expect("watch totals");
    w.late_ms = late.into_inner();
    w
}

/// Sells out one arena of `seats`; prints into `sec`, counts into `inv`.
fn arena(
    host: &Host,
    opts: &Opts,
    seats: usize,
    empty: &Ceiling,
    kv: &Ceiling,
    sec: &mut Section,
    inv: &mut Invariants,
) -> Figures {
    let api = host.client();
    let org = accounts::organizer(Minted);
    let (ev, tiers) = create_arena(&api, &org.token, seats);
    let (_, doc) = api.send("GET", &format!("/api/holds/availability/{}", ev.id), None, None);
    let capacity = doc["totals"]["capacity"].as_i64().unwrap_or(0);
    let label = format!("arena {capacity}");
    sec.row(
        format!("{label}: event"),
        format!(
            "{capacity} seats in {} tiers; {} buyers, {} watchers every {} ms",
            tiers.len(),
            opts.onsale_buyers,
            opts.watchers,
            opts.watch_ms
        ),
    );
    let first_load = first_load(host, &ev.id);
    sec.row(format!("{label}: event page first load (gzip)"), first_load);

    let run = Run {
        host,
        opts,
        event: &ev.id,
        tiers: &tiers,
        capacity: capacity as usize,
        sold_out: AtomicBool::new(false),
        sold_out_at: Mutex::new(None),
        started: Mutex::new(None),
        buyer_refresh: Mutex::new(Samples::default()),
    };
    let start = Barrier::new(opts.onsale_buyers + 1);
    let stop = AtomicBool::new(false);
    // per instance: the sampled maximum VmRSS and the last VmHWM; then the redis-server's maximum VmRSS
    let mut peak: (Vec<(f64, f64)>, f64) = (Vec::new(), 0.0);
    let mut wall = 0.0;
    let (mut cpu0, mut cpu) = (0.0, 0.0);
    let (buyers, watch) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..opts.onsale_buyers)
            .map(|i| {
                let (run, start) = (&run, &start);
                s.spawn(move || buyer_loop(run, i, start))
            })
            .collect();
        start.wait();
        let t = Instant::now();
        cpu0 = host.cpu_secs();
        *run.started.lock().expect("start") = Some(t);
        let bases: Vec<String> = (0..host.app.instances()).map(|i| host.base_for(i)).collect();
        let (event, stop) = (&ev.id, &stop);
        let watch = s.spawn(move || watchers(&bases, event, opts, stop));
        let ticker = s.spawn(|| {
            let api = host.client();
            while !stop.load(Ordering::Relaxed) {
                for path in rush::TICK_ROUTES {
                    host.tick(&api, path);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        let sampler = s.spawn(|| {
            let mut peak: (Vec<(f64, f64)>, f64) = (vec![(0.0, 0.0); host.app.instances()], 0.0);
            while !stop.load(Ordering::Relaxed) {
                for (p, (rss, hwm, _)) in peak.0.iter_mut().zip(host.instance_rss_mib()) {
                    *p = (p.0.max(rss), hwm);
                }
                peak.1 = peak.1.max(host.redis_rss_mib().unwrap_or(0.0));
                std::thread::sleep(Duration::from_millis(250));
            }
            peak
        });
        let buyers: Vec<Buyer> = handles.into_iter().flat_map(|h| h.join().expect("buyer")).collect();
        wall = t.elapsed().as_secs_f64();
        cpu = host.cpu_secs() - cpu0;
        stop.store(true, Ordering::Relaxed);
        ticker.join().expect("ticker");
        peak = sampler.join().expect("sampler");
        (buyers, watch.join().expect("watchers"))
    });

    let (lat, counts) = rush::totals(&buyers);
    let sold_out = *run.sold_out_at.lock().expect("sold out");
    let (_, doc) = api.send("GET", &format!("/api/holds/availability/{}", ev.id), None, None);
    let sold = doc["totals"]["sold"].as_i64().unwrap_or(0);
    sec.row(
        format!("{label}: sell-out (target < 60 s at 20,000)"),
        match sold_out {
            Some(t) => format!("{t:.1} s, {sold} of {capacity} sold"),
            None => format!("NOT sold out: {sold} of {capacity} sold in {wall:.1} s (cap {} s)", opts.onsale_cap),
        },
    );
    let secs = sold_out.unwrap_or(wall).max(1e-9);
    sec.row(format!("{label}: tickets sold per second"), format!("{:.0}", sold as f64 / secs));
    let holds = lat.get("hold").cloned().unwrap_or_default();
    let hold_rate = holds.len() as f64 / secs;
    sec.row(
        format!("{label}: holds/s (share of the one-KV-write ceiling; target ≥ 50 %)"),
        format!(
            "{hold_rate:.0}/s = {:.1} % of {:.0}/s; {:.1} % of the empty component's {:.0}/s",
            100.0 * hold_rate / kv.per_sec.max(1e-9),
            kv.per_sec,
            100.0 * hold_rate / empty.per_sec.max(1e-9),
            empty.per_sec
        ),
    );
    sec.row(
        format!("{label}: hold p50 / p99 (target p99 < 50 ms)"),
        format!(
            "{:.1} / {:.1} ms = {:.1}× / {:.1}× one KV write's p50/p99 ({:.1} / {:.1} ms); n={}",
            holds.pct(50.0),
            holds.pct(99.0),
            holds.pct(50.0) / kv.lat.pct(50.0).max(1e-9),
            holds.pct(99.0) / kv.lat.pct(99.0).max(1e-9),
            kv.lat.pct(50.0),
            kv.lat.pct(99.0),
            holds.len()
        ),
    );
    let paid = counts.get("orders paid").copied().unwrap_or(0);
    let who = match (host.app.instances(), host.app.redis().is_some()) {
        (1, false) => String::new(),
        (1, true) => ", Spin and redis-server".to_string(),
        (n, _) => format!(", {n} Spin instances and redis-server"),
    };
    sec.row(
        format!("{label}: host CPU during the sale (all requests, watchers included{who})"),
        format!(
            "{cpu:.1} s = {:.0} ms per order paid, {:.1} ms per ticket = {:.0}× one KV write's {:.2} ms, {:.0}× the empty component's {:.2} ms",
            cpu * 1000.0 / paid.max(1) as f64,
            cpu * 1000.0 / sold.max(1) as f64,
            cpu * 1000.0 / sold.max(1) as f64 / kv.cpu_ms.max(1e-9),
            kv.cpu_ms,
            cpu * 1000.0 / sold.max(1) as f64 / empty.cpu_ms.max(1e-9),
            empty.cpu_ms
        ),
    );
    for step in ["book", "pay", "hold → paid"] {
        if let Some(s) = lat.get(step) {
            sec.row(format!("{label}: {step} p50/p95/p99"), s.summary());
        }
    }
    for (k, v) in &counts {
        sec.row(format!("{label}:   {k}"), v.to_string());
    }
    let n_watch = watch.ok + watch.not_modified;
    sec.row(
        format!("{label}: watchers' status polls (target ≤ 8 KB, p50 ≤ 5 ms)"),
        format!(
            "{n_watch} in {wall:.0} s ({}); 200 {} (avg {} B on the wire), 304 {}, errors {}; p50 {:.1} / p99 {:.1} ms = {:.1}× the empty component's p50; worst lateness {} ms",
            rate(n_watch as usize, wall),
            watch.ok,
            watch.bytes_200 / watch.ok.max(1),
            watch.not_modified,
            watch.errors,
            watch.lat.pct(50.0),
            watch.lat.pct(99.0),
            watch.lat.pct(50.0) / empty.lat.pct(50.0).max(1e-9),
            watch.late_ms
        ),
    );
    sec.row(
        format!("{label}: buyers' own map refreshes p50/p95/p99"),
        run.buyer_refresh.lock().expect("refresh").summary(),
    );
    let (rss, hwm): (f64, f64) = peak.0.iter().fold((0.0, 0.0), |(r, h), (r1, h1)| (r + r1, h + h1));
    let mut memory = format!("{rss:.0} MiB; {hwm:.0} MiB");
    if peak.0.len() > 1 {
        memory.push_str(&format!(
            "; per instance {}",
            peak.0.iter().map(|(r, h)| format!("{r:.0} / {h:.0} MiB")).collect::<Vec<_>>().join(", ")
        ));
    }
    if host.app.redis().is_some() {
        memory.push_str(&format!("; redis-server {:.0} MiB", peak.1));
    }
    sec.row(format!("{label}: host RSS during the on-sale, sampled max VmRSS (target < 300 MiB per instance); VmHWM since the host started"), memory);

    let mut buyers = buyers;
    let renewed = buyers.iter_mut().filter(|b| !b.token.is_empty()).map(|b| b.renew(&api)).filter(|ok| !ok).count();
    if renewed > 0 {
        sec.row(
            format!("{label}: accounts whose token could not be renewed (their bookings are not counted from the API)"),
            renewed.to_string(),
        );
    }
    let (db, tickets_db) = rush::settle_saga(host, &api, &ev.id);
    sec.row(format!("{label}: bookings by status after settling"), db.status_line());
    rush::count_invariants(host, &api, &ev, &buyers, &format!("onsale{capacity}"), 0, sec, inv, &db, tickets_db, secs);
    Figures { seats: capacity as usize, hold: holds, sold_out }
}

/// What the event page of the arena downloads on a first visit, as a
/// browser with gzip would: the event's detail, the status document and
/// the layout document (the app shell and its assets are the same for
/// every event, served from `static/` by the edge).
fn first_load(host: &Host, event: &str) -> String {
    let agent = raw_agent();
    let base = &host.app.base;
    let mut total = 0u64;
    let status: Value = agent
        .get(&format!("{base}/api/holds/availability/{event}"))
        .call()
        .ok()
        .and_then(|r| r.into_json().ok())
        .unwrap_or(Value::Null);
    let layout = status["layout"]["url"].as_str().unwrap_or_default().to_string();
    let mut paths = vec![
        ("event detail".to_string(), format!("/api/events/{event}?seat_map=false")),
        ("status".into(), format!("/api/holds/availability/{event}")),
        ("layout".into(), layout),
    ];
    paths.push(("app shell (index.html, JS, CSS, icons)".into(), "/".into()));
    let assets = e2e::workspace_root().join("static");
    for f in files_under(&assets.join("assets")) {
        let rel = f.strip_prefix(&assets).map(|p| p.display().to_string()).unwrap_or_default();
        paths.push(("app shell (index.html, JS, CSS, icons)".into(), format!("/{rel}")));
    }
    let mut by_part: BTreeMap<String, u64> = BTreeMap::new();
    for (name, path) in paths {
        let bytes = agent
            .get(&format!("{base}{path}"))
            .set("accept-encoding", "gzip")
            .call()
            .ok()
            .map(|r| {
                let mut body = Vec::new();
                let _ = std::io::Read::read_to_end(&mut r.into_reader(), &mut body);
                body.len() as u64
            })
            .unwrap_or(0);
        total += bytes;
        *by_part.entry(name).or_default() += bytes;
    }
    let parts: Vec<String> = by_part.iter().map(|(name, b)| format!("{name} {:.0} KB", *b as f64 / 1000.0)).collect();
    format!("{:.0} KB (target ≤ 600 KB): {}", total as f64 / 1000.0, parts.join(", "))
}

/// Every file below `dir`, recursively, sorted.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
