//! Phase 3 — the sale rush: one event (seats + a general-admission tier),
//! `buyers` threads that each register and sign in, wait at a barrier,
//! then race through `attempts` hold → book → pay cycles (explicit seats
//! picked at random from the front rows so buyers collide, best-available
//! seats, general admission), paying with the sandbox's success card.
//! Afterwards the saga is settled with ticks and every invariant of
//! docs/DESIGN.md §4 is counted from the API and the app's own files.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{rate, Invariants, Section};
use crate::stats::Samples;
use crate::store;
use e2e::accounts::{self, Minted};
use e2e::catalog::{self, Api, Remote};
use e2e::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Sign-ins per IP are limited (auth: 50 per 15 minutes); buyers past this
/// index keep the token their registration returned.
pub const MAX_LOGINS: usize = 40;
/// Seats per row of the rush venue.
const PER_ROW: usize = 25;

/// The rush event.
pub struct RushEvent {
    /// `evt_…`
    pub id: String,
    /// The seated tier.
    pub seated: String,
    /// The general-admission tier, when the event has one.
    pub ga: Option<String>,
    /// Seat ids row by row (`S1-R1-1` …).
    pub seats: Vec<String>,
}

/// Creates and publishes the rush event: `seats` (rows of 25, sections of
/// up to 20 rows) in one tier, plus a general-admission tier of `ga`;
/// order limit 50 (the largest allowed).
pub fn create_event(api: &Remote, token: &str, seats: usize, ga: usize) -> RushEvent {
    let rows = (seats / PER_ROW).max(1);
    let (sections, per_section) = if rows.is_multiple_of(20) { (rows / 20, 20) } else { (1, rows) };
    let mut venue = catalog::ga_venue("Bench Rush Hall", "Denver", "America/Denver");
    venue["ga_areas"] = json!([{"name": "Floor", "capacity": ga}]);
    venue["seat_map"] = catalog::grid_seat_map(sections, per_section, PER_ROW);
    let venue_id = catalog::create_venue(api, token, &venue);
    let codes: Vec<String> = (1..=sections).map(|s| format!("S{s}")).collect();
    let body = json!({"title": "Bench Rush Night", "category": "concert", "venue_id": venue_id, "starts_at": catalog::days_ahead(30, "20:00"),
                      "currency": "USD", "order_limit": 50,
                      "tiers": [{"name": "Reserved", "price_minor": 5000, "kind": "seated", "sections": codes},
                                {"name": "Floor", "price_minor": 3000, "kind": "general_admission", "capacity": ga}]});
    let ev = catalog::create_event(api, token, &body);
    let id = ev["id"].as_str().expect("event id").to_string();
    catalog::publish(api, token, &id);
    let tier = |kind: &str| {
        ev["tiers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["kind"] == kind)
            .and_then(|t| t["id"].as_str())
            .expect("tier")
            .to_string()
    };
    let mut ids = Vec::with_capacity(rows * PER_ROW);
    for s in 1..=sections {
        for r in 1..=per_section {
            ids.extend((1..=PER_ROW).map(|n| format!("S{s}-R{r}-{n}")));
        }
    }
    RushEvent { id, seated: tier("seated"), ga: Some(tier("general_admission")), seats: ids }
}

/// A small deterministic generator (xorshift64*), one per buyer.
pub struct Rng(u64);

impl Rng {
    /// The generator of buyer `n` (any n; never the all-zero state).
    pub fn seeded(n: u64) -> Rng {
        Rng(0x9E37_79B9_7F4A_7C15 ^ n.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// A number in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// What one buyer did.
#[derive(Default)]
pub struct Buyer {
    /// Access token (empty when sign-up failed).
    pub token: String,
    /// Refresh token of the same sign-in (empty when sign-up failed).
    pub refresh: String,
    /// Latencies per step (`hold`, `book`, `pay`, …).
    pub lat: BTreeMap<&'static str, Samples>,
    /// Outcomes counted by name (`holds won`, `hold -> 409 …`).
    pub counts: BTreeMap<String, u64>,
    /// Bookings this buyer paid for.
    pub paid: Vec<String>,
    /// Bookings whose pay call answered 502/503 ("retryable, nothing charged").
    pub pay_unavailable: Vec<String>,
}

impl Buyer {
    /// Counts one `what`.
    pub fn count(&mut self, what: impl Into<String>) {
        *self.counts.entry(what.into()).or_default() += 1;
    }

    /// Runs `f`, adding its duration to the latencies of `step`.
    pub fn timed(&mut self, step: &'static str, f: impl FnOnce() -> (u16, Value)) -> (u16, Value) {
        let t = Instant::now();
        let out = f();
        self.lat.entry(step).or_default().push(t.elapsed());
        out
    }
}

/// The last path segment of a problem's `type`.
pub fn problem(v: &Value) -> String {
    v["type"].as_str().and_then(|t| t.rsplit('/').next()).unwrap_or("?").to_string()
}

/// Body of one hold attempt: explicit seats (half, from the front quarter
/// of the rows, so buyers overlap), best available (30 %), or general
/// admission (20 %); 1–4 tickets.
fn hold_body(ev: &RushEvent, rng: &mut Rng) -> Value {
    let q = 1 + rng.below(4);
    match rng.below(10) {
        0..=4 => {
            let hot_rows = (ev.seats.len() / PER_ROW / 4).max(1);
            let start = rng.below(hot_rows) * PER_ROW + rng.below(PER_ROW - q + 1);
            json!({"event_id": ev.id, "seats": ev.seats[start..start + q]})
        }
        5..=7 => json!({"event_id": ev.id, "tier_id": ev.seated, "quantity": q}),
        _ => json!({"event_id": ev.id, "tier_id": ev.ga.as_deref().unwrap_or(&ev.seated), "quantity": q}),
    }
}

impl Buyer {
    /// Swaps the access token for a fresh one through `POST
    /// /api/auth/refresh` (access tokens live 15 minutes, a long on-sale
    /// outlives the ones from registration); true when it worked.
    pub fn renew(&mut self, api: &Remote) -> bool {
        if self.refresh.is_empty() {
            return false;
        }
        let (status, v) = api.send("POST", "/api/auth/refresh", Some(&json!({"refresh_token": self.refresh})), None);
        if status != 200 {
            return false;
        }
        self.token = v["access_token"].as_str().unwrap_or_default().to_string();
        self.refresh = v["refresh_token"].as_str().unwrap_or_default().to_string();
        true
    }
}

/// Every buyer's latencies per step and counts per outcome, summed.
pub fn totals(buyers: &[Buyer]) -> (BTreeMap<&'static str, Samples>, BTreeMap<String, u64>) {
    let mut lat: BTreeMap<&'static str, Samples> = BTreeMap::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for b in buyers {
        for (k, v) in &b.lat {
            lat.entry(*k).or_default().extend(v);
        }
        for (k, v) in &b.counts {
            *counts.entry(k.clone()).or_default() += v;
        }
    }
    (lat, counts)
}

/// Registers buyer `index` (and signs in, for the first [`MAX_LOGINS`]),
/// timing both; a failure is counted and leaves the token empty.
pub fn sign_up(api: &Remote, index: usize) -> Buyer {
    let mut b = Buyer::default();
    let email = accounts::unique_email("bench");
    let body = json!({"email": email, "password": accounts::PASSWORD});
    let (status, v) = b.timed("register", || api.send("POST", "/api/auth/register", Some(&body), None));
    if status == 201 {
        b.token = v["access_token"].as_str().unwrap_or_default().to_string();
        b.refresh = v["refresh_token"].as_str().unwrap_or_default().to_string();
    } else {
        b.count(format!("register -> {status}"));
    }
    if index < MAX_LOGINS && status == 201 {
        let (status, v) = b.timed("login", || api.send("POST", "/api/auth/login", Some(&body), None));
        match status {
            200 => {
                b.token = v["access_token"].as_str().unwrap_or_default().to_string();
                b.refresh = v["refresh_token"].as_str().unwrap_or_default().to_string();
            }
            s => b.count(format!("login -> {s}")),
        }
    }
    b
}

fn buyer(
    host: &Host,
    ev: &RushEvent,
    index: usize,
    opts: &Opts,
    next: &AtomicUsize,
    start: &Barrier,
    deadline: &std::sync::OnceLock<Instant>,
) -> Buyer {
    let api = host.client();
    let mut b = sign_up(&api, index);
    let mut rng = Rng::seeded(index as u64);
    start.wait();
    let deadline = *deadline.get_or_init(|| Instant::now() + Duration::from_secs(opts.time_cap));
    if b.token.is_empty() {
        return b;
    }
    let token = b.token.clone();
    while next.fetch_add(1, Ordering::Relaxed) < opts.attempts {
        if Instant::now() > deadline {
            b.count("attempts skipped (time cap)");
            continue;
        }
        let t0 = Instant::now();
        let body = hold_body(ev, &mut rng);
        let (status, hold) = b.timed("hold", || api.send("POST", "/api/holds", Some(&body), Some(&token)));
        match status {
            201 => b.count("holds won"),
            409 => {
                b.count(format!("holds lost 409 {}", problem(&hold)));
                continue;
            }
            s => {
                b.count(format!("hold -> {s} {}", problem(&hold)));
                continue;
            }
        }
        let n = hold["quantity"].as_u64().unwrap_or(1) as usize;
        let body = e2e::booking::booking_body(hold["id"].as_str().unwrap_or_default(), n);
        let (status, booking) = b.timed("book", || api.send("POST", "/api/bookings", Some(&body), Some(&token)));
        if status != 201 {
            b.count(format!("book -> {status} {}", problem(&booking)));
            continue;
        }
        b.count("bookings created");
        let id = booking["id"].as_str().unwrap_or_default().to_string();
        let card = e2e::payments::card(e2e::payments::VISA_OK);
        let (status, paid) =
            b.timed("pay", || api.send("POST", &format!("/api/payments/{id}/pay"), Some(&card), Some(&token)));
        if status == 502 || status == 503 {
            b.pay_unavailable.push(id.clone());
        }
        if status != 200 || paid["status"] != "succeeded" {
            b.count(format!(
                "pay -> {status} {}",
                paid["status"].as_str().map_or_else(|| problem(&paid), str::to_string)
            ));
            continue;
        }
        b.count("payments succeeded");
        b.lat.entry("hold → paid").or_default().push(t0.elapsed());
        let (_, after) =
            b.timed("booking read", || api.send("GET", &format!("/api/bookings/{id}"), None, Some(&token)));
        if after["status"] == "confirmed" {
            b.count("confirmed when read right after pay");
        }
        b.paid.push(id);
    }
    b
}

/// Runs the rush on `host`, prints into `sec`, counts into `inv`.
pub fn run(host: &Host, opts: &Opts, sec: &mut Section, inv: &mut Invariants) {
    let api = host.client();
    let org = accounts::organizer(Minted);
    let ev = create_event(&api, &org.token, opts.seats, opts.ga);
    sec.row("event", format!("{} seats + {} general admission, order limit 50", ev.seats.len(), opts.ga));
    sec.row(
        "buyers / attempts planned / time cap",
        format!("{} / {} / {} s", opts.buyers, opts.attempts, opts.time_cap),
    );

    let next = AtomicUsize::new(0);
    let barrier = Barrier::new(opts.buyers + 1);
    let deadline = std::sync::OnceLock::new();
    let mut rush_secs = 0.0;
    let buyers: Vec<Buyer> = std::thread::scope(|s| {
        let (ev, next, barrier, deadline) = (&ev, &next, &barrier, &deadline);
        let handles: Vec<_> =
            (0..opts.buyers).map(|i| s.spawn(move || buyer(host, ev, i, opts, next, barrier, deadline))).collect();
        barrier.wait();
        let t = Instant::now();
        let out: Vec<Buyer> = handles.into_iter().map(|h| h.join().expect("buyer thread")).collect();
        rush_secs = t.elapsed().as_secs_f64();
        out
    });

    let (lat, counts) = totals(&buyers);
    let attempts: u64 =
        counts.iter().filter(|(k, _)| k.starts_with("holds ") || k.starts_with("hold ->")).map(|(_, v)| v).sum();
    sec.row("attempts made", format!("{attempts} in {rush_secs:.1} s ({})", rate(attempts as usize, rush_secs)));
    for (k, v) in &counts {
        sec.row(format!("  {k}"), v.to_string());
    }
    for step in ["register", "login", "hold", "book", "pay", "booking read", "hold → paid"] {
        if let Some(s) = lat.get(step) {
            sec.row(format!("latency {step} p50/p95/p99"), s.summary());
        }
    }

    let settle = Instant::now();
    let (db_bookings, tickets_db) = settle_saga(host, &api, &ev.id);
    sec.row("saga settled after", format!("{:.1} s of ticks", settle.elapsed().as_secs_f64()));
    sec.row("bookings by status", db_bookings.status_line());

    count_invariants(host, &api, &ev, &buyers, "rush", opts.ga as i64, sec, inv, &db_bookings, tickets_db, rush_secs);
    sec.row("host RSS after the rush (VmRSS / VmHWM)", host.rss_text());
}

/// The tick routes a timer sends during a sale: the hold sweep and every
/// saga relay.
pub const TICK_ROUTES: [&str; 4] =
    ["/api/bookings/tick", "/api/payments/tick", "/api/tickets/tick", "/api/notifications/tick"];

/// Settles the saga of `event` with ticks, as a timer would send them,
/// until every sold place has its ticket and no booking awaits payment (or
/// 30 s); returns the bookings and valid tickets read from the app's files.
pub fn settle_saga(host: &Host, api: &Remote, event: &str) -> (store::Bookings, i64) {
    let settle = Instant::now();
    loop {
        for path in TICK_ROUTES {
            host.tick(api, path);
        }
        let db = store::bookings(&host.db_path("bookings"), event);
        let tickets = store::valid_tickets(&host.db_path("tickets"), event);
        let sold_db = db.sold_seats + db.sold_ga.values().sum::<i64>();
        if (tickets == sold_db && db.by_status.get("pending_payment").copied().unwrap_or(0) == 0)
            || settle.elapsed() > Duration::from_secs(30)
        {
            return (db, tickets);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Counts docs/DESIGN.md §4's invariants for `ev`, named `<prefix>.<invariant>`;
/// `ga_cap` is the general-admission capacity (ignored without a GA tier).
#[allow(clippy::too_many_arguments)]
pub fn count_invariants(
    host: &Host,
    api: &Remote,
    ev: &RushEvent,
    buyers: &[Buyer],
    prefix: &str,
    ga_cap: i64,
    sec: &mut Section,
    inv: &mut Invariants,
    db: &store::Bookings,
    tickets_db: i64,
    rush_secs: f64,
) {
    // The API: every buyer's bookings and tickets, and the availability document.
    let mut seat_owners: HashMap<String, u64> = HashMap::new();
    let (mut confirmed_api, mut ga_api, mut tickets_api) = (0u64, 0i64, 0i64);
    let (mut paid_not_confirmed, mut told_retry_but_charged) = (0, 0);
    for b in buyers.iter().filter(|b| !b.token.is_empty()) {
        let mine = catalog::all_pages(api, "/api/bookings?limit=100", Some(&b.token));
        for bk in mine.iter().filter(|bk| bk["event_id"] == ev.id.as_str()) {
            if bk["status"] == "confirmed" {
                confirmed_api += 1;
                for s in bk["seats"].as_array().into_iter().flatten() {
                    *seat_owners.entry(s.as_str().unwrap_or("?").to_string()).or_default() += 1;
                }
                ga_api += bk["tiers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|t| t["kind"] == "general_admission")
                    .map(|t| t["quantity"].as_i64().unwrap_or(0))
                    .sum::<i64>();
            } else if b.paid.iter().any(|p| bk["id"] == p.as_str()) {
                paid_not_confirmed += 1;
            }
            if bk["status"] == "confirmed" && b.pay_unavailable.iter().any(|p| bk["id"] == p.as_str()) {
                told_retry_but_charged += 1;
            }
        }
        let tickets = catalog::all_pages(api, &format!("/api/tickets?event_id={}&limit=100", ev.id), Some(&b.token));
        tickets_api += tickets.iter().filter(|t| t["status"] == "valid").count() as i64;
    }
    let (status, avail) = api.send("GET", &format!("/api/holds/availability/{}", ev.id), None, None);
    assert_eq!(status, 200, "availability: {avail}");
    let mut tier_mismatch = 0;
    let mut sold_api = 0;
    let mut ga_sold_avail = 0;
    for t in avail["tiers"].as_array().into_iter().flatten().chain(std::iter::once(&avail["totals"])) {
        let n = |k: &str| t[k].as_i64().unwrap_or(-1);
        if n("sold") < 0
            || n("held") < 0
            || n("available") < 0
            || n("sold") + n("held") + n("available") != n("capacity")
        {
            tier_mismatch += 1;
        }
        if ev.ga.as_deref().is_some_and(|ga| t["tier_id"] == ga) {
            ga_sold_avail = n("sold");
        }
    }
    if let Some(t) = avail["totals"].as_object() {
        sold_api = t.get("sold").and_then(Value::as_i64).unwrap_or(0);
    }
    let seats_sold = sold_api - ga_sold_avail;
    sec.row("confirmed bookings (API / database)", format!("{confirmed_api} / {}", db.confirmed.len()));
    sec.row("sold: seats / general admission (of capacity)", format!("{seats_sold} / {ga_sold_avail}/{ga_cap}"));
    sec.row("tickets issued (API / database)", format!("{tickets_api} / {tickets_db}"));
    sec.row("tickets sold per second of rush", rate(sold_api.max(0) as usize, rush_secs));
    sec.row("paid by a buyer but not confirmed (compensated)", paid_not_confirmed.to_string());
    sec.row("pay answered 502/503 (\"nothing charged\") yet confirmed", told_retry_but_charged.to_string());

    // The app's files: payments, live holds, claim counters.
    let pays = store::payments(&host.db_path("payments"), &ev.id);
    let holds = host.holds_kv(&ev.id, platform::clock::now_ms());
    let mut hs: Vec<_> = holds.by_status.iter().collect();
    hs.sort();
    sec.row("hold records by status", hs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    let cap = ga_cap;
    let db_ga = ev.ga.as_ref().and_then(|ga| db.sold_ga.get(ga)).copied().unwrap_or(0);
    let bad_locks: u64 = holds.locks.iter().filter(|(v, _)| !(0..=1).contains(*v)).map(|(_, n)| n).sum();
    let confirmed_bad_pay =
        db.confirmed.iter().filter(|id| pays.succeeded.get(*id).copied().unwrap_or(0) != 1).count() as u64;
    let money_kept = pays.kept.keys().filter(|b| !db.confirmed.contains(b)).count() as u64;

    inv.count(
        host.name,
        &format!("{prefix}.seats_sold_twice_api"),
        seat_owners.values().filter(|n| **n > 1).count() as u64,
    );
    inv.count(host.name, &format!("{prefix}.seats_sold_twice_db"), db.seats_in_two_confirmed);
    inv.count(
        host.name,
        &format!("{prefix}.ga_sold_beyond_capacity"),
        [(ga_api - cap).max(0), (ga_sold_avail - cap).max(0), (db_ga - cap).max(0)].into_iter().max().unwrap_or(0)
            as u64,
    );
    inv.count(host.name, &format!("{prefix}.seats_in_more_than_one_live_hold"), holds.seats_in_two_live);
    inv.count(host.name, &format!("{prefix}.seat_lock_counters_not_0_or_1"), bad_locks);
    inv.count(host.name, &format!("{prefix}.confirmed_without_exactly_one_succeeded_payment"), confirmed_bad_pay);
    inv.count(host.name, &format!("{prefix}.unconfirmed_booking_keeps_money"), money_kept);
    inv.count(host.name, &format!("{prefix}.tickets_minus_sold_api"), (tickets_api - sold_api).unsigned_abs());
    inv.count(
        host.name,
        &format!("{prefix}.tickets_minus_sold_db"),
        (tickets_db - db.sold_seats - db.sold_ga.values().sum::<i64>()).unsigned_abs(),
    );
    inv.count(
        host.name,
        &format!("{prefix}.sold_rows_of_unconfirmed_bookings"),
        db.sold_rows_of_unconfirmed.max(0) as u64,
    );
    inv.count(host.name, &format!("{prefix}.tiers_sold_held_available_not_capacity"), tier_mismatch);
}
