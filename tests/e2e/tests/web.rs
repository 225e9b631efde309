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
        assert!(
            !r.text().contains("[workspace]") && !r.text().contains("spin_manifest_version"),
            "{path} leaked a file"
        );
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

/// On the runner, a small answer on a kept-alive connection leaves as one
/// TCP segment, head and body together: a head sent on its own holds the
/// body back (Nagle, no TCP_NODELAY on either host) until the client's
/// delayed ACK, ~40 ms per request. The first read after each request must
/// hold the whole answer.
///
/// Runner-only: Spin 4.0.2 writes the head as soon as the component sets
/// its response, so whether the body rides along depends on how fast the
/// component writes it (under load it often does not); the runner reads a
/// small body ahead and always sends both at once (README, local runner).
#[test]
fn small_answers_on_a_kept_alive_connection_arrive_whole() {
    use std::io::{Read, Write};
    let app = App::spawn();
    if app.host() == apphost::Host::Spin {
        eprintln!("runner-only: Spin sends a small answer whole only when the body is ready in time");
        return;
    }
    let addr = app.base.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    // the first answers come while the host is still warming up (compiling,
    // the database's first open); they are read and not judged
    for i in 0..23 {
        write!(c, "GET /api/events/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let n = c.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        // chunked: the last chunk ends the answer; with a length, the body's length
        let whole = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            text.ends_with("0\r\n\r\n")
        } else {
            let length: usize = text
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .expect("a length or chunks");
            text.split_once("\r\n\r\n").is_some_and(|(_, body)| body.len() == length)
        };
        assert!(whole || i < 3, "request {i}: the first read held only part of the answer ({n} bytes): {text}");
        if !whole {
            // a warm-up answer in two segments: its rest is one read away
            let _ = c.read(&mut buf).unwrap();
        }
    }
}

/// Path parameters are decoded exactly once (RFC 3986 §6.2.2: an escaped
/// unreserved character is the character): `%68ealth` is `health`, while
/// `%2568ealth` — an escaped `%` — names the literal `%68ealth`, which is
/// no event (404, with the decoded text in the answer, not re-decoded).
#[test]
fn percent_encoded_path_parameters_are_decoded_once() {
    let app = App::spawn();
    let r = app.get("/api/events/%68ealth");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["component"], "events");
    let twice = app.get("/api/events/%2568ealth");
    twice.assert_problem(404);
}
