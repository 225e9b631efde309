//! `auth` through the runner: accounts, token responses, refresh rotation
//! (including the concurrent race and reuse detection), logout, password
//! change, forged tokens, key rotation, login delays and registration rate limits,
//! the first admin.

use base64::Engine;
use e2e::accounts::{self, login, refresh, register, unique_email, Tokens, PASSWORD};
use e2e::race::at_once;
use e2e::{json, App, Value};
use hmac::{Hmac, Mac};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEV_KID: &str = "dev1";
const DEV_SECRET: &str = "boxoffice-development-signing-key-change-me";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

fn decode_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("JWT part");
    serde_json::from_slice(&b64().decode(part).expect("base64url")).expect("JSON")
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims(sub: &str, exp_in: i64) -> Value {
    let t = now();
    json!({"sub": sub, "role": "customer", "iat": t, "exp": t + exp_in, "iss": "boxoffice", "aud": "boxoffice-api", "jti": "t1"})
}

/// A JWS compact token (RFC 7515 §7.1) with header `{"alg", "typ", "kid"}`
/// and `claims`, MAC'd by hand with HMAC over SHA-256/384/512 (`alg`
/// `HS256`/`HS384`/`HS512`, RFC 7518 §3.2): the app's own JWT code signs
/// HS256 only, and a forger uses none of it.
fn sign(alg: &str, kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    let input = format!("{}.{}", b64().encode(header.to_string()), b64().encode(claims.to_string()));
    fn mac<M: Mac + hmac::digest::KeyInit>(secret: &str, input: &str) -> Vec<u8> {
        let mut m = <M as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
        m.update(input.as_bytes());
        m.finalize().into_bytes().to_vec()
    }
    let sig = match alg {
        "HS256" => mac::<Hmac<sha2::Sha256>>(secret, &input),
        "HS384" => mac::<Hmac<sha2::Sha384>>(secret, &input),
        "HS512" => mac::<Hmac<sha2::Sha512>>(secret, &input),
        other => panic!("no MAC for {other}"),
    };
    format!("{input}.{}", b64().encode(sig))
}

fn session(app: &App, token: &str) -> e2e::Reply {
    app.get_as(token, "/api/auth/session")
}

#[test]
fn register_and_login_answer_oauth_token_responses() {
    let app = App::spawn();
    let email = unique_email("Ann");
    let r = app
        .post("/api/auth/register", &json!({"email": format!("  {}  ", email.to_uppercase()), "password": PASSWORD}));
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 900);
    assert!(v["refresh_token"].as_str().unwrap().len() >= 43);
    assert_eq!(v["user"]["email"], email.to_lowercase(), "normalised");
    assert_eq!(v["user"]["role"], "customer");
    let id = v["user"]["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/users/{id}").as_str()));

    let access = v["access_token"].as_str().unwrap();
    let header = decode_part(access, 0);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], DEV_KID);
    let c = decode_part(access, 1);
    for claim in ["sub", "role", "iat", "exp", "iss", "aud", "jti"] {
        assert!(!c[claim].is_null(), "claim {claim} in {c}");
    }
    assert_eq!(c["sub"], id);
    assert_eq!(c["iss"], "boxoffice");
    assert_eq!(c["aud"], "boxoffice-api");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900, "15-minute life");

    let s = session(&app, access);
    assert_eq!(s.status, 200, "{}", s.text());
    assert_eq!(s.json()["user_id"], id);

    // login ignores case and surrounding spaces; measure its latency (argon2id m=19 MiB, t=2)
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let t = login(&app, &format!(" {} ", email.to_uppercase()), PASSWORD);
        times.push(t0.elapsed());
        assert_eq!(t.user_id, id);
    }
    times.sort();
    eprintln!("login latency through the runner: median {:?}, max {:?}", times[2], times[4]);
}

#[test]
fn emails_are_unique_case_insensitively() {
    let app = App::spawn();
    let local = unique_email("dup");
    register(&app, &local.to_lowercase(), PASSWORD);
    let r =
        app.post("/api/auth/register", &json!({"email": local.to_uppercase(), "password": "another-fine-password"}));
    assert_eq!(r.assert_problem(409)["type"], "/problems/email-taken");
}

