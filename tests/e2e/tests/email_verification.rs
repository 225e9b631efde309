//! E-mail verification of new accounts (issue 13, item 7, second half):
//! registration mails a link at once; opening it marks the account
//! verified (token responses, the session, the profile and the admin list
//! say so); a used link answers "verified" again while it is valid, an
//! unknown, replaced or expired one 409; two uses at once both succeed and
//! verify once; a resend replaces the old link and is limited; a completed
//! password reset verifies too; and only a verified account can be made an
//! organizer or staff member — while an unverified one buys tickets.

use e2e::accounts::{self, mailed_tokens, unique_email, verify, CONFIRM_SUBJECT, PASSWORD};
use e2e::race::at_once;
use e2e::tickets as t;
use e2e::{catalog, journey, json, App, Reply, Value};

const ROUTE: &str = "verify-email";
const DAY_MS: i64 = 24 * 3600 * 1000;

fn resend(app: &App, token: &str) -> Reply {
    app.post_as(token, "/api/auth/email/verify/resend", &json!({}))
}

fn session(app: &App, token: &str) -> Value {
    let r = app.get_as(token, "/api/auth/session");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The admin list's row of `user_id`.
fn listed(app: &App, user_id: &str) -> Value {
    let admin = accounts::admin_token(app);
    let page = app.get_as(&admin, "/api/users?limit=100");
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .cloned()
        .unwrap_or_else(|| panic!("{user_id} not listed"))
}

fn role(app: &App, user_id: &str, role: &str) -> Reply {
    accounts::put_as(app, &accounts::admin_token(app), &format!("/api/users/{user_id}/role"), &json!({"role": role}))
}

/// `(email_verified_ms, used_ms of each of its links)` of account `user_id`, read from auth's database.
fn stored(app: &App, user_id: &str) -> (Option<i64>, Vec<Option<i64>>) {
    let db = rusqlite::Connection::open(app.state_dir().join("auth.db")).expect("open auth.db");
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let verified = db
        .query_row("SELECT email_verified_ms FROM accounts WHERE id = ?", [user_id], |r| r.get(0))
        .expect("the account");
    let mut q = db.prepare("SELECT used_ms FROM email_verifications WHERE user_id = ? ORDER BY created_ms").unwrap();
    let used = q.query_map([user_id], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    (verified, used)
}

/// Moves every link of `user_id` a day into the past, as if 24 hours had
/// gone by since it was sent; returns how many there are.
fn age_links(app: &App, user_id: &str) -> usize {
    let db = rusqlite::Connection::open(app.state_dir().join("auth.db")).expect("open auth.db");
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    db.execute(
        "UPDATE email_verifications SET created_ms = created_ms - ?1, expires_ms = expires_ms - ?1 WHERE user_id = ?2",
        rusqlite::params![DAY_MS, user_id],
    )
    .expect("age the links")
}

#[test]
fn registration_mails_a_link_at_once_that_verifies_the_account_and_the_flag_shows_everywhere() {
    let app = accounts::spawn(&[]);
    let email = unique_email("newcomer");
    let me = accounts::register(&app, &email, PASSWORD);
    assert!(!me.email_verified, "a new account is unverified");
    assert_eq!(session(&app, &me.access_token)["email_verified"], false);
    assert_eq!(app.get_as(&me.access_token, "/api/users/me").json()["email_verified"], false);
    assert_eq!(listed(&app, &me.user_id)["email_verified"], false);

    // relayed in the registration's own request: the e-mail is there before any tick
    let mail = t::mailbox(&app, &email);
    let mail: Vec<&Value> = mail.iter().filter(|m| m["subject"] == CONFIRM_SUBJECT).collect();
    assert_eq!(mail.len(), 1, "one confirmation e-mail at once: {mail:?}");
    assert_eq!(mail[0]["to"], json!([email]));
    assert!(mail[0]["text"].as_str().unwrap().contains("24 hours"), "{}", mail[0]["text"]);
    let token = mailed_tokens(&app, &email, CONFIRM_SUBJECT, ROUTE, 1).remove(0);
    assert!(token.len() >= 40, "256 random bits: {token}");

    // bad bodies and forged tokens change nothing
    for bad in
        [json!({}), json!({"token": 5}), json!({"token": token, "admin": true}), json!({"token": null}), json!("token")]
    {
        let r = app.post("/api/auth/email/verify", &bad);
        r.assert_problem(422);
    }
    app.call_raw("POST", "/api/auth/email/verify", "application/json", b"{\"token\":", &[]).assert_problem(400);
    for forged in [format!("{token}x"), token[1..].to_string(), String::new(), "a".repeat(500)] {
        assert_eq!(
            verify(&app, &forged).assert_problem(409)["type"],
            "/problems/verification-token-invalid",
            "{forged}"
        );
    }
    assert_eq!(session(&app, &me.access_token)["email_verified"], false, "still unverified");

    // the link works; opened again (a double click, a mail scanner) it says the same
    let r = verify(&app, &token);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"email_verified": true}));
    let again = verify(&app, &token);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), json!({"email_verified": true}));

    // the flag everywhere: session, token responses (sign-in, refresh), profile, the admin list
    assert_eq!(session(&app, &me.access_token)["email_verified"], true);
    let signed_in = accounts::login(&app, &email, PASSWORD);
    assert!(signed_in.email_verified);
    let refreshed = accounts::refresh(&app, &signed_in.refresh_token);
    assert_eq!(refreshed.json()["user"]["email_verified"], true, "{}", refreshed.text());
    assert_eq!(app.get_as(&me.access_token, "/api/users/me").json()["email_verified"], true);
    assert_eq!(listed(&app, &me.user_id)["email_verified"], true);
    // nothing left to confirm
    let done = resend(&app, &me.access_token);
    assert_eq!(done.assert_problem(409)["type"], "/problems/email-already-verified");
    resend(&app, "not-a-token").assert_problem(401);

    // the bootstrap admin's address counts as verified (the operator configured it)
    assert!(accounts::admin(&app).email_verified);

    // an erased account's link is dead, and auth's events forget its address
    let gone = accounts::delete_as(&app, &signed_in.access_token, "/api/users/me");
    assert_eq!(gone.status, 204, "{}", gone.text());
    assert_eq!(verify(&app, &token).assert_problem(409)["type"], "/problems/verification-token-invalid");
}

