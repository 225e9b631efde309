//! Importers on every real input file of `../shared/data` (skipped loudly
//! when absent): Ticketmaster Discovery v2 pages and schema.org JSON-LD;
//! per-record reports, idempotent re-import, zones and categories, the
//! demo catalogue.

use e2e::accounts::{organizer, user, Minted};
use e2e::catalog;
use e2e::{json, App, Value};
use std::collections::{HashMap, HashSet};

fn import(app: &App, token: &str, kind: &str, doc: &Value) -> Value {
    let r = app.post_as(token, &format!("/api/events/import/{kind}?shift_to_future=true"), doc);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn ticketmaster_files_import_into_80_distinct_bookable_events_and_reimport_changes_nothing() {
    let Some(data) = catalog::data_dir() else { return };
    let app = App::spawn();
    let org = organizer(Minted);
    let files = catalog::data_files(&data, "ticketmaster-discovery");
    assert_eq!(files.len(), 4);
    let mut event_ids = HashSet::new();
    let mut by_external: HashMap<String, String> = HashMap::new();
    let t = std::time::Instant::now();
    for f in &files {
        let doc = catalog::read_json(f);
        let rep = import(&app, &org.token, "ticketmaster", &doc);
        assert_eq!(rep["total"], 20, "{}", f.display());
        assert_eq!(rep["failed"], 0, "{}: {rep}", f.display());
        for r in rep["results"].as_array().unwrap() {
            assert!(r["status"] == "created", "{r}");
            event_ids.insert(r["event_id"].as_str().unwrap().to_string());
            by_external
                .insert(r["external_id"].as_str().unwrap().to_string(), r["event_id"].as_str().unwrap().to_string());
        }
    }
    eprintln!("BENCH imported 4 Ticketmaster files (80 records) in {} ms", t.elapsed().as_millis());
    assert_eq!(event_ids.len(), 80);

    // second import: nothing changes
    for f in &files {
        let rep = import(&app, &org.token, "ticketmaster", &catalog::read_json(f));
        assert_eq!(rep["unchanged"], 20, "{}: {rep}", f.display());
        assert_eq!(rep["created"], 0);
    }
    let all = catalog::all_pages(&app, "/api/events/mine?limit=100", Some(&org.token));
    assert_eq!(all.len(), 80, "re-import never duplicates");

    // every event is bookable: published, in the future, priced
    let now = platform::clock::now_ms();
    for e in &all {
        assert_eq!(e["status"], "published");
        assert!(platform::clock::parse_rfc3339(e["starts_at"].as_str().unwrap()).unwrap() > now, "{e}");
        assert!(e["price_from"]["amount_minor"].is_i64(), "{e}");
    }

    // zones and categories from the messy records
    let doc = catalog::read_json(&files.iter().find(|f| f.ends_with("us-nationwide-2019.json")).unwrap().clone());
    let mut categories = HashSet::new();
    for src in doc["_embedded"]["events"].as_array().unwrap() {
        let id = &by_external[src["id"].as_str().unwrap()];
        let d = app.get(&format!("/api/events/{id}?seat_map=false")).json();
        let venue_tz = src["_embedded"]["venues"][0]["timezone"].as_str().unwrap();
        assert_eq!(d["timezone"], src["dates"]["timezone"].as_str().unwrap_or(venue_tz), "{}", src["name"]);
        // local time of day is kept
        if let Some(lt) = src["dates"]["start"]["localTime"].as_str() {
            assert!(
                d["local_starts_at"].as_str().unwrap().contains(&format!("T{lt}")),
                "{} {}",
                d["local_starts_at"],
                lt
            );
        } else {
            assert_eq!(d["time_tba"], true, "{}", src["name"]);
        }
        let seg = src["classifications"][0]["segment"]["name"].as_str().unwrap();
        let cat = d["category"].as_str().unwrap();
        match seg {
            "Sports" => assert_eq!(cat, "sports"),
            "Arts & Theatre" => assert_eq!(cat, "theatre", "Hamilton"),
            "Music" => assert!(cat == "concert" || cat == "live_music" || cat == "festival"),
            _ => {}
        }
        categories.insert(cat.to_string());
        if src["priceRanges"].as_array().is_none_or(|p| p.is_empty()) {
            assert_eq!(d["tiers"][0]["name"], "General Admission", "default tier");
        } else {
            let min = src["priceRanges"][0]["min"].as_f64().unwrap();
            assert_eq!(d["tiers"][0]["price_minor"].as_i64().unwrap(), (min * 100.0).round() as i64);
        }
    }
    assert!(categories.contains("sports") && categories.contains("theatre") && categories.contains("concert"));
    // Honolulu keeps its zone; the trailing space in "Las Vegas " is gone
    let honolulu = app.get("/api/events?city=honolulu").json();
    assert_eq!(honolulu["items"][0]["timezone"], "Pacific/Honolulu");
    let vegas = app.get("/api/events?city=Las%20Vegas&limit=100").json();
    assert!(vegas["items"].as_array().unwrap().iter().all(|e| e["venue"]["city"] == "Las Vegas"));
    assert!(vegas["items"].as_array().unwrap().len() >= 3);
    let comedy = app.get("/api/events?category=comedy").json();
    assert_eq!(comedy["items"][0]["title"], "Jeff Dunham");
    let jazz = app.get("/api/events?category=live_music&city=hollywood").json();
    assert!(!jazz["items"].as_array().unwrap().is_empty());
    // a London zone for Birmingham
    let brum = app.get("/api/events?city=birmingham&limit=100").json();
    assert_eq!(brum["items"].as_array().unwrap().len(), 20);
    assert!(brum["items"].as_array().unwrap().iter().all(|e| e["timezone"] == "Europe/London"));
    // full-text search finds the P!NK tour
    let pink = app.get("/api/events?q=P%21NK%20summer%20carnival&limit=100").json();
    assert!(pink["items"].as_array().unwrap().len() >= 10, "{pink}");

    // only organizers import; a broken body is a 4xx
    let buyer = user(Minted, "customer");
    app.post_as(&buyer.token, "/api/events/import/ticketmaster", &json!({})).assert_problem(403);
    app.post_as(&org.token, "/api/events/import/ticketmaster", &json!({"events": []})).assert_problem(422);
    // a second organizer imports their own copies (keyed per organizer)
    let other = organizer(Minted);
    let rep = import(&app, &other.token, "ticketmaster", &catalog::read_json(&files[0]));
    assert_eq!(rep["created"], 20);
}

#[test]
fn jsonld_files_import_with_per_record_errors() {
    let Some(data) = catalog::data_dir() else { return };
    let app = App::spawn();
    let org = organizer(Minted);
    let mut created = 0;
    let mut failed = Vec::new();
    for f in catalog::data_files(&data, "schema-org") {
        let doc = catalog::read_json(&f);
        let rep = import(&app, &org.token, "jsonld", &doc);
        created += rep["created"].as_u64().unwrap();
        for r in rep["results"].as_array().unwrap() {
            if r["status"] == "failed" {
                assert!(!r["errors"].as_array().unwrap().is_empty(), "a failure says why: {r}");
                failed.push(format!("{}: {}", f.file_name().unwrap().to_string_lossy(), r["errors"]));
            }
        }
        // idempotent
        let again = import(&app, &org.token, "jsonld", &doc);
        assert_eq!(again["created"], 0, "{again}");
        assert_eq!(
            again["unchanged"].as_u64().unwrap() + again["failed"].as_u64().unwrap(),
            again["total"].as_u64().unwrap()
        );
    }
    eprintln!("JSON-LD: {created} created; per-record failures: {failed:#?}");
    assert!(created >= 6, "{created}");
    // the screening without a date and place fails alone
    assert!(failed.iter().any(|f| f.contains("jaws")), "{failed:?}");

    let acdc = app.get("/api/events?q=AC%2FDC").json();
    let id = acdc["items"][0]["id"].as_str().expect("AC/DC imported");
    let d = app.get(&format!("/api/events/{id}?seat_map=false")).json();
    assert_eq!(d["timezone"], "America/Los_Angeles");
    assert!(d["local_starts_at"].as_str().unwrap().contains("T19:45:00-07:00"), "{}", d["local_starts_at"]);
    assert_eq!(d["venue"]["city"], "San Francisco");
    let bb = app.get("/api/events?q=boogie").json();
    let id = bb["items"][0]["id"].as_str().expect("B.B. King imported");
    let d = app.get(&format!("/api/events/{id}?seat_map=false")).json();
    assert_eq!(d["tiers"][0]["price_minor"], 6325);
    assert_eq!(d["tiers"][1]["name"], "VIP Experience");
    assert_eq!(d["source_status"], "EventRescheduled");
    assert_eq!(d["timezone"], "America/New_York");
    let globe = app.get("/api/events?q=julius").json();
    assert_eq!(globe["items"][0]["timezone"], "Europe/London");
    assert_eq!(globe["items"][0]["category"], "theatre");
    // our JSON-LD round-trips through the importer
    let ld = app.get(&format!("/api/events/{id}/jsonld")).json();
    let other = organizer(Minted);
    let rep = import(&app, &other.token, "jsonld", &ld);
    assert_eq!(rep["created"], 1, "{rep}");
}

#[test]
fn demo_catalogue_seeds_and_reseeds() {
    let Some(data) = catalog::data_dir() else { return };
    let app = App::spawn();
    let t = std::time::Instant::now();
    let first = catalog::seed_demo(&app, Some(&data)).expect("seed");
    eprintln!("BENCH demo seed {:?} in {} ms", first, t.elapsed().as_millis());
    assert!(first.created >= 85, "{first:?}");
    assert!(first.demo_events >= 6);
    assert_eq!(first.failures.len() as u64, first.failed, "every failed record is named: {:?}", first.failures);
    let again = catalog::seed_demo(&app, Some(&data)).expect("reseed");
    assert_eq!((again.created, again.demo_events), (0, 0), "{again:?}");
    let listed = catalog::all_pages(&app, "/api/events?limit=100", None);
    let total = listed.len();
    let categories: HashSet<String> = listed.iter().map(|e| e["category"].as_str().unwrap().to_string()).collect();
    let zones: HashSet<String> = listed.iter().map(|e| e["timezone"].as_str().unwrap().to_string()).collect();
    assert!(total >= 40, "{total}");
    for c in ["concert", "live_music", "sports", "film", "theatre", "comedy", "festival", "other"] {
        assert!(categories.contains(c), "category {c} missing from {categories:?}");
    }
    assert!(zones.len() >= 5, "{zones:?}");
    let arena = app.get("/api/events?q=arena%20rock").json();
    let id = arena["items"][0]["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/events/{id}/inventory")).json()["seats"].as_array().unwrap().len(), 20_000);
    let cinema = app.get("/api/events?category=film").json();
    let id = cinema["items"][0]["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/events/{id}/inventory")).json()["seats"].as_array().unwrap().len(), 300);
}

#[test]
fn demo_events_seed_without_the_shared_data_folder() {
    // A fresh clone without ../shared/data still gets a bookable catalogue.
    let app = App::spawn();
    let report = catalog::seed_demo(&app, None).expect("seed");
    assert_eq!(report.created, 0, "nothing is imported without the data folder: {report:?}");
    assert!(report.demo_events >= 5, "{report:?}");
    let listed = catalog::all_pages(&app, "/api/events?limit=100", None);
    assert_eq!(listed.len() as u64, report.demo_events, "every demo event is published and listed");
    let festival = app.get("/api/events?category=festival").json();
    let id = festival["items"][0]["id"].as_str().expect("festival listed");
    let inventory = app.get(&format!("/api/events/{id}/inventory")).json();
    assert_eq!(inventory["status"], "published");
    assert_eq!(inventory["tiers"][0]["kind"], "general_admission");
}
