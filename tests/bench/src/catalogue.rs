//! Phase 2 — the catalogue: search latency over the demo catalogue
//! (`../shared/data`, loaded with the same seeder as `cargo xtask up`) or a
//! generated one, then detail, inventory and availability of an event in a
//! 20,000-seat venue.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{rate, Section};
use crate::stats::Samples;
use e2e::accounts::{self, Minted};
use e2e::catalog::{self, Api, Remote};
use e2e::{json, Value};
use std::time::Instant;

/// Search query strings tried in turn (every filter and sort of
/// `GET /api/events`).
const QUERIES: &[&str] = &[
    "",
    "q=rock",
    "q=symphony",
    "q=festival",
    "q=the+night",
    "city=Denver",
    "category=concert",
    "sort=price",
    "q=live&sort=relevance",
    "price_max=5000",
    "category=sports&sort=price",
    "q=demo&limit=100",
];

/// Loads or generates the catalogue and measures reads.
pub fn run(host: &Host, opts: &Opts, sec: &mut Section) {
    let api = host.client();
    let org = accounts::organizer(Minted);
    let started = Instant::now();
    match catalog::data_dir().filter(|_| opts.seed) {
        Some(data) => {
            let r = catalog::seed_demo(&api, Some(&data)).unwrap_or_else(|e| panic!("demo catalogue: {e}"));
            sec.row(
                "demo catalogue loaded (../shared/data)",
                format!(
                    "{} imported, {} failed, {} demo events in {:.1} s",
                    r.created + r.updated,
                    r.failed,
                    r.demo_events,
                    started.elapsed().as_secs_f64()
                ),
            );
        }
        None => {
            generate(&api, &org.token, opts.gen_events);
            sec.row(
                "generated catalogue",
                format!("{} events in {:.1} s", opts.gen_events, started.elapsed().as_secs_f64()),
            );
        }
    }
    let listed = catalog::all_pages(&api, "/api/events?limit=100", None).len();
    sec.row("published upcoming events listed", listed.to_string());

    let (lat, errors, secs) =
        host.hammer(2, opts.searches, false, |i| format!("/api/events?{}", QUERIES[i % QUERIES.len()]));
    sec.row(format!("search p50/p95/p99 ({} query shapes, 2 clients)", QUERIES.len()), lat.summary());
    sec.row("  throughput", format!("{}, non-200: {errors}", rate(lat.len(), secs)));

    if opts.arena_seats > 0 {
        let id = arena(&api, &org.token, opts.arena_seats);
        for (what, path) in [
            ("event detail (with seat map)", format!("/api/events/{id}")),
            ("inventory (booking contract)", format!("/api/events/{id}/inventory")),
            ("seat availability (every seat's status)", format!("/api/holds/availability/{id}")),
        ] {
            let (lat, bytes) = repeat(&api, &path, 10);
            sec.row(format!("{what}, {} seats", opts.arena_seats), format!("{}  ~{} KiB", lat.summary(), bytes / 1024));
        }
    }
}

/// GETs `path` `n` times; latencies and the size of the last body (as JSON text).
fn repeat(api: &Remote, path: &str, n: usize) -> (Samples, usize) {
    let mut lat = Samples::default();
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let (status, v) = api.send("GET", path, None, None);
        lat.push(t.elapsed());
        assert_eq!(status, 200, "GET {path}: {v}");
        bytes = v.to_string().len();
    }
    (lat, bytes)
}

/// A published event in a venue of `seats` seats (sections of 20 rows × 25):
/// the demo arena when the demo catalogue has it at that size, else a new one.
fn arena(api: &Remote, token: &str, seats: usize) -> String {
    let (_, found) = api.send("GET", "/api/events?q=Arena+Rock+Night", None, None);
    if seats == 20_000 {
        if let Some(id) = found["items"].as_array().into_iter().flatten().find_map(|e| e["id"].as_str()) {
            return id.to_string();
        }
    }
    let sections = seats.div_ceil(500);
    let mut venue = catalog::ga_venue("Bench Arena", "Denver", "America/Denver");
    venue["ga_areas"] = json!([]);
    venue["seat_map"] = catalog::grid_seat_map(sections, 20, 25);
    let venue_id = catalog::create_venue(api, token, &venue);
    let codes: Vec<String> = (1..=sections).map(|s| format!("S{s}")).collect();
    let body = json!({"title": "Bench Arena Night", "category": "concert", "venue_id": venue_id, "starts_at": catalog::days_ahead(40, "19:30"),
                      "currency": "USD", "tiers": [{"name": "Bowl", "price_minor": 6500, "kind": "seated", "sections": codes}]});
    let id = catalog::create_event(api, token, &body)["id"].as_str().expect("event id").to_string();
    catalog::publish(api, token, &id);
    id
}

/// `n` published general-admission events over a few cities and categories.
fn generate(api: &Remote, token: &str, n: usize) {
    let cities = [
        ("Denver", "America/Denver"),
        ("Chicago", "America/Chicago"),
        ("Berlin", "Europe/Berlin"),
        ("Boston", "America/New_York"),
    ];
    let venues: Vec<String> = cities
        .iter()
        .map(|(c, tz)| catalog::create_venue(api, token, &catalog::ga_venue(&format!("{c} Hall"), c, tz)))
        .collect();
    let words = ["rock", "symphony", "night", "live", "festival", "jazz", "comedy", "the"];
    for i in 0..n {
        let title = format!(
            "{} {} {} #{i}",
            words[i % words.len()],
            words[(i / 3) % words.len()],
            ["show", "tour", "evening"][i % 3]
        );
        let mut body =
            catalog::event_body(&venues[i % venues.len()], &title, &catalog::days_ahead(5 + (i % 200) as i64, "20:00"));
        body["category"] = Value::from(["concert", "comedy", "festival", "sports"][i % 4]);
        body["tiers"][0]["price_minor"] = Value::from(1500 + (i % 40) as i64 * 250);
        let id = catalog::create_event(api, token, &body)["id"].as_str().expect("event id").to_string();
        catalog::publish(api, token, &id);
    }
}
