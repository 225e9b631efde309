//! Availability an edge can serve, and booking's own copy of what it
//! sells, across the real `events` and `booking` components: an arena's
//! layout served once with caching headers, its live status a few KB that
//! revalidates to 304, compression of large answers, best available at the
//! centre of the front row, holds that cost the same at 500 and 20,000
//! seats, and an organizer's edit that reaches booking before the next
//! hold.

use e2e::accounts::{self, organizer, Minted};
use e2e::booking::{self as bk, decode_seats};
use e2e::catalog::{self, create_event, create_venue, days_ahead, publish};
use e2e::{json, App, Reply, Value};
use std::time::Instant;

/// A published event at a new venue of `sections` × `rows` × `per_row`
/// seats: tier "Lower" (the first half of the sections), "Upper" (the
/// rest) and a general-admission "Floor" of 2,000. Returns (event id, its
/// detail).
fn grid_event(app: &App, org: &accounts::User, sections: usize, rows: usize, per_row: usize) -> (String, Value) {
    let venue = create_venue(
        app,
        &org.token,
        &json!({"name": format!("Grid {sections}x{rows}x{per_row}"), "city": "Denver", "country": "US", "timezone": "America/Denver",
                "seat_map": catalog::grid_seat_map(sections, rows, per_row)}),
    );
    let half = sections.div_ceil(2);
    let lower: Vec<String> = (1..=half).map(|s| format!("S{s}")).collect();
    let upper: Vec<String> = (half + 1..=sections).map(|s| format!("S{s}")).collect();
    let mut tiers = vec![json!({"name": "Lower", "price_minor": 9000, "kind": "seated", "sections": lower})];
    if !upper.is_empty() {
        tiers.push(json!({"name": "Upper", "price_minor": 4000, "kind": "seated", "sections": upper}));
    }
    tiers.push(json!({"name": "Floor", "price_minor": 12000, "kind": "general_admission", "capacity": 2000}));
    let ev = create_event(
        app,
        &org.token,
        &json!({"title": "Arena Night", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "19:30"), "currency": "USD",
                "order_limit": 8, "tiers": tiers}),
    );
    let id = ev["id"].as_str().unwrap().to_string();
    publish(app, &org.token, &id);
    (id, ev)
}

fn status_path(id: &str) -> String {
    format!("/api/holds/availability/{id}")
}

fn seat_ids(hold: &Value) -> Vec<String> {
    hold["seats"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.header(name).unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers))
}

