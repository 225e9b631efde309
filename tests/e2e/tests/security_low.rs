//! Issue 17 (security review of b5a251e): its Low items 11 and 12, each as
//! it was found, now refused.
//!
//! 11. Wrong passwords are no lock-out: a stranger's failures slow only the
//!     stranger, and the client address behind a proxy is configurable.

use e2e::accounts::{self, PASSWORD};
use e2e::{json, App, Reply};

/// `POST /api/auth/login` as the client a trusted proxy names in
/// `X-Forwarded-For`.
fn login_from(app: &App, client: &str, email: &str, password: &str) -> Reply {
    app.call("POST", "/api/auth/login", Some(&json!({"email": email, "password": password})), &[("x-forwarded-for", client)])
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