#[test]
fn a_resent_link_replaces_the_old_one_resends_are_limited_and_links_expire() {
    let app = accounts::spawn(&[]);
    let email = unique_email("resender");
    let me = accounts::register(&app, &email, PASSWORD);
    let first = mailed_tokens(&app, &email, CONFIRM_SUBJECT, ROUTE, 1).remove(0);
    // the confirmation is transactional: sent although booking e-mails are off
    let off = accounts::patch_as(
        &app,
        &me.access_token,
        "/api/users/me/settings",
        &json!({"notifications": {"booking": {"email": false}}}),
    );
    assert_eq!(off.status, 200, "{}", off.text());

    // three new links an hour; each replaces the unused ones before it
    for _ in 0..3 {
        let r = resend(&app, &me.access_token);
        assert_eq!(r.status, 202, "{}", r.text());
        assert!(r.json()["detail"].as_str().unwrap().contains(&email), "{}", r.text());
    }
    let limited = resend(&app, &me.access_token);
    assert_eq!(limited.assert_problem(429)["type"], "/problems/rate-limited");
    let wait: u64 = limited.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=3600).contains(&wait), "{wait}");
    let mailed = mailed_tokens(&app, &email, CONFIRM_SUBJECT, ROUTE, 4);
    assert_eq!(mailed.len(), 4, "the first link and three resends, not the refused one");
    assert_eq!(mailed[3], first);
    for older in &mailed[1..] {
        assert_eq!(
            verify(&app, older).assert_problem(409)["type"],
            "/problems/verification-token-invalid",
            "a replaced link"
        );
    }
    assert_eq!(session(&app, &me.access_token)["email_verified"], false);

    // the newest link, once 24 hours went by, is refused too
    assert_eq!(age_links(&app, &me.user_id), 1, "one link left: the newest");
    verify(&app, &mailed[0]).assert_problem(409);
    assert_eq!(session(&app, &me.access_token)["email_verified"], false);

    // a used link answers "verified" again only while it is valid
    let other_email = unique_email("prompt");
    let other = accounts::register(&app, &other_email, PASSWORD);
    let token = mailed_tokens(&app, &other_email, CONFIRM_SUBJECT, ROUTE, 1).remove(0);
    assert_eq!(verify(&app, &token).status, 200);
    age_links(&app, &other.user_id);
    verify(&app, &token).assert_problem(409);
    assert_eq!(session(&app, &other.access_token)["email_verified"], true, "the account stays verified");
}

