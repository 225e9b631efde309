//! Helpers for the events catalogue: venues, events, seat maps, the
//! real input files under `../shared/data`, and the demo-catalogue seeder
//! used by `cargo xtask up` (through the `seed_catalog` binary).
//!
//! ```no_run
//! use e2e::{accounts, catalog, App};
//! let app = App::spawn();
//! let org = accounts::organizer(accounts::Minted);
//! let venue = catalog::create_venue(&app, &org.token, &catalog::ga_venue("Hall", "Denver", "America/Denver"));
//! ```

use crate::{json, App, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `../shared/data` next to the repository, or `None` with a loud message
/// (tests that need it skip).
pub fn data_dir() -> Option<PathBuf> {
    let dir = crate::workspace_root().join("../shared/data");
    if dir.join("ticketmaster-discovery").is_dir() {
        Some(dir.canonicalize().unwrap_or(dir))
    } else {
        eprintln!("\n*** SKIPPED: {} is absent; the real input files are not here ***\n", dir.display());
        None
    }
}

/// The JSON files of `sub` under the data dir, sorted.
pub fn data_files(data: &Path, sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join(sub))
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Anything that answers API calls: an [`App`] under test or a [`Remote`].
pub trait Api {
    /// Sends a request; returns status and JSON body (`Null` when empty or not JSON).
    fn send(&self, method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value);
}

impl Api for App {
    fn send(&self, method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
        self.call(method, path, body, &headers).status_json()
    }
}

/// A running app at `base` (for the seeder).
pub struct Remote {
    base: String,
    agent: ureq::Agent,
}

impl Remote {
    /// Client for `base` (`http://127.0.0.1:3000`).
    pub fn new(base: &str) -> Remote {
        Remote {
            base: base.trim_end_matches('/').into(),
            agent: ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build(),
        }
    }
}

impl Api for Remote {
    fn send(&self, method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value) {
        let mut req = self.agent.request(method, &format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        let res = match body {
            Some(b) => req.set("content-type", "application/json").send_string(&b.to_string()),
            None => req.call(),
        };
        match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                (status, r.into_json::<Value>().unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({"transport_error": e.to_string()})),
        }
    }
}

/// Every item of a cursor-paginated list at `path` (which has no query or
/// ends its query with `&`-joinable parameters), following `next_cursor`.
pub fn all_pages(api: &impl Api, path: &str, token: Option<&str>) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut page = api.send("GET", path, None, token).1;
    loop {
        items.extend(page["items"].as_array().into_iter().flatten().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => page = api.send("GET", &format!("{path}{sep}cursor={c}"), None, token).1,
            None => return items,
        }
    }
}

/// A general-admission venue body.
pub fn ga_venue(name: &str, city: &str, tz: &str) -> Value {
    json!({"name": name, "address": "1 Main Street", "city": city, "country": if tz.starts_with("Europe/") { "DE" } else { "US" },
           "timezone": tz, "ga_areas": [{"name": "Floor", "capacity": 500}]})
}

/// A seat map of `sections` × `rows` × `per_row` seats, compact form
/// (sections `S1…`, rows `R1…`, seats numbered from 1; the first two seats
/// of every front row accessible).
pub fn grid_seat_map(sections: usize, rows: usize, per_row: usize) -> Value {
    let sections: Vec<Value> = (1..=sections)
        .map(|s| {
            let rows: Vec<Value> = (1..=rows)
                .map(|r| {
                    let acc: Vec<u32> = if r == 1 { vec![1, 2] } else { vec![] };
                    json!({"label": format!("R{r}"), "count": per_row, "accessible": acc})
                })
                .collect();
            json!({"code": format!("S{s}"), "name": format!("Section {s}"), "rows": rows})
        })
        .collect();
    json!({ "sections": sections })
}

