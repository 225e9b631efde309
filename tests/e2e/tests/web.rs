//! The `web` component through the runner: the frontend at `/`, content
//! types, ETag revalidation, the 404 page, path traversal, and problem+json
//! for unknown API routes.

use e2e::App;

#[test]
fn serves_the_frontend_and_revalidates_with_etag() {
    let app = App::spawn();
    let home = app.get("/");
    assert_eq!(home.status, 200);
    assert!(home.header("content-type").unwrap().starts_with("text/html"));
    assert!(home.text().contains("<title>"), "home page has a title");
    let csp = home.header("content-security-policy").expect("CSP on pages");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    let tag = home.header("etag").expect("etag").to_string();
    let again = app.call("GET", "/", None, &[("if-none-match", &tag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let head = app.call("HEAD", "/", None, &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn unknown_pages_get_the_404_page_and_unknown_api_routes_get_problem_json() {
    let app = App::spawn();
    let page = app.get("/no/such/page");
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let api = app.get("/api/no-such-thing");
    let p = api.assert_problem(404);
    assert_eq!(p["type"], "/problems/no-route");
}

#[test]
fn real_paths_of_frontend_pages_serve_the_app() {
    // Links in e-mails and JSON-LD point at /events/<id> and /tickets/<id>.
    let app = App::spawn();
    let home = app.get("/");
    for path in ["/events/evt_01jdx3v9k7m2q8w4e6r5t0y1za", "/tickets/tkt_1", "/organizer"] {
        let page = app.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.body, home.body, "{path} serves the app shell");
    }
    assert_eq!(app.get("/events/evt_1/poster.png").status, 404);
}

#[test]
fn path_traversal_is_refused() {
    let app = App::spawn();
    for path in ["/%2e%2e/Cargo.toml", "/a/%2E%2E/%2E%2E/spin.toml", "/x%00.html"] {
        let r = app.get(path);
        assert!(r.status == 400 || r.status == 404, "{path} -> {}", r.status);
        assert!(!r.text().contains("[workspace]") && !r.text().contains("spin_manifest_version"), "{path} leaked a file");
    }
}

#[test]
fn writes_to_the_static_site_are_refused() {
    let app = App::spawn();
    let r = app.call_raw("POST", "/index.html", "text/plain", b"x", &[]);
    r.assert_problem(405);
}

#[test]
fn request_ids_are_echoed() {
    let app = App::spawn();
    let r = app.call("GET", "/api/nothing", None, &[("x-request-id", "trace-123")]);
    assert_eq!(r.header("x-request-id"), Some("trace-123"));
}