#[test]
fn two_uses_of_one_link_at_once_both_succeed_and_verify_the_account_once() {
    let app = accounts::spawn(&[]);
    let email = unique_email("clicker");
    let me = accounts::register(&app, &email, PASSWORD);
    let token = mailed_tokens(&app, &email, CONFIRM_SUBJECT, ROUTE, 1).remove(0);
    const N: usize = 4;
    let answers: Vec<(u16, String)> = at_once(N, |_| {
        let r = verify(&app, &token);
        (r.status, r.text())
    });
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    // verified once: by the one use that took the token, at its time
    let (verified_ms, used) = stored(&app, &me.user_id);
    assert_eq!(used.len(), 1, "{used:?}");
    assert!(verified_ms.is_some() && verified_ms == used[0], "verified at {verified_ms:?}, the link used at {used:?}");
    assert_eq!(session(&app, &me.access_token)["email_verified"], true);
}

#[test]
fn the_verify_route_is_limited_per_client() {
    let app = accounts::spawn(&[]);
    for i in 0..60 {
        let r = verify(&app, &format!("guess-{i:040}"));
        assert_eq!(r.assert_problem(409)["type"], "/problems/verification-token-invalid", "attempt {i}");
    }
    let r = verify(&app, "guess-61");
    assert_eq!(r.assert_problem(429)["type"], "/problems/rate-limited");
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()), "{:?}", r.headers);
}

#[test]
fn only_verified_accounts_become_organizers_or_staff_and_a_password_reset_verifies() {
    let app = accounts::spawn(&[]);
    let email = unique_email("hopeful");
    let me = accounts::register(&app, &email, PASSWORD);
    for r in ["organizer", "staff"] {
        let refused = role(&app, &me.user_id, r);
        assert_eq!(refused.assert_problem(409)["type"], "/problems/email-unverified", "{r}");
    }
    let customer = role(&app, &me.user_id, "customer");
    assert_eq!(customer.status, 200, "customer is always allowed: {}", customer.text());
    assert_eq!(customer.json()["email_verified"], false);
    assert_eq!(accounts::login(&app, &email, PASSWORD).role, "customer", "nothing was granted");

    accounts::verify_email(&app, &email);
    let granted = role(&app, &me.user_id, "organizer");
    assert_eq!(granted.status, 200, "{}", granted.text());
    assert_eq!(granted.json()["email_verified"], true);
    assert_eq!(accounts::login(&app, &email, PASSWORD).role, "organizer");

    // a completed password reset proves the address as well
    let forgetful = unique_email("forgetful");
    let f = accounts::register(&app, &forgetful, PASSWORD);
    role(&app, &f.user_id, "staff").assert_problem(409);
    assert_eq!(app.post("/api/auth/password/forgot", &json!({"email": forgetful})).status, 202);
    let reset = mailed_tokens(&app, &forgetful, "Choose a new Boxoffice password", "reset-password", 1).remove(0);
    let new_password = "a fresh and long passphrase 31";
    let r = app.post("/api/auth/password/reset", &json!({"token": reset, "new_password": new_password}));
    assert_eq!(r.status, 200, "{}", r.text());
    let back = accounts::login(&app, &forgetful, new_password);
    assert!(back.email_verified, "the reset link reached the address");
    resend(&app, &back.access_token).assert_problem(409);
    assert_eq!(role(&app, &f.user_id, "staff").status, 200);
}

#[test]
fn an_unverified_account_buys_tickets() {
    let app = accounts::spawn(&[]);
    let p =
        journey::paid_purchase(&app, "Unconfirmed but welcome", &catalog::days_ahead(20, "20:00"), &["Ada Lovelace"]);
    assert_eq!(session(&app, &p.buyer.token)["email_verified"], false);
    let tickets = t::settle(&app, 20, || {
        let v = t::my_tickets(&app, &p.buyer.token, Some(&p.booking_id));
        (v.len() == 1).then_some(v)
    });
    assert!(tickets.is_some(), "the ticket is issued to an unverified buyer");
    let mail = t::settle(&app, 20, || {
        t::booking_mail(&app, &p.email)
            .into_iter()
            .find(|m| m["subject"].as_str().unwrap_or("").starts_with("Your tickets"))
    });
    assert!(mail.is_some(), "and e-mailed: {:?}", t::mailbox(&app, &p.email));
}
