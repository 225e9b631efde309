//! "Forgot password" (issue 13, item 7): the same answer whether or not the
//! address has an account, a single-use link e-mailed through the
//! notifications provider path, a policy-checked new password, every
//! session ended on reset, limits per address and per client — and two
//! uses of one link at once succeed once.

use e2e::accounts::{self, unique_email};
use e2e::race::at_once;
use e2e::tickets as t;
use e2e::{json, App, Reply};

const OLD: &str = "correct horse battery staple";
const NEW: &str = "a much better passphrase 2026";

fn forgot(app: &App, email: &str) -> Reply {
    app.post("/api/auth/password/forgot", &json!({"email": email}))
}

fn reset(app: &App, token: &str, password: &str) -> Reply {
    app.post("/api/auth/password/reset", &json!({"token": token, "new_password": password}))
}

/// The reset links e-mailed to `email`, newest first, as their tokens.
fn tokens_mailed(app: &App, email: &str, at_least: usize) -> Vec<String> {
    accounts::mailed_tokens(app, email, "Choose a new Boxoffice password", "reset-password", at_least)
}

fn login(app: &App, email: &str, password: &str) -> u16 {
    app.post("/api/auth/login", &json!({"email": email, "password": password})).status
}

#[test]
fn a_reset_link_works_once_ends_every_session_and_says_nothing_about_unknown_addresses() {
    let app = accounts::spawn(&[]);
    let email = unique_email("forgetful");
    let session = accounts::register(&app, &email, OLD);

    // the same answer for an account and for nobody; bad input is 422
    let known = forgot(&app, &email);
    let unknown_address = unique_email("nobody");
    let unknown = forgot(&app, &unknown_address);
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known.json(), unknown.json(), "no difference to tell");
    forgot(&app, "not-an-address").assert_problem(422);
    app.post("/api/auth/password/forgot", &json!({"email": email, "admin": true})).assert_problem(422);
    let token = tokens_mailed(&app, &email, 1).remove(0);
    assert!(token.len() >= 40, "256 random bits: {token}");
    assert!(t::mailbox(&app, &unknown_address).is_empty(), "nothing is sent to an address without an account");

    // a password the policy refuses leaves the link usable; a forged one is refused
    assert_eq!(reset(&app, &token, "short").assert_problem(422)["errors"][0]["field"], "new_password");
    assert_eq!(reset(&app, &format!("{token}x"), NEW).assert_problem(409)["type"], "/problems/reset-token-invalid");
    assert_eq!(login(&app, &email, OLD), 200, "nothing changed yet");

    // two uses of the link at once: one wins
    let answers: Vec<u16> = at_once(2, |i| reset(&app, &token, &format!("{NEW} {i}")).status);
    let mut sorted = answers.clone();
    sorted.sort();
    assert_eq!(sorted, vec![200, 409], "{answers:?}");
    let winner = format!("{NEW} {}", answers.iter().position(|s| *s == 200).unwrap());

    // every session ended: the old refresh and access tokens, the old password
    accounts::refresh(&app, &session.refresh_token).assert_problem(401);
    app.get_as(&session.access_token, "/api/auth/session").assert_problem(401);
    assert_eq!(login(&app, &email, OLD), 401);
    assert_eq!(login(&app, &email, &winner), 200);
    // used: never again
    reset(&app, &token, "yet another passphrase 99").assert_problem(409);

    // a newer request replaces the older link
    assert_eq!(forgot(&app, &email).status, 202);
    assert_eq!(forgot(&app, &email).status, 202);
    let mailed = tokens_mailed(&app, &email, 3);
    let (newest, older) = (&mailed[0], &mailed[1]);
    assert_ne!(newest, older);
    let newest_works = reset(&app, newest, "third time lucky passphrase").status;
    let older_works = reset(&app, older, "fourth time lucky passphrase").status;
    assert_eq!((newest_works, older_works), (200, 409), "only the newest link works");
}

#[test]
fn reset_requests_are_limited_per_address_whether_or_not_it_has_an_account() {
    let app = accounts::spawn(&[]);
    let nobody = unique_email("limited");
    for _ in 0..3 {
        assert_eq!(forgot(&app, &nobody).status, 202);
    }
    let r = forgot(&app, &nobody);
    assert_eq!(r.assert_problem(429)["type"], "/problems/rate-limited");
    assert!(r.header("retry-after").is_some());
    // another address from the same client still gets an answer (per-client limit is higher)
    assert_eq!(forgot(&app, &unique_email("other")).status, 202);
}
