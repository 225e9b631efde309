//! `GET /api/venues`: an organizer's own venues (`?mine=true`) and all
//! venues, newest first, cursor paged.

use e2e::accounts::{self, Minted};
use e2e::{catalog, App};

#[test]
fn an_organizer_lists_exactly_their_own_venues_page_by_page() {
    let app = App::spawn();
    let org = accounts::organizer(Minted);
    let rival = accounts::organizer(Minted);
    let mut mine: Vec<String> = (0..5)
        .map(|i| {
            catalog::create_venue(&app, &org.token, &catalog::ga_venue(&format!("Hall {i}"), "Berlin", "Europe/Berlin"))
        })
        .collect();
    let theirs = catalog::create_venue(&app, &rival.token, &catalog::ga_venue("Other hall", "Paris", "Europe/Paris"));

    // pages of 2, newest first, stable while a venue is added mid-way
    let first = app.get_as(&org.token, "/api/venues?mine=true&limit=2");
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert!(first["items"][0].get("seat_map").is_none(), "no seat maps in lists");
    assert_eq!(first["items"][0]["city"], "Berlin");
    mine.push(catalog::create_venue(&app, &org.token, &catalog::ga_venue("Late hall", "Berlin", "Europe/Berlin")));
    let mut seen: Vec<String> =
        first["items"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = app.get_as(&org.token, &format!("/api/venues?mine=true&limit=2&cursor={c}")).json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    assert_eq!(seen.len(), 5, "the five that existed when paging began: {seen:?}");
    assert!(!seen.contains(&theirs));
    let all_mine = catalog::all_pages(&app, "/api/venues?mine=true", Some(&org.token));
    assert_eq!(all_mine.len(), 6);
    assert!(all_mine.iter().all(|v| mine.contains(&v["id"].as_str().unwrap().to_string())));

    // everyone's venues, publicly; the rules of the query
    let all = catalog::all_pages(&app, "/api/venues?limit=100", None);
    assert!(all.iter().any(|v| v["id"] == theirs.as_str()) && all.len() >= 7);
    app.get("/api/venues?mine=true").assert_problem(401);
    app.get_as(&accounts::customer(Minted).token, "/api/venues?mine=true").assert_problem(403);
    for bad in ["mine=yes", "limit=0", "limit=101", "cursor=evt_x", "cursor=ven_%27--"] {
        app.get_as(&org.token, &format!("/api/venues?{bad}")).assert_problem(422);
    }

    // the organizer's page is answered from index venues_by_owner (migration 2)
    let db = rusqlite::Connection::open(app.state_dir().join("events.db")).unwrap();
    let indexed: String = db
        .query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'venues_by_owner'", [], |r| r.get(0))
        .expect("index venues_by_owner");
    assert!(indexed.contains("(owner_id, id)"), "{indexed}");
    let applied: i64 =
        db.query_row("SELECT COUNT(*) FROM schema_migrations WHERE version = 2", [], |r| r.get(0)).unwrap();
    assert_eq!(applied, 1);
}