/// The seat-map input of one room of the venues file
/// (`venues/unnamed-concert-hall-and-playhouse-seatmaps.json`: levels →
/// sections (`key`) → rows (`row`, `seats` numbers)); empty rows are skipped.
pub fn seat_map_from_file(room: &Value) -> Value {
    let mut sections = Vec::new();
    for level in room["levels"].as_array().into_iter().flatten() {
        for s in level["sections"].as_array().into_iter().flatten() {
            let rows: Vec<Value> = s["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["seats"].as_array().is_some_and(|a| !a.is_empty()))
                .map(|r| json!({"label": r["row"], "seats": r["seats"]}))
                .collect();
            sections.push(json!({"code": s["key"], "name": format!("{} {}", level["name"].as_str().unwrap_or(""), s["key"].as_str().unwrap_or("")), "level": level["name"], "rows": rows}));
        }
    }
    json!({ "sections": sections })
}

/// `POST /api/venues`, asserting 201; returns the id.
pub fn create_venue(api: &impl Api, token: &str, body: &Value) -> String {
    let (status, v) = api.send("POST", "/api/venues", Some(body), Some(token));
    assert_eq!(status, 201, "create venue: {v}");
    v["id"].as_str().expect("venue id").to_string()
}

/// A minimal event body at `venue_id` with one GA tier.
pub fn event_body(venue_id: &str, title: &str, starts_at: &str) -> Value {
    json!({"title": title, "category": "concert", "venue_id": venue_id, "starts_at": starts_at, "currency": "USD",
           "tiers": [{"name": "General", "price_minor": 4500, "kind": "general_admission", "capacity": 100}]})
}

/// `POST /api/events`, asserting 201; returns the event JSON.
pub fn create_event(api: &impl Api, token: &str, body: &Value) -> Value {
    let (status, v) = api.send("POST", "/api/events", Some(body), Some(token));
    assert_eq!(status, 201, "create event: {v}");
    v
}

/// Publishes event `id`, asserting 200.
pub fn publish(api: &impl Api, token: &str, id: &str) {
    let (status, v) = api.send("POST", &format!("/api/events/{id}/publish"), None, Some(token));
    assert_eq!(status, 200, "publish: {v}");
}

/// A local date-time `days` from today at `hh:mm` (`2026-12-01T20:00`).
pub fn days_ahead(days: i64, hhmm: &str) -> String {
    let ms = platform::clock::now_ms() + days * 86_400_000;
    format!("{}T{hhmm}", &platform::clock::rfc3339(ms)[..10])
}

/// What the seeder did.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Records created, updated, unchanged, failed over all imports.
    pub created: u64,
    /// Updated records.
    pub updated: u64,
    /// Unchanged records.
    pub unchanged: u64,
    /// Failed records (reported, not fatal).
    pub failed: u64,
    /// One line per failed record: file, index, external id and reasons.
    pub failures: Vec<String>,
    /// Demo events made through the API.
    pub demo_events: u64,
}

/// Owner of the demo catalogue (a stable id, so re-seeding updates).
pub const DEMO_ORGANIZER: &str = "usr_01demoorganizer000000000000";