#[test]
fn bad_registrations_are_422_and_write_nothing() {
    let app = App::spawn();
    let cases = [
        (json!({"email": "not-an-email", "password": PASSWORD}), vec!["email"]),
        (json!({"email": unique_email("p"), "password": "short"}), vec!["password"]),
        (json!({"email": unique_email("p"), "password": "Password123"}), vec!["password"]),
        (json!({"email": unique_email("p"), "password": "qwertyuiop"}), vec!["password"]),
        (json!({"email": "x@", "password": "1234567890"}), vec!["email", "password"]),
    ];
    for (body, fields) in cases {
        let r = app.post("/api/auth/register", &body);
        let p = r.assert_problem(422);
        let got: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(got, fields, "{body}");
        if let Some(email) = body["email"].as_str() {
            let l = app.post("/api/auth/login", &json!({"email": email, "password": body["password"]}));
            l.assert_problem(401);
        }
    }
    app.post("/api/auth/register", &json!({"email": 5, "password": PASSWORD})).assert_problem(422);
    app.call_raw("POST", "/api/auth/register", "application/json", b"{\"email\":", &[]).assert_problem(400);
}

#[test]
fn wrong_password_and_unknown_account_look_the_same() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let a = app.post("/api/auth/login", &json!({"email": t.email, "password": "wrong-password-here"}));
    let b = app.post("/api/auth/login", &json!({"email": unique_email("ghost"), "password": "wrong-password-here"}));
    let (pa, pb) = (a.assert_problem(401), b.assert_problem(401));
    assert_eq!(pa["detail"], pb["detail"]);
    assert!(a.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[test]
fn refresh_rotates_and_reuse_of_a_rotated_token_revokes_the_family() {
    let app = App::spawn();
    let a = accounts::customer(&app);
    let other_device = login(&app, &a.email, PASSWORD);

    let r = refresh(&app, &a.refresh_token);
    assert_eq!(r.status, 200, "{}", r.text());
    let b = Tokens::from_reply(&r);
    assert_ne!(b.refresh_token, a.refresh_token);
    assert_eq!(b.user_id, a.user_id);
    assert_eq!(session(&app, &b.access_token).status, 200);
    let c = Tokens::from_reply(&refresh(&app, &b.refresh_token));

    // A was rotated and its successor B was used since: clearly not a race.
    refresh(&app, &a.refresh_token).assert_problem(401);
    // the whole family is gone, including the newest token C
    refresh(&app, &c.refresh_token).assert_problem(401);
    // another sign-in (another family) is untouched
    assert_eq!(refresh(&app, &other_device.refresh_token).status, 200);
    // unknown and empty tokens
    refresh(&app, "not-a-token").assert_problem(401);
    // neither a refresh_token nor the refresh cookie
    app.post("/api/auth/refresh", &json!({})).assert_problem(401);
}

#[test]
fn presenting_a_rotated_token_after_the_race_window_revokes_the_family() {
    let app = App::spawn();
    let a = accounts::customer(&app);
    let b = Tokens::from_reply(&refresh(&app, &a.refresh_token));
    // within the race window the old token gets 409 and no new token
    let race = refresh(&app, &a.refresh_token);
    assert_eq!(race.assert_problem(409)["type"], "/problems/refresh-race");
    std::thread::sleep(Duration::from_millis(5_500));
    refresh(&app, &a.refresh_token).assert_problem(401);
    refresh(&app, &b.refresh_token).assert_problem(401);
}

#[test]
fn five_simultaneous_refreshes_issue_exactly_one_token() {
    let app = App::spawn();
    for round in 0..3 {
        let t = accounts::customer(&app);
        let replies = at_once(5, |_| refresh(&app, &t.refresh_token));
        let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {:?}",
            replies.iter().map(|r| (r.status, r.text())).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status != 200) {
            assert_eq!(r.assert_problem(409)["type"], "/problems/refresh-race");
        }
        // the legitimate race did not log the user out: the one new token works
        let next = Tokens::from_reply(winners[0]);
        assert_eq!(refresh(&app, &next.refresh_token).status, 200, "round {round}");
    }
}

