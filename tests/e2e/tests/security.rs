//! Issue 17 (security review of b5a251e): its High items 1-3 and item 10,
//! each as it was found, now refused.
//!
//! 1. The sandbox ships off, its tools need the sandbox admin token, the
//!    provider APIs check their own keys, and a JSON body must be declared
//!    JSON (no cross-site post without a CORS preflight).
//! 2. An import never changes another organizer's venue.
//! 3. The first admin needs its configured password and is made once;
//!    registering the address never makes an admin.
//! 10. A draft's availability is as private as the draft.

use e2e::accounts::{self, organizer, Minted, PASSWORD};
use e2e::catalog::{create_event, create_venue, days_ahead, event_body, ga_venue, publish};
use e2e::{json, App, Reply, Value, SANDBOX_ADMIN_TOKEN};

/// The development e-mail provider key (`email_api_token` default).
const EMAIL_KEY: &str = "re_boxoffice_sandbox_token";
/// The development payment provider key (`payment_secret_key` default).
const PAYMENT_KEY: &str = "sk_test_boxoffice_sandbox";

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `method path` with a body and NO `Content-Type` header at all (what
/// `navigator.sendBeacon` or `fetch` with a `Blob` sends cross-site
/// without a preflight); returns status and body text.
fn send_untyped(app: &App, method: &str, path: &str, body: &[u8], token: Option<&str>) -> (u16, String, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut req = agent.request(method, &format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.set("authorization", &bearer(t));
    }
    let resp = match req.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let ct = resp.header("content-type").unwrap_or("").to_string();
    (status, ct, resp.into_string().unwrap_or_default())
}

fn assert_415(r: &Reply) {
    let p = r.assert_problem(415);
    assert_eq!(p["type"], "/problems/unsupported-media-type", "{p}");
}

/// Sends one message through the sandbox's e-mail API (its provider key);
/// returns its id.
fn send_mail(app: &App, to: &str, subject: &str, text: &str) -> String {
    let body = json!({"from": "Boxoffice <tickets@boxoffice.local>", "to": [to], "subject": subject, "text": text});
    let r = app.call("POST", "/sandbox/email/emails", Some(&body), &[("authorization", &bearer(EMAIL_KEY))]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------
// 1. The sandbox

#[test]
fn the_sandbox_ships_off_and_its_tools_closed() {
    // spin.toml as deployed: no sandbox at all
    let shipped = App::spawn_as_shipped(&[]);
    for (method, path) in [
        ("GET", "/sandbox/health"),
        ("GET", "/sandbox/email"),
        ("GET", "/sandbox/email/messages"),
        ("GET", "/sandbox/payments"),
        ("GET", "/sandbox/payments/admin/webhooks"),
        ("POST", "/sandbox/payments/admin/settle"),
    ] {
        shipped.call(method, path, None, &[("authorization", &bearer(SANDBOX_ADMIN_TOKEN))]).assert_problem(404);
    }
    let faults = shipped.call("PUT", "/sandbox/payments/admin/faults", Some(&json!({"mode": "none"})), &[]);
    faults.assert_problem(404);
    let create = shipped.call_raw(
        "POST",
        "/sandbox/payments/v1/payment_intents",
        "application/x-www-form-urlencoded",
        b"amount=100&currency=usd",
        &[("authorization", &bearer(PAYMENT_KEY))],
    );
    create.assert_problem(404);
    drop(shipped);

    // turned on, but no sandbox_admin_token set (its default): the tools
    // let nobody in, whatever token is tried; the provider APIs work
    let open = App::spawn_as_shipped(&[("sandbox_enabled", "true")]);
    assert_eq!(open.get("/sandbox/health").status, 200);
    for guess in ["", "x", SANDBOX_ADMIN_TOKEN] {
        let r = open.call("GET", "/sandbox/email/messages", None, &[("authorization", &bearer(guess))]);
        r.assert_problem(403);
        let r = open.call(
            "PUT",
            "/sandbox/payments/admin/faults",
            Some(&json!({"mode": "none"})),
            &[("authorization", &bearer(guess))],
        );
        r.assert_problem(403);
    }
    let page = open.call("GET", "/sandbox/email", None, &[("authorization", &bearer(SANDBOX_ADMIN_TOKEN))]);
    assert_eq!(page.status, 403, "{}", page.text());
    assert!(!page.text().contains("<form"), "a closed sandbox offers no sign-in: {}", page.text());
    let login = open.call_raw(
        "POST",
        "/sandbox/login",
        "application/x-www-form-urlencoded",
        b"token=&next=%2Fsandbox%2Femail",
        &[],
    );
    assert_eq!(login.status, 403);
    assert!(login.header("set-cookie").is_none());
    send_mail(&open, "ada@example.test", "works", "the provider API keeps its own key");
}

#[test]
fn sandbox_tools_need_the_sandbox_admin_token() {
    let app = App::spawn();
    let code = "TICKET-CODE-0123456789abcdef";
    let mail = send_mail(&app, "ada@example.test", "Your tickets", &format!("Show this at the door: {code}"));
    let tools: Vec<(&str, String, Option<Value>)> = vec![
        ("PUT", "/sandbox/payments/admin/faults".into(), Some(json!({"op": "any", "mode": "none"}))),
        ("GET", "/sandbox/payments/admin/webhooks".into(), None),
        ("POST", "/sandbox/payments/admin/settle".into(), None),
        ("GET", "/sandbox/email/messages".into(), None),
        ("GET", "/sandbox/email/requests".into(), None),
        ("PUT", "/sandbox/email/faults".into(), Some(json!({"mode": "none"}))),
    ];
    for (method, path, body) in &tools {
        let none = app.call(method, path, body.as_ref(), &[]);
        none.assert_problem(401);
        assert!(none.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{method} {path}");
        assert!(!none.text().contains(code));
        app.call(method, path, body.as_ref(), &[("authorization", "Bearer not-the-token")]).assert_problem(403);
        // a provider key is not the tools' key
        app.call(method, path, body.as_ref(), &[("authorization", &bearer(EMAIL_KEY))]).assert_problem(403);
        let ok = app.sandbox(method, path, body.as_ref());
        assert_eq!(ok.status, 200, "{method} {path}: {}", ok.text());
    }
    let messages = app.sandbox("GET", "/sandbox/email/messages", None).json();
    assert!(messages.to_string().contains(code), "with the token the messages are there: {messages}");

    // the pages for people: without a credential a sign-in form, and nobody's mail
    let pages = ["/sandbox/email".to_string(), format!("/sandbox/email/view/{mail}"), "/sandbox/payments".to_string()];
    for path in &pages {
        let r = app.get(path);
        assert_eq!(r.status, 401, "{path}: {}", r.text());
        assert!(r.header("content-type").unwrap_or("").starts_with("text/html"), "{path}");
        assert!(r.text().contains("action=\"/sandbox/login\""), "{path}: {}", r.text());
        assert!(!r.text().contains(code) && !r.text().contains("Your tickets"), "{path} leaks mail: {}", r.text());
        assert_eq!(app.get_as("wrong-token", path).status, 403, "{path}");
        assert_eq!(app.sandbox("GET", path, None).status, 200, "{path}");
    }
    let page = app.sandbox("GET", "/sandbox/email", None);
    assert!(page.text().contains("Your tickets"), "{}", page.text());

    // the sign-in form: a wrong token sets nothing; the right one sets an
    // HttpOnly, SameSite=Strict cookie for /sandbox and goes back (never off-site)
    let form = |token: &str, next: &str| {
        let body = format!("token={}&next={}", urlencode(token), urlencode(next));
        app.call_raw("POST", "/sandbox/login", "application/x-www-form-urlencoded", body.as_bytes(), &[])
    };
    let wrong = form("guess", "/sandbox/email");
    assert_eq!(wrong.status, 403);
    assert!(wrong.header("set-cookie").is_none());
    let signed_in = form(SANDBOX_ADMIN_TOKEN, "/sandbox/email");
    assert_eq!(signed_in.status, 303, "{}", signed_in.text());
    assert_eq!(signed_in.header("location"), Some("/sandbox/email"));
    let set_cookie = signed_in.header("set-cookie").expect("set-cookie").to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/sandbox"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    assert!(!set_cookie.contains(SANDBOX_ADMIN_TOKEN), "the cookie is not the token: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let with_cookie = app.call("GET", "/sandbox/email", None, &[("cookie", &cookie)]);
    assert_eq!(with_cookie.status, 200);
    assert!(with_cookie.text().contains("Your tickets"));
    assert_eq!(app.call("GET", &format!("/sandbox/email/view/{mail}"), None, &[("cookie", &cookie)]).status, 200);
    assert_eq!(app.call("GET", "/sandbox/email/messages", None, &[("cookie", &cookie)]).status, 200);
    // the cookie reads; it never changes state (a same-site page could post with it)
    app.call("POST", "/sandbox/payments/admin/settle", None, &[("cookie", &cookie)]).assert_problem(401);
    app.call("PUT", "/sandbox/email/faults", Some(&json!({"mode": "none"})), &[("cookie", &cookie)])
        .assert_problem(401);
    // a forged cookie is nothing
    assert_eq!(app.call("GET", "/sandbox/email", None, &[("cookie", "sandbox_admin=00")]).status, 403);
    assert_eq!(form(SANDBOX_ADMIN_TOKEN, "https://evil.example/").header("location"), Some("/sandbox/email"));
    assert_eq!(form(SANDBOX_ADMIN_TOKEN, "//evil.example/sandbox/").header("location"), Some("/sandbox/email"));

    // the buyer-facing 3-D Secure page and health stay open
    assert_eq!(app.get("/sandbox/health").status, 200);
    app.get("/sandbox/payments/authenticate/pi_unknown").assert_problem(404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn the_provider_apis_check_their_own_keys() {
    let app = App::spawn();
    let create = |auth: Option<&str>| {
        let headers: Vec<(&str, String)> = auth.map(|a| vec![("authorization", bearer(a))]).unwrap_or_default();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.call_raw(
            "POST",
            "/sandbox/payments/v1/payment_intents",
            "application/x-www-form-urlencoded",
            b"amount=1000&currency=usd",
            &headers,
        )
    };
    for bad in [None, Some("sk_test_wrong"), Some(SANDBOX_ADMIN_TOKEN)] {
        let r = create(bad);
        assert_eq!(r.status, 401, "{bad:?}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "api_key_invalid");
    }
    let intent = create(Some(PAYMENT_KEY));
    assert_eq!(intent.status, 200, "{}", intent.text());
    let id = intent.json()["id"].as_str().unwrap().to_string();
    let path = format!("/sandbox/payments/v1/payment_intents/{id}");
    assert_eq!(app.get(&path).status, 401);
    assert_eq!(app.get_as(PAYMENT_KEY, &path).status, 200);

    let body =
        json!({"from": "Boxoffice <tickets@boxoffice.local>", "to": ["bo@example.test"], "subject": "s", "text": "t"});
    let r = app.post("/sandbox/email/emails", &body);
    assert_eq!((r.status, r.json()["name"].clone()), (401, json!("missing_api_key")));
    for wrong in ["re_wrong", SANDBOX_ADMIN_TOKEN] {
        let r = app.call("POST", "/sandbox/email/emails", Some(&body), &[("authorization", &bearer(wrong))]);
        assert_eq!((r.status, r.json()["name"].clone()), (403, json!("invalid_api_key")), "{wrong}");
    }
    let mail = send_mail(&app, "bo@example.test", "Retrieve me", "secret text");
    // Resend's retrieve needs the key too (it returned any message to anyone)
    let anon = app.get(&format!("/sandbox/email/emails/{mail}"));
    assert_eq!(anon.status, 401, "{}", anon.text());
    assert!(!anon.text().contains("secret text"));
    assert_eq!(app.get_as("re_wrong", &format!("/sandbox/email/emails/{mail}")).status, 403);
    let got = app.get_as(EMAIL_KEY, &format!("/sandbox/email/emails/{mail}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["text"], "secret text");
}

#[test]
fn json_bodies_must_be_sent_as_json() {
    let app = App::spawn();
    let creds = json!({"email": accounts::unique_email("ct"), "password": PASSWORD}).to_string();
    // no Content-Type at all: what a foreign page can send without a preflight
    let (status, ct, text) = send_untyped(&app, "POST", "/api/auth/register", creds.as_bytes(), None);
    assert_eq!(status, 415, "{text}");
    assert!(ct.starts_with("application/problem+json"), "{ct}");
    assert!(text.contains("/problems/unsupported-media-type"), "{text}");
    for ct in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        assert_415(&app.call_raw("POST", "/api/auth/register", ct, creds.as_bytes(), &[]));
    }
    // JSON, however it is spelled, is fine
    let ok = app.call_raw("POST", "/api/auth/register", "Application/JSON; charset=utf-8", creds.as_bytes(), &[]);
    assert_eq!(ok.status, 201, "{}", ok.text());
    let user = e2e::accounts::Tokens::from_reply(&ok);
    // a signed-in change the same way (the body is what would be forged)
    let patch = br#"{"display_name": "Mallory was here"}"#;
    let (status, _, text) = send_untyped(&app, "PATCH", "/api/users/me", patch, Some(&user.access_token));
    assert_eq!(status, 415, "{text}");
    assert_415(&app.call_raw(
        "PATCH",
        "/api/users/me",
        "text/plain",
        patch,
        &[("authorization", &bearer(&user.access_token))],
    ));
    let me = app.get_as(&user.access_token, "/api/users/me").json();
    assert_ne!(me["display_name"], "Mallory was here");
    let vnd = app.call_raw(
        "PATCH",
        "/api/users/me",
        "application/merge-patch+json",
        patch,
        &[("authorization", &bearer(&user.access_token))],
    );
    assert_eq!(vnd.status, 200, "{}", vnd.text());
    // an empty body without a type is still a 400 (nothing to read), not a 415
    let (status, _, _) = send_untyped(&app, "POST", "/api/auth/login", b"", None);
    assert_eq!(status, 400);

    // the importers read their documents the same way (JSON-LD's own type included)
    let org = organizer(Minted);
    let doc = json!({"@context": "https://schema.org", "@type": "Event", "name": "Typed import", "startDate": days_ahead(40, "20:00"),
        "location": {"@type": "Place", "name": "Typed Hall", "address": {"@type": "PostalAddress", "streetAddress": "1 Main St",
            "addressLocality": "Austin", "addressCountry": "US"}}});
    let path = "/api/events/import/jsonld?timezone=America/Chicago";
    let auth = bearer(&org.token);
    assert_415(&app.call_raw("POST", path, "text/plain", doc.to_string().as_bytes(), &[("authorization", &auth)]));
    let (status, _, text) = send_untyped(&app, "POST", path, doc.to_string().as_bytes(), Some(&org.token));
    assert_eq!(status, 415, "{text}");
    let ld = app.call_raw("POST", path, "application/ld+json", doc.to_string().as_bytes(), &[("authorization", &auth)]);
    assert_eq!(ld.status, 200, "{}", ld.text());
    assert_eq!(ld.json()["created"], 1, "{}", ld.text());

    // the payment webhook takes what Stripe sends, and nothing untyped
    let event = json!({"id": platform::ids::new("evt"), "object": "event", "type": "customer.created",
        "created": platform::clock::now_secs(), "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string();
    let sig = e2e::payments::signature(e2e::payments::WEBHOOK_SECRET, platform::clock::now_secs(), event.as_bytes());
    let plain =
        app.call_raw("POST", "/api/payments/webhook", "text/plain", event.as_bytes(), &[("stripe-signature", &sig)]);
    assert_415(&plain);
    let stripe = app.call_raw(
        "POST",
        "/api/payments/webhook",
        "application/json; charset=utf-8",
        event.as_bytes(),
        &[("stripe-signature", &sig)],
    );
    assert_eq!(stripe.status, 200, "{}", stripe.text());
}

// ---------------------------------------------------------------------------
// 2. Venues and imports

/// A one-event Discovery v2 page at Ticketmaster venue `venue_id`.
fn discovery(event_id: &str, venue_id: &str, venue_name: &str, line1: &str) -> Value {
    json!({"_embedded": {"events": [{
        "id": event_id, "name": format!("Game {event_id}"),
        "dates": {"start": {"localDate": &days_ahead(30, "19:10")[..10], "localTime": "19:10:00"}, "timezone": "America/Los_Angeles",
                  "status": {"code": "onsale"}},
        "classifications": [{"primary": true, "segment": {"name": "Sports"}}],
        "_embedded": {"venues": [{"id": venue_id, "name": venue_name, "timezone": "America/Los_Angeles",
            "address": {"line1": line1}, "city": {"name": "Los Angeles"}, "state": {"stateCode": "CA"}, "postalCode": "90012",
            "country": {"countryCode": "US"}, "location": {"latitude": "34.0739", "longitude": "-118.2400"}}]}
    }]}})
}

fn import(app: &App, token: &str, kind: &str, query: &str, doc: &Value) -> Value {
    let r = app.post_as(token, &format!("/api/events/import/{kind}{query}"), doc);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["failed"], 0, "{v}");
    v
}

/// The venue of event `id` as the public sees it (the event, its JSON-LD, the venue).
fn venue_of(app: &App, event_id: &str) -> (Value, Value) {
    let ev = app.get(&format!("/api/events/{event_id}"));
    assert_eq!(ev.status, 200, "{}", ev.text());
    let venue_id = ev.json()["venue"]["id"].as_str().unwrap().to_string();
    let venue = app.get(&format!("/api/venues/{venue_id}?seat_map=false"));
    assert_eq!(venue.status, 200);
    let ld = app.get(&format!("/api/events/{event_id}/jsonld"));
    assert_eq!(ld.status, 200);
    (venue.json(), ld.json())
}

#[test]
fn an_import_never_changes_another_organizers_venue() {
    let app = App::spawn();
    let a = organizer(Minted);
    let b = organizer(Minted);
    let evil = "(ENTRANCE MOVED - see evil.example)";

    // Ticketmaster: A imports the stadium; B's feed names the same venue id
    let ra = import(
        &app,
        &a.token,
        "ticketmaster",
        "",
        &discovery("G1", "KovZpZA7AAEA", "Dodger Stadium", "1000 Vin Scully Ave"),
    );
    let a_event = ra["results"][0]["event_id"].as_str().unwrap().to_string();
    let (a_venue, _) = venue_of(&app, &a_event);
    assert_eq!(a_venue["name"], "Dodger Stadium");
    let rb = import(&app, &b.token, "ticketmaster", "", &discovery("G2", "KovZpZA7AAEA", evil, "666 Scam Road"));
    let b_event = rb["results"][0]["event_id"].as_str().unwrap().to_string();
    let (a_after, a_ld) = venue_of(&app, &a_event);
    assert_eq!(a_after, a_venue, "A's venue is untouched by B's import");
    assert_eq!(a_ld["location"]["name"], "Dodger Stadium", "{a_ld}");
    assert!(!a_ld.to_string().contains("evil.example") && !a_ld.to_string().contains("Scam"), "{a_ld}");
    let (b_venue, b_ld) = venue_of(&app, &b_event);
    assert_ne!(b_venue["id"], a_venue["id"], "B got a venue of its own");
    assert_eq!(b_venue["name"], evil);
    assert_eq!(b_ld["location"]["name"], evil);
    // the importer's own venue still follows its feed
    import(&app, &b.token, "ticketmaster", "", &discovery("G2", "KovZpZA7AAEA", "B's corrected name", "1 Real Street"));
    let (b_fixed, _) = venue_of(&app, &b_event);
    assert_eq!((b_fixed["id"].clone(), b_fixed["name"].clone()), (b_venue["id"].clone(), json!("B's corrected name")));
    assert_eq!(venue_of(&app, &a_event).0, a_venue);

    // a venue made by hand is never an import's target either; nor is a
    // JSON-LD venue of another organizer (same @id)
    let place = |name: &str, street: &str| {
        json!({"@context": "https://schema.org", "@type": "Event", "name": format!("Night at {name}"), "startDate": days_ahead(35, "20:00"),
            "location": {"@type": "Place", "@id": "https://venues.example/hall-7", "name": name,
                "address": {"@type": "PostalAddress", "streetAddress": street, "addressLocality": "Austin", "addressCountry": "US"}}})
    };
    let la = import(&app, &a.token, "jsonld", "?timezone=America/Chicago", &place("Hall Seven", "7 Congress Ave"));
    let la_event = la["results"][0]["event_id"].as_str().unwrap().to_string();
    let (la_venue, _) = venue_of(&app, &la_event);
    let lb = import(&app, &b.token, "jsonld", "?timezone=America/Chicago", &place(evil, "666 Scam Road"));
    let lb_event = lb["results"][0]["event_id"].as_str().unwrap().to_string();
    let (la_after, la_ld) = venue_of(&app, &la_event);
    assert_eq!(la_after, la_venue);
    assert_eq!(la_ld["location"]["name"], "Hall Seven");
    assert_eq!(la_ld["location"]["address"]["streetAddress"], "7 Congress Ave", "{la_ld}");
    assert_ne!(venue_of(&app, &lb_event).0["id"], la_venue["id"]);
}

// ---------------------------------------------------------------------------
// 3. The first admin

#[test]
fn the_first_admin_needs_its_password_and_registering_the_address_never_makes_one() {
    // admin_email alone (the old configuration): whoever registers it is a customer
    let no_password = App::spawn_with(&[("admin_email", "root@boxoffice.test")]);
    let r = no_password.post("/api/auth/register", &json!({"email": "ROOT@boxoffice.test", "password": PASSWORD}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["user"]["role"], "customer");
    assert_eq!(no_password.get_as(r.json()["access_token"].as_str().unwrap(), "/api/users").status, 403);
    drop(no_password);

    // admin_email + admin_password: the account exists with that password
    let app = accounts::spawn(&[]);
    let taken = app.post(
        "/api/auth/register",
        &json!({"email": accounts::ADMIN_EMAIL.to_uppercase(), "password": "my-own-password-123"}),
    );
    let p = taken.assert_problem(409);
    assert_eq!(p["type"], "/problems/email-taken");
    app.post("/api/auth/login", &json!({"email": accounts::ADMIN_EMAIL, "password": "my-own-password-123"}))
        .assert_problem(401);
    let admin = accounts::login(&app, accounts::ADMIN_EMAIL, PASSWORD);
    assert_eq!(admin.role, "admin");
    assert_eq!(app.get_as(&admin.access_token, "/api/users").status, 200);

    // erasing the admin frees the address, not the role
    assert_eq!(accounts::delete_as(&app, &admin.access_token, "/api/users/me").status, 204);
    let again = app.post("/api/auth/register", &json!({"email": accounts::ADMIN_EMAIL, "password": PASSWORD}));
    assert_eq!(again.status, 201, "{}", again.text());
    let again = accounts::Tokens::from_reply(&again);
    assert_eq!(again.role, "customer");
    assert_eq!(accounts::login(&app, accounts::ADMIN_EMAIL, PASSWORD).role, "customer");
    app.get_as(&again.access_token, "/api/users").assert_problem(403);
}

// ---------------------------------------------------------------------------
// 10. Drafts

#[test]
fn a_drafts_availability_is_as_private_as_the_draft() {
    let app = App::spawn();
    let org = organizer(Minted);
    let other = organizer(Minted);
    let venue = create_venue(&app, &org.token, &ga_venue("Draft Hall", "Denver", "America/Denver"));
    let mut body = event_body(&venue, "Secret Show", &days_ahead(25, "20:00"));
    body["tiers"] =
        json!([{"name": "Floor", "price_minor": 4200, "currency": "USD", "kind": "general_admission", "capacity": 77}]);
    let draft = create_event(&app, &org.token, &body);
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_str().unwrap().to_string();
    let path = format!("/api/holds/availability/{id}");
    app.get(&format!("/api/events/{id}")).assert_problem(404);
    for token in [None, Some(accounts::customer(Minted).token), Some(other.token.clone()), Some(org.token.clone())] {
        for path in [path.clone(), format!("/api/holds/layout/{id}/1"), format!("/api/holds/layout/{id}/2")] {
            let r = match &token {
                Some(t) => app.get_as(t, &path),
                None => app.get(&path),
            };
            let p = r.assert_problem(404);
            assert!(p.get("tiers").is_none() && !r.text().contains("price_minor"), "{}", r.text());
        }
    }
    // once published, the same read answers
    publish(&app, &org.token, &id);
    let r = app.get(&path);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["tiers"][0]["capacity"], 77, "{}", r.text());
}
