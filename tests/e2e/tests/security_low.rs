//! Issue 17 (security review of b5a251e): its Low items 11 and 12, each as
//! it was found, now refused.
//!
//! 11. Wrong passwords are no lock-out: a stranger's failures slow only the
//!     stranger, and the client address behind a proxy is configurable.
//! 12. Every answer says `nosniff` (HSTS over HTTPS), the JSON-LD document
//!     is safe to embed in a `<script>` element, and browsers get the
//!     refresh token as an `HttpOnly; Secure; SameSite=Strict` cookie for
//!     auth's routes (the site keeps none in `localStorage`).

use e2e::accounts::{self, organizer, Minted, PASSWORD};
use e2e::catalog::{create_event, create_venue, days_ahead, event_body, ga_venue, publish};
use e2e::{json, App, Reply, Value};

/// `POST /api/auth/login` as the client a trusted proxy names in
/// `X-Forwarded-For`.
fn login_from(app: &App, client: &str, email: &str, password: &str) -> Reply {
    app.call(
        "POST",
        "/api/auth/login",
        Some(&json!({"email": email, "password": password})),
        &[("x-forwarded-for", client)],
    )
}

// ---------------------------------------------------------------------------
// 11. Lock-out

#[test]
fn a_strangers_wrong_passwords_never_lock_the_owner_out() {
    // behind a proxy at 127.0.0.1 (where the test connects from)
    let app = App::spawn_with(&[("trusted_proxies", "127.0.0.1")]);
    let owner = accounts::customer(&app);
    let attacker = "203.0.113.7";
    let mut refused = 0;
    for i in 0..12 {
        let r = login_from(&app, attacker, &owner.email, &format!("guess-{i}-password"));
        assert!(r.status == 401 || r.status == 429, "{}", r.text());
        refused += usize::from(r.status == 429);
    }
    assert!(refused > 0, "the stranger is slowed down");
    // the owner, from home, signs in at once with the right password
    let home = login_from(&app, "198.51.100.2", &owner.email, PASSWORD);
    assert_eq!(home.status, 200, "{}", home.text());
    // the stranger waits seconds, not minutes, even with the right password
    let r = login_from(&app, attacker, &owner.email, PASSWORD);
    r.assert_problem(429);
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    drop(app);

    // without a trusted proxy, X-Forwarded-For proves nothing: the client
    // is the connection's own address whatever the header claims
    let app = App::spawn();
    let owner = accounts::customer(&app);
    for i in 0..5 {
        assert_eq!(login_from(&app, &format!("203.0.113.{i}"), &owner.email, "a-wrong-password-here").status, 401);
    }
    login_from(&app, "198.51.100.2", &owner.email, PASSWORD).assert_problem(429);
}

// ---------------------------------------------------------------------------
// 12. Headers and embedding