#[test]
fn logout_ends_one_session_and_logout_all_ends_every_session() {
    let app = App::spawn();
    let a = accounts::customer(&app);
    let b = login(&app, &a.email, PASSWORD);
    let c = login(&app, &a.email, PASSWORD);
    assert_eq!(app.post("/api/auth/logout", &json!({"refresh_token": a.refresh_token})).status, 204);
    refresh(&app, &a.refresh_token).assert_problem(401);
    let b2 = Tokens::from_reply(&refresh(&app, &b.refresh_token));
    // logout is idempotent and does not reveal whether a token existed
    assert_eq!(app.post("/api/auth/logout", &json!({"refresh_token": "nope"})).status, 204);

    app.post("/api/auth/logout-all", &json!({})).assert_problem(401);
    assert_eq!(app.post_as(&c.access_token, "/api/auth/logout-all", &json!({})).status, 204);
    refresh(&app, &b2.refresh_token).assert_problem(401);
    refresh(&app, &c.refresh_token).assert_problem(401);
    // signing in again works
    login(&app, &a.email, PASSWORD);
}

#[test]
fn password_change_keeps_this_device_and_ends_the_others() {
    let app = App::spawn();
    let a = accounts::customer(&app);
    let other = login(&app, &a.email, PASSWORD);
    let new_pw = "a-brand-new-passphrase";

    let wrong = app.post_as(
        &a.access_token,
        "/api/auth/password",
        &json!({"current_password": "nope-nope-nope", "new_password": new_pw}),
    );
    assert_eq!(wrong.assert_problem(422)["errors"][0]["field"], "current_password");
    let weak = app.post_as(
        &a.access_token,
        "/api/auth/password",
        &json!({"current_password": PASSWORD, "new_password": "password1"}),
    );
    assert_eq!(weak.assert_problem(422)["errors"][0]["field"], "new_password");
    app.post("/api/auth/password", &json!({"current_password": PASSWORD, "new_password": new_pw})).assert_problem(401);

    let r = app.post_as(
        &a.access_token,
        "/api/auth/password",
        &json!({"current_password": PASSWORD, "new_password": new_pw}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let fresh = Tokens::from_reply(&r);
    refresh(&app, &other.refresh_token).assert_problem(401);
    refresh(&app, &a.refresh_token).assert_problem(401);
    assert_eq!(refresh(&app, &fresh.refresh_token).status, 200, "this device stays signed in");
    app.post("/api/auth/login", &json!({"email": a.email, "password": PASSWORD})).assert_problem(401);
    login(&app, &a.email, new_pw);
}

#[test]
fn forged_and_malformed_access_tokens_are_401() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let sub = t.user_id.as_str();
    let h = |v: Value| b64().encode(v.to_string());
    let mut cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{}.{}.", h(json!({"alg": "none", "typ": "JWT", "kid": DEV_KID})), h(claims(sub, 900)))),
        ("HS512 with the real key", sign("HS512", Some(DEV_KID), DEV_SECRET, &claims(sub, 900))),
        ("HS384 with the real key", sign("HS384", Some(DEV_KID), DEV_SECRET, &claims(sub, 900))),
        ("wrong key", sign("HS256", Some(DEV_KID), "some-other-secret-of-at-least-32-bytes!", &claims(sub, 900))),
        ("unknown kid", sign("HS256", Some("k9"), DEV_SECRET, &claims(sub, 900))),
        ("no kid", sign("HS256", None, DEV_SECRET, &claims(sub, 900))),
        ("expired beyond leeway", sign("HS256", Some(DEV_KID), DEV_SECRET, &claims(sub, -120))),
        ("refresh token as access token", t.refresh_token.clone()),
        ("garbage", "a.b.c".into()),
    ];
    let mut no_exp = claims(sub, 900);
    no_exp.as_object_mut().unwrap().remove("exp");
    cases.push(("missing exp", sign("HS256", Some(DEV_KID), DEV_SECRET, &no_exp)));
    let mut bad_iss = claims(sub, 900);
    bad_iss["iss"] = json!("evil");
    cases.push(("wrong iss", sign("HS256", Some(DEV_KID), DEV_SECRET, &bad_iss)));
    let mut bad_aud = claims(sub, 900);
    bad_aud["aud"] = json!("other-api");
    cases.push(("wrong aud", sign("HS256", Some(DEV_KID), DEV_SECRET, &bad_aud)));
    let mut bad_role = claims(sub, 900);
    bad_role["role"] = json!("root");
    cases.push(("unknown role", sign("HS256", Some(DEV_KID), DEV_SECRET, &bad_role)));
    // a tampered payload with the original signature
    let parts: Vec<&str> = t.access_token.split('.').collect();
    let mut admin_claims = decode_part(&t.access_token, 1);
    admin_claims["role"] = json!("admin");
    cases.push(("tampered payload", format!("{}.{}.{}", parts[0], h(admin_claims), parts[2])));

    for (what, token) in &cases {
        for path in ["/api/auth/session", "/api/users/me"] {
            let r = app.get_as(token, path);
            assert_eq!(r.status, 401, "{what} on {path}: {}", r.text());
            r.assert_problem(401);
        }
    }
    // the real token, and one expired only within the 60 s leeway, pass
    assert_eq!(session(&app, &t.access_token).status, 200);
    let just_expired = sign("HS256", Some(DEV_KID), DEV_SECRET, &claims(sub, -30));
    assert_eq!(session(&app, &just_expired).status, 200, "60 s leeway");
    // a non-Bearer scheme is no credential at all
    let r = app.call("GET", "/api/auth/session", None, &[("authorization", &format!("Basic {}", t.access_token))]);
    r.assert_problem(401);
}