#[test]
fn an_arenas_layout_is_cached_once_and_its_status_is_a_few_kb_that_revalidates() {
    let app = App::spawn();
    let org = organizer(Minted);
    let (id, ev) = grid_event(&app, &org, 40, 20, 25);
    let lower = ev["tiers"][0]["id"].as_str().unwrap().to_string();

    // the status document: small, short-lived in caches, revalidated by ETag
    let t = Instant::now();
    let s = app.get(&status_path(&id));
    let first_ms = t.elapsed().as_millis();
    assert_eq!(s.status, 200, "{}", s.text());
    assert_eq!(header(&s, "cache-control"), "public, max-age=1");
    let etag = header(&s, "etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    let status = s.json();
    assert_eq!(status["version"].as_str().map(|v| format!("\"{v}\"")), Some(etag.clone()));
    assert_eq!(status["layout"]["seat_count"], 20_000);
    assert!(s.body.len() <= 8 * 1024, "status of 20,000 seats is {} bytes", s.body.len());
    assert_eq!(status["totals"]["capacity"], 22_000);
    let gz = app.call("GET", &status_path(&id), None, &[("accept-encoding", "gzip")]);
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert_eq!(header(&gz, "vary"), "Accept-Encoding");
    let unzipped: Value = serde_json::from_slice(&platform::compress::gunzip(&gz.body).unwrap()).unwrap();
    let without_time = |mut v: Value| {
        v.as_object_mut().unwrap().remove("as_of");
        v
    };
    assert!(without_time(unzipped) == without_time(status.clone()), "the same document compressed");
    let t = Instant::now();
    let again = app.call("GET", &status_path(&id), None, &[("if-none-match", &etag)]);
    let revalidate_ms = t.elapsed().as_millis();
    assert_eq!(again.status, 304, "{}", again.text());
    assert!(again.body.is_empty());
    assert_eq!(header(&again, "etag"), etag);

    // the layout: once per version, immutable, compressed for those who accept it
    let url = status["layout"]["url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/api/holds/layout/{id}/{}", status["layout"]["version"]));
    let plain = app.get(&url);
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(header(&plain, "cache-control"), "public, max-age=31536000, immutable");
    let layout_tag = header(&plain, "etag").to_string();
    let zipped = app.call("GET", &url, None, &[("accept-encoding", "gzip, br")]);
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert!(platform::compress::gunzip(&zipped.body).unwrap() == plain.body, "the same layout compressed");
    assert_eq!(app.call("GET", &url, None, &[("if-none-match", &layout_tag)]).status, 304);
    let layout = plain.json();
    let seats = decode_seats(&layout, &status);
    assert_eq!(seats.len(), 20_000);
    assert!(seats.iter().all(|s| s["status"] == "available"));
    let stale = format!("/api/holds/layout/{id}/{}", status["layout"]["version"].as_i64().unwrap() + 1);
    app.get(&stale).assert_problem(404);
    app.get(&format!("/api/holds/layout/{id}/latest")).assert_problem(422);
    eprintln!(
        "BENCH arena availability: status {} B ({} B gzip), first {first_ms} ms, 304 in {revalidate_ms} ms; layout {} KB ({} KB gzip)",
        s.body.len(),
        gz.body.len(),
        plain.body.len() / 1024,
        zipped.body.len() / 1024
    );

    // best available: the middle of the front row nearest the stage's centre
    let buyer = accounts::customer(Minted);
    let h = app.post_as(&buyer.token, "/api/holds", &json!({"event_id": id, "tier_id": lower, "quantity": 4}));
    assert_eq!(h.status, 201, "{}", h.text());
    let got = seat_ids(&h.json());
    assert_eq!(
        got,
        ["S3-R1-11", "S3-R1-12", "S3-R1-13", "S3-R1-14"],
        "sections S1-S5 share the front line; S3 is under the stage"
    );
    let h2 = app.post_as(
        &accounts::customer(Minted).token,
        "/api/holds",
        &json!({"event_id": id, "tier_id": lower, "quantity": 4}),
    );
    assert_eq!(h2.status, 201, "{}", h2.text());
    let next = seat_ids(&h2.json());
    assert!(next.iter().all(|s| s.starts_with("S3-R1-")), "the same row while it has room: {next:?}");

    // the held seats show in the bits; the old ETag no longer matches
    let changed = app.call("GET", &status_path(&id), None, &[("if-none-match", &etag)]);
    assert_eq!(changed.status, 200);
    assert_ne!(header(&changed, "etag"), etag);
    let status = changed.json();
    let seats = decode_seats(&layout, &status);
    let held: Vec<&str> = seats.iter().filter(|s| s["status"] == "held").map(|s| s["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = got.iter().chain(&next).map(String::as_str).collect();
    want.sort();
    let mut held_sorted = held.clone();
    held_sorted.sort();
    assert_eq!(held_sorted, want);
    assert_eq!(status["tiers"][0]["held"], 8);
}

/// One timed explicit hold of `seat` at `event` by a fresh buyer, ms.
fn hold_ms(app: &App, event: &str, seat: &str) -> f64 {
    let buyer = accounts::customer(Minted);
    let t = Instant::now();
    let r = app.post_as(&buyer.token, "/api/holds", &json!({"event_id": event, "seats": [seat]}));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status, 201, "{}", r.text());
    ms
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn a_hold_costs_what_it_holds_not_what_the_venue_has() {
    let app = App::spawn();
    let org = organizer(Minted);
    let (small, _) = grid_event(&app, &org, 2, 10, 25);
    let (arena, _) = grid_event(&app, &org, 40, 20, 25);
    // warm both copies (booking copies each event once, on first use)
    for ev in [&small, &arena] {
        assert_eq!(app.get(&status_path(ev)).status, 200);
    }
    // alternate the two venues so that load on the machine hits both alike
    let (mut at_small, mut at_arena) = (Vec::new(), Vec::new());
    for row in 2..=4 {
        for n in 1..=15 {
            let seat = format!("S1-R{row}-{n}");
            at_small.push(hold_ms(&app, &small, &seat));
            at_arena.push(hold_ms(&app, &arena, &seat));
        }
    }
    let (small_ms, arena_ms) = (median(at_small), median(at_arena));
    eprintln!(
        "BENCH hold latency (median of 45 alternating, one seat each): 500 seats {small_ms:.1} ms, 20,000 seats {arena_ms:.1} ms ({:.2}x)",
        arena_ms / small_ms
    );
    // no request on the buying path reads the whole venue: both are small
    assert!(arena_ms < 250.0, "a hold at 20,000 seats took {arena_ms:.1} ms (500 seats: {small_ms:.1} ms)");
}

#[test]
fn large_json_answers_are_gzip_compressed_for_clients_that_accept_them() {
    let app = App::spawn();
    let org = organizer(Minted);
    let (id, _) = grid_event(&app, &org, 4, 10, 20);
    let path = format!("/api/events/{id}");
    let plain = app.get(&path);
    assert_eq!(plain.status, 200);
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(header(&plain, "vary"), "Accept-Encoding");
    let gz = app.call("GET", &path, None, &[("accept-encoding", "gzip;q=0.8, br")]);
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert!(gz.body.len() * 3 < plain.body.len(), "{} -> {}", plain.body.len(), gz.body.len());
    let a: Value = serde_json::from_slice(&platform::compress::gunzip(&gz.body).unwrap()).unwrap();
    assert_eq!(a["id"], plain.json()["id"]);
    assert_eq!(a["venue"], plain.json()["venue"]);
    // refused gzip, and small answers, go as they are
    let refused = app.call("GET", &path, None, &[("accept-encoding", "gzip;q=0")]);
    assert!(refused.header("content-encoding").is_none());
    let small = app.call("GET", "/api/events/health", None, &[("accept-encoding", "gzip")]);
    assert!(small.header("content-encoding").is_none(), "{:?}", small.headers);
}

#[test]
fn an_organizers_edit_reaches_booking_before_the_next_hold() {
    let app = App::spawn();
    let org = organizer(Minted);
    let venue = create_venue(
        &app,
        &org.token,
        &json!({"name": "Two Rooms", "city": "Denver", "country": "US", "timezone": "America/Denver", "seat_map": catalog::grid_seat_map(2, 2, 5)}),
    );
    let ev = create_event(
        &app,
        &org.token,
        &json!({"title": "Growing Night", "category": "concert", "venue_id": venue, "starts_at": days_ahead(20, "19:30"), "currency": "USD",
                "order_limit": 6, "tiers": [{"name": "Front", "price_minor": 5000, "kind": "seated", "sections": ["S1"]}]}),
    );
    let id = ev["id"].as_str().unwrap().to_string();
    let front = ev["tiers"][0]["id"].as_str().unwrap().to_string();
    publish(&app, &org.token, &id);
    let buyer = accounts::customer(Minted);
    // booking copies the event on first use; S2 is not for sale yet
    let h = app.post_as(&buyer.token, "/api/holds", &json!({"event_id": id, "seats": ["S1-R1-3"]}));
    assert_eq!(h.status, 201, "{}", h.text());
    let p = app.post_as(&buyer.token, "/api/holds", &json!({"event_id": id, "seats": ["S2-R1-1"]})).assert_problem(422);
    assert!(p.to_string().contains("S2-R1-1"), "{p}");
    let v1 = app.get(&status_path(&id)).json();

    // the organizer adds a tier with S2 and lowers the order limit
    let edit = app.call(
        "PATCH",
        &format!("/api/events/{id}"),
        Some(&json!({"order_limit": 2, "tiers": [
            {"id": front, "name": "Front", "price_minor": 5000, "kind": "seated", "sections": ["S1"]},
            {"name": "Back", "price_minor": 2500, "kind": "seated", "sections": ["S2"]}]})),
        &[("authorization", &format!("Bearer {}", org.token))],
    );
    assert_eq!(edit.status, 200, "{}", edit.text());
    let back = edit.json()["tiers"][1]["id"].as_str().unwrap().to_string();

    // the very next requests see the new version
    let other = accounts::customer(Minted);
    let h2 = app.post_as(&other.token, "/api/holds", &json!({"event_id": id, "seats": ["S2-R1-1", "S2-R1-2"]}));
    assert_eq!(h2.status, 201, "{}", h2.text());
    assert_eq!(h2.json()["tiers"][0]["tier_id"], back.as_str());
    assert_eq!(h2.json()["amount_minor"], 5000);
    let p = app.post_as(
        &accounts::customer(Minted).token,
        "/api/holds",
        &json!({"event_id": id, "seats": ["S2-R2-1", "S2-R2-2", "S2-R2-3"]}),
    );
    p.assert_problem(422);
    let v2 = bk::availability(&app, &id);
    assert!(
        v2["layout"]["version"].as_i64() > v1["layout"]["version"].as_i64(),
        "{} -> {}",
        v1["layout"],
        v2["layout"]
    );
    assert_eq!(v2["layout"]["seat_count"], 20);
    // the seat held under the first version is still held in the second
    assert_eq!(bk::seat_status(&v2, "S1-R1-3"), "held");
    assert_eq!(bk::seat_status(&v2, "S2-R1-2"), "held");
    assert_eq!(bk::tier(&v2, &back)["held"], 2);
    // the old layout is gone, the new one is there
    app.get(v1["layout"]["url"].as_str().unwrap()).assert_problem(404);

    // cancelling reaches booking too
    assert_eq!(app.post_as(&org.token, &format!("/api/events/{id}/cancel"), &json!({})).status, 200);
    let p = app
        .post_as(&accounts::customer(Minted).token, "/api/holds", &json!({"event_id": id, "seats": ["S2-R2-5"]}))
        .assert_problem(409);
    assert_eq!(p["type"], "/problems/event-cancelled");
    assert_eq!(app.get(&status_path(&id)).json()["status"], "cancelled");
}