#[test]
fn every_answer_says_nosniff_and_https_ones_say_hsts() {
    let app = App::spawn_with(&[("trusted_proxies", "127.0.0.1")]);
    let org = organizer(Minted);
    let venue = create_venue(&app, &org.token, &ga_venue("Sniff Hall", "Boston", "America/New_York"));
    let ev = create_event(&app, &org.token, &event_body(&venue, "Sniff night", &days_ahead(20, "20:00")));
    let id = ev["id"].as_str().unwrap().to_string();
    publish(&app, &org.token, &id);
    let p = e2e::journey::paid_purchase(&app, "QR night", &days_ahead(21, "20:00"), &["Ada"]);
    let ticket = e2e::tickets::wait_for(20, || {
        e2e::tickets::tick(&app, "/api/bookings/tick");
        e2e::tickets::my_tickets(&app, &p.buyer.token, Some(&p.booking_id)).into_iter().next()
    })
    .expect("a ticket");
    let qr = format!("/api/tickets/{}/qr.svg", ticket["id"].as_str().unwrap());
    let answers: Vec<(String, Reply)> = vec![
        ("/api/events".into(), app.get("/api/events")),
        (format!("/api/events/{id}/jsonld"), app.get(&format!("/api/events/{id}/jsonld"))),
        (qr.clone(), app.get_as(&p.buyer.token, &qr)),
        ("/api/bookings (401)".into(), app.get("/api/bookings")),
        ("/api/nothing (404)".into(), app.get("/api/nothing")),
        ("/api/auth/health".into(), app.get("/api/auth/health")),
        ("/ (the site)".into(), app.get("/")),
    ];
    for (what, r) in &answers {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}: {:?}", r.headers);
        assert!(r.header("strict-transport-security").is_none(), "{what}: plain HTTP gets no HSTS");
    }
    assert_eq!(answers[2].1.status, 200);
    // TLS ended at the trusted proxy: HSTS on API and site answers alike
    for path in ["/api/events", "/", "/api/bookings"] {
        let r = app.call("GET", path, None, &[("x-forwarded-proto", "https")]);
        assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"), "{path}");
    }
    drop(app);
    // a client's own X-Forwarded-Proto is nothing
    let app = App::spawn();
    let r = app.call("GET", "/api/events", None, &[("x-forwarded-proto", "https")]);
    assert!(r.header("strict-transport-security").is_none());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn the_jsonld_document_cannot_end_an_embedding_script_element() {
    let app = App::spawn();
    let org = organizer(Minted);
    let venue = create_venue(&app, &org.token, &ga_venue("Embed Hall", "Boston", "America/New_York"));
    let title = "Night </script><script>alert(1)</script> & <b>more</b>";
    let mut body = event_body(&venue, title, &days_ahead(20, "20:00"));
    body["description"] = json!("<!-- comment --> </SCRIPT> end");
    let ev = create_event(&app, &org.token, &body);
    let id = ev["id"].as_str().unwrap().to_string();
    publish(&app, &org.token, &id);
    let r = app.get(&format!("/api/events/{id}/jsonld"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/ld+json"));
    let text = r.text();
    for raw in ['<', '>', '&'] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
    assert!(text.contains("\\u003c/script\\u003e"), "{text}");
    // the same value to a JSON parser
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["name"], title);
    assert_eq!(v["description"], "<!-- comment --> </SCRIPT> end");
}

#[test]
fn browsers_get_the_refresh_token_as_a_strict_http_only_cookie() {
    let app = App::spawn();
    let r = app.post("/api/auth/register", &json!({"email": accounts::unique_email("cookie"), "password": PASSWORD}));
    assert_eq!(r.status, 201, "{}", r.text());
    let set = r.header("set-cookie").expect("Set-Cookie").to_string();
    let json_token = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert!(set.starts_with(&format!("boxoffice_refresh={json_token};")), "{set}");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth", "Max-Age=2592000"] {
        assert!(set.split(';').any(|a| a.trim() == attr), "{attr} missing: {set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();

    // refresh with the cookie alone (empty body, as the site sends it): rotated, in both places
    let refreshed = app.call_raw("POST", "/api/auth/refresh", "application/json", b"{}", &[("cookie", &cookie)]);
    assert_eq!(refreshed.status, 200, "{}", refreshed.text());
    let next = refreshed.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    assert_ne!(next, cookie);
    assert_eq!(next, format!("boxoffice_refresh={}", refreshed.json()["refresh_token"].as_str().unwrap()));
    // nothing at all: 401
    app.call_raw("POST", "/api/auth/refresh", "application/json", b"{}", &[]).assert_problem(401);
    // the frontend keeps no refresh token in script-readable storage
    let js = app.get("/assets/js/api.js").text();
    assert!(!js.contains("refresh: tokens.refresh_token"), "api.js stores the refresh token");

    // logout with the cookie ends the sign-in and clears the cookie
    let out = app.call_raw("POST", "/api/auth/logout", "application/json", b"{}", &[("cookie", &next)]);
    assert_eq!(out.status, 204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("boxoffice_refresh=;") && cleared.contains("Max-Age=0"), "{cleared}");
    app.call_raw("POST", "/api/auth/refresh", "application/json", b"{}", &[("cookie", &next)]).assert_problem(401);
}