#[test]
fn keys_rotate_without_logging_anyone_out_and_removed_keys_fail() {
    let k1 = ("k1", "first-signing-secret-0123456789abcdef");
    let k2 = ("k2", "second-signing-secret-0123456789abcdef");
    let only_k1 = json!({"current": "k1", "keys": {"k1": k1.1}}).to_string();
    let both = json!({"current": "k2", "keys": {"k1": k1.1, "k2": k2.1}}).to_string();
    let only_k2 = json!({"current": "k2", "keys": {"k2": k2.1}}).to_string();

    // tokens issued before the rotation carry kid k1
    let before = App::spawn_with(&[("jwt_keys", &only_k1)]);
    let old = accounts::customer(&before);
    assert_eq!(decode_part(&old.access_token, 0)["kid"], "k1");

    // after rotation (k2 current, k1 still listed) old tokens still validate, new ones use k2
    let rotated = App::spawn_with(&[("jwt_keys", &both)]);
    assert_eq!(session(&rotated, &old.access_token).status, 200, "previous key still verifies");
    let new = accounts::customer(&rotated);
    assert_eq!(decode_part(&new.access_token, 0)["kid"], "k2");
    // refresh tokens are opaque: a session refreshed after rotation gets a k2 token
    let refreshed = Tokens::from_reply(&refresh(&rotated, &new.refresh_token));
    assert_eq!(decode_part(&refreshed.access_token, 0)["kid"], "k2");

    // once k1 is removed its tokens fail, k2's still pass
    let retired = App::spawn_with(&[("jwt_keys", &only_k2)]);
    session(&retired, &old.access_token).assert_problem(401);
    assert_eq!(session(&retired, &new.access_token).status, 200);
    // and a k1-signed token made now (not expired) fails too
    let forged_k1 = sign("HS256", Some("k1"), k1.1, &claims(&old.user_id, 900));
    session(&retired, &forged_k1).assert_problem(401);
}