/// Loads the demo catalogue into a running app: every Ticketmaster file and
/// every JSON-LD file of `data` through the importers (`shift_to_future`),
/// plus, through the public API, the seat-mapped venues and their events:
/// a 20,000-seat arena, a 300-seat cinema, the concert hall and playhouse of
/// the venues file, and a general-admission festival. Idempotent: imports
/// are keyed by source id, and demo events whose title already exists for
/// the demo organizer are skipped. Without `data` (the shared data folder
/// is absent) only the self-made demo venues and events are seeded.
pub fn seed_demo(api: &impl Api, data: Option<&Path>) -> Result<SeedReport, String> {
    let token = crate::accounts::mint_token(DEMO_ORGANIZER, "organizer");
    let mut report = SeedReport::default();
    for (sub, route) in [("ticketmaster-discovery", "ticketmaster"), ("schema-org", "jsonld")] {
        for file in data.map(|d| data_files(d, sub)).unwrap_or_default() {
            let (status, v) = api.send(
                "POST",
                &format!("/api/events/import/{route}?shift_to_future=true"),
                Some(&read_json(&file)),
                Some(&token),
            );
            if status != 200 {
                return Err(format!("import {}: {status} {v}", file.display()));
            }
            report.created += v["created"].as_u64().unwrap_or(0);
            report.updated += v["updated"].as_u64().unwrap_or(0);
            report.unchanged += v["unchanged"].as_u64().unwrap_or(0);
            report.failed += v["failed"].as_u64().unwrap_or(0);
            for r in v["results"].as_array().into_iter().flatten().filter(|r| r["status"] == "failed") {
                let reasons: Vec<String> = r["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
                    .collect();
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                report.failures.push(format!(
                    "{name} #{} ({}): {}",
                    r["index"],
                    r["external_id"].as_str().unwrap_or("-"),
                    reasons.join("; ")
                ));
            }
        }
    }
    let existing: Vec<String> = all_pages(api, "/api/events/mine?limit=100", Some(&token))
        .iter()
        .filter_map(|e| e["title"].as_str().map(str::to_string))
        .collect();
    for (venue, events) in demo_venues(data) {
        let todo: Vec<&Value> =
            events.iter().filter(|e| !existing.iter().any(|t| Some(t.as_str()) == e["title"].as_str())).collect();
        if todo.is_empty() {
            continue;
        }
        let (status, v) = api.send("POST", "/api/venues", Some(&venue), Some(&token));
        if status != 201 {
            return Err(format!("demo venue {}: {status} {v}", venue["name"]));
        }
        let venue_id = v["id"].as_str().unwrap_or_default().to_string();
        for e in todo {
            let mut body = e.clone();
            body["venue_id"] = json!(venue_id);
            let (status, v) = api.send("POST", "/api/events", Some(&body), Some(&token));
            if status != 201 {
                return Err(format!("demo event {}: {status} {v}", body["title"]));
            }
            let id = v["id"].as_str().unwrap_or_default().to_string();
            let (status, v) = api.send("POST", &format!("/api/events/{id}/publish"), None, Some(&token));
            if status != 200 {
                return Err(format!("publish demo event {}: {status} {v}", body["title"]));
            }
            report.demo_events += 1;
        }
    }
    Ok(report)
}

fn seated(name: &str, price: i64, sections: &[&str]) -> Value {
    json!({"name": name, "price_minor": price, "kind": "seated", "sections": sections})
}

/// The demo venues (bodies) and their events (bodies without `venue_id`).
fn demo_venues(data: Option<&Path>) -> Vec<(Value, Vec<Value>)> {
    let mut out = Vec::new();
    // A 20,000-seat arena: 40 sections × 20 rows × 25 seats (a generated
    // layout, named as a demo venue).
    let arena_sections: Vec<String> = (1..=40).map(|s| format!("S{s}")).collect();
    let lower: Vec<&str> = arena_sections[..16].iter().map(String::as_str).collect();
    let upper: Vec<&str> = arena_sections[16..].iter().map(String::as_str).collect();
    out.push((
        json!({"name": "Boxoffice Demo Arena", "address": "1000 Chopper Circle", "city": "Denver", "region": "CO", "country": "US",
               "timezone": "America/Denver", "latitude": 39.7487, "longitude": -105.0077, "seat_map": grid_seat_map(40, 20, 25)}),
        vec![json!({"title": "Arena Rock Night (demo)", "category": "concert", "performers": ["The Demo Band"],
                    "description": "A full-arena concert on a 20,000-seat reserved seat map.",
                    "starts_at": days_ahead(45, "19:30"), "currency": "USD", "order_limit": 10,
                    "tiers": [seated("Lower Bowl", 8950, &lower), seated("Upper Bowl", 4950, &upper)]})],
    ));
    // A 300-seat cinema: 12 rows × 25 seats in one auditorium.
    out.push((
        json!({"name": "Boxoffice Demo Cinema", "address": "500 Market Street", "city": "San Francisco", "region": "CA", "country": "US",
               "timezone": "America/Los_Angeles", "stage_label": "Screen", "seat_map": {"sections": [{"code": "AUD1", "name": "Auditorium 1",
               "rows": (0..12).map(|r| json!({"label": ((b'A' + r) as char).to_string(), "count": 25})).collect::<Vec<_>>()}]}}),
        ["Metropolis (1927) restored", "Casablanca", "Seven Samurai"]
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({"title": format!("{t} (demo screening)"), "category": "film", "starts_at": days_ahead(10 + i as i64 * 3, "20:00"),
                       "currency": "USD", "tiers": [seated("Reserved", 1400, &["AUD1"])]})
            })
            .collect(),
    ));
    // A general-admission festival.
    out.push((
        json!({"name": "Boxoffice Demo Festival Grounds", "address": "Tempelhofer Feld", "city": "Berlin", "country": "DE",
               "timezone": "Europe/Berlin", "ga_areas": [{"name": "Field", "capacity": 15000}]}),
        vec![json!({"title": "Summer Fields Festival (demo)", "category": "festival", "performers": ["Various artists"],
                    "starts_at": days_ahead(60, "12:00"), "ends_at": days_ahead(60, "23:00"), "currency": "EUR", "order_limit": 6,
                    "tiers": [{"name": "Day Ticket", "price_minor": 7900, "kind": "general_admission", "capacity": 15000}]})],
    ));
    // The concert hall and playhouse of the venues file (unnamed real hall;
    // shown as demo rooms, not as a named venue).
    if let Some(file) = data.and_then(|d| data_files(d, "venues").into_iter().next()) {
        let doc = read_json(&file);
        for room in doc["venues"].as_array().into_iter().flatten() {
            let name = room["name"].as_str().unwrap_or("Room");
            let map = seat_map_from_file(room);
            let codes: Vec<String> = map["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["code"].as_str().map(str::to_string))
                .collect();
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            let (title, category, tz, city) = if name == "Concert Hall" {
                ("Symphony No. 9 — Demo Philharmonic", "concert", "America/Chicago", "Chicago")
            } else {
                ("An Evening of Stand-up (demo)", "comedy", "America/New_York", "Boston")
            };
            out.push((
                json!({"name": format!("Demo {name}"), "city": city, "country": "US", "timezone": tz, "seat_map": map}),
                vec![json!({"title": title, "category": category, "starts_at": days_ahead(30, "19:30"), "currency": "USD",
                            "tiers": [seated("All seats", 3900, &codes)]})],
            ));
        }
    }
    out
}