#[test]
fn wrong_passwords_slow_down_the_client_with_growing_delays() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let wrong =
        |i: u32| app.post("/api/auth/login", &json!({"email": t.email, "password": format!("wrong-{i}-password")}));
    let right = || app.post("/api/auth/login", &json!({"email": t.email.to_uppercase(), "password": PASSWORD}));
    let retry_after = |r: &e2e::Reply| -> u64 {
        assert_eq!(r.assert_problem(429)["type"], "/problems/rate-limited");
        r.header("retry-after").expect("Retry-After").parse().unwrap()
    };
    // four free failures, then each one makes this client wait longer
    for i in 0..5 {
        assert_eq!(wrong(i).status, 401, "attempt {i}");
    }
    assert_eq!(retry_after(&right()), 1, "the fifth failure costs a second, even for the right password");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(wrong(5).status, 401);
    assert_eq!(retry_after(&wrong(6)), 2, "the sixth costs two");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // the right password, once the short wait is over, and the slate is clean
    assert_eq!(right().status, 200);
    assert_eq!(wrong(7).status, 401);
    assert_eq!(wrong(8).status, 401);
    // other accounts are not affected; the existing session still works
    login(&app, &accounts::customer(&app).email, PASSWORD);
    assert_eq!(refresh(&app, &t.refresh_token).status, 200);
}

#[test]
fn login_is_rate_limited_per_client_address() {
    let app = App::spawn();
    let t0 = Instant::now();
    for i in 0..50 {
        // a different (unknown) account each time: only the address limit applies
        let r = app.post(
            "/api/auth/login",
            &json!({"email": unique_email(&format!("spray{i}")), "password": "guessing-passwords"}),
        );
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text());
    }
    eprintln!("50 failed logins took {:?}", t0.elapsed());
    // a spoofed spin-client-addr header does not help: Spin's own value comes last
    let r = app.call(
        "POST",
        "/api/auth/login",
        Some(&json!({"email": unique_email("spray"), "password": "guessing-passwords"})),
        &[("spin-client-addr", "203.0.113.9:4444")],
    );
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
}

#[test]
fn private_endpoints_are_not_reachable_from_outside() {
    let app = accounts::spawn(&[]);
    let admin = accounts::admin_token(&app);
    let t = accounts::customer(&app);
    for (method, path) in [
        ("GET", "/api/auth/internal/accounts".to_string()),
        ("GET", format!("/api/auth/internal/accounts/{}", t.user_id)),
        ("POST", format!("/api/auth/internal/accounts/{}/erase", t.user_id)),
    ] {
        let r = app.call(method, &path, None, &[("authorization", &format!("Bearer {admin}"))]);
        r.assert_problem(404);
        // forging the chaining header does not help either
        let r = app.call(method, &path, None, &[("spin-full-url", &format!("http://auth.spin.internal{path}"))]);
        r.assert_problem(404);
    }
    let r = accounts::put_as(
        &app,
        &admin,
        &format!("/api/auth/internal/accounts/{}/role", t.user_id),
        &json!({"role": "admin"}),
    );
    r.assert_problem(404);
    login(&app, &t.email, PASSWORD);
}

#[test]
fn health_reports_database_store_and_signing_keys() {
    let app = App::spawn();
    let r = app.get("/api/auth/health");
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> =
        r.json()["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["sqlite:auth", "kv:auth", "secret:jwt_keys"]);
}

#[test]
fn registration_is_rate_limited_per_client_address() {
    let app = App::spawn_with(&[("register_limit_per_hour", "3")]);
    let first = register(&app, &unique_email("reg"), PASSWORD);
    register(&app, &unique_email("reg"), PASSWORD);
    // invalid input is answered before counting
    app.post("/api/auth/register", &json!({"email": "not-an-email", "password": PASSWORD})).assert_problem(422);
    register(&app, &unique_email("reg"), PASSWORD);
    // over the limit: 429 for a new address and for a taken one alike (no
    // e-mail enumeration), even with a spoofed spin-client-addr header
    for email in [unique_email("reg"), first.email.clone()] {
        let r = app.call(
            "POST",
            "/api/auth/register",
            Some(&json!({"email": email, "password": PASSWORD})),
            &[("spin-client-addr", "203.0.113.9:4444")],
        );
        let p = r.assert_problem(429);
        assert_eq!(p["type"], "/problems/rate-limited");
        let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=3600).contains(&retry), "{retry}");
    }
    // signing in is not affected
    login(&app, &first.email, PASSWORD);
}
