//! Account helpers for every area's end-to-end tests: the one way to make a
//! fresh user ([`user`], with a wrapper per role), sign-up, sign-in, the
//! admin and role grants.
//!
//! A fresh user is either only a token ([`Minted`]: no account, no request,
//! for tests of other components and for crowds of buyers) or a real account
//! on an app (`&App`: registered, its role granted by the admin):
//!
//! ```no_run
//! use e2e::accounts::{self, Minted};
//! let app = accounts::spawn(&[]);                // app with the test admin configured
//! let buyer = accounts::customer(&app);          // registered customer, signed in: Tokens
//! let org = accounts::organizer(&app);           // registered, address confirmed, role granted
//! let r = app.get_as(&org.access_token, "/api/users/me");
//! let crowd = accounts::customer(Minted);        // a token only: User
//! let admin = accounts::user(Minted, "admin");
//! ```

use crate::{json, App, Reply, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The test admin's address (`admin_email` of [`spawn`]); its first
/// password (`admin_password`) is [`PASSWORD`].
pub const ADMIN_EMAIL: &str = "admin@boxoffice.test";
/// The password every helper-made account uses.
pub const PASSWORD: &str = "correct-horse-battery-staple";

/// A token response (RFC 6749 §5.1) plus who signed in.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// JWT access token.
    pub access_token: String,
    /// Opaque refresh token.
    pub refresh_token: String,
    /// Seconds.
    pub expires_in: i64,
    /// `usr_…`
    pub user_id: String,
    /// Normalised e-mail.
    pub email: String,
    /// Role the access token carries.
    pub role: String,
    /// `user.email_verified`: whether the account had confirmed its address.
    pub email_verified: bool,
}

impl Tokens {
    /// The signed-in user as a [`User`]: `user_id` and the access token.
    pub fn user(&self) -> User {
        User { user_id: self.user_id.clone(), token: self.access_token.clone() }
    }

    /// Parses a token response body.
    pub fn from_reply(r: &Reply) -> Tokens {
        let v = r.json();
        Tokens {
            access_token: v["access_token"].as_str().expect("access_token").into(),
            refresh_token: v["refresh_token"].as_str().expect("refresh_token").into(),
            expires_in: v["expires_in"].as_i64().expect("expires_in"),
            user_id: v["user"]["id"].as_str().expect("user.id").into(),
            email: v["user"]["email"].as_str().expect("user.email").into(),
            role: v["user"]["role"].as_str().expect("user.role").into(),
            email_verified: v["user"]["email_verified"].as_bool().expect("user.email_verified"),
        }
    }
}

/// Starts the app with the test admin configured — [`ADMIN_EMAIL`] as
/// `admin_email`, [`PASSWORD`] as `admin_password`: auth makes that admin on
/// first use (its one-time bootstrap) — plus `vars`.
pub fn spawn(vars: &[(&str, &str)]) -> App {
    let mut all = vec![("admin_email", ADMIN_EMAIL), ("admin_password", PASSWORD)];
    all.extend_from_slice(vars);
    App::spawn_with(&all)
}

/// A new unique e-mail address (`<prefix>-<n>-<pid>@example.test`).
pub fn unique_email(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}@example.test", N.fetch_add(1, Ordering::Relaxed), std::process::id())
}

/// `POST /api/auth/register`; panics unless 201.
pub fn register(app: &App, email: &str, password: &str) -> Tokens {
    let r = app.post("/api/auth/register", &json!({ "email": email, "password": password }));
    assert_eq!(r.status, 201, "register {email}: {}", r.text());
    Tokens::from_reply(&r)
}

/// `POST /api/auth/login`; panics unless 200.
pub fn login(app: &App, email: &str, password: &str) -> Tokens {
    let r = app.post("/api/auth/login", &json!({ "email": email, "password": password }));
    assert_eq!(r.status, 200, "login {email}: {}", r.text());
    Tokens::from_reply(&r)
}

/// `POST /api/auth/refresh` with `refresh_token` (any answer).
pub fn refresh(app: &App, refresh_token: &str) -> Reply {
    app.post("/api/auth/refresh", &json!({ "refresh_token": refresh_token }))
}

/// The admin's tokens: signs in as [`ADMIN_EMAIL`] (the account auth's
/// bootstrap made) once per app and reuses the answer for 10 minutes (sign-ins
/// are limited to 10 per account per 15 minutes). The app must come from
/// [`spawn`] (or set `admin_email` and `admin_password` itself).
pub fn admin(app: &App) -> Tokens {
    static SIGNED_IN: Mutex<Vec<(String, Instant, Tokens)>> = Mutex::new(Vec::new());
    let key = format!("{} pid {}", app.base, app.pid());
    let mut cache = SIGNED_IN.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(_, at, _)| at.elapsed() < Duration::from_secs(600));
    if let Some((_, _, t)) = cache.iter().find(|(k, _, _)| *k == key) {
        return t.clone();
    }
    let r = app.post("/api/auth/login", &json!({ "email": ADMIN_EMAIL, "password": PASSWORD }));
    assert_eq!(
        r.status,
        200,
        "admin sign-in: was the app started with accounts::spawn (admin_email, admin_password)? {}",
        r.text()
    );
    let t = Tokens::from_reply(&r);
    assert_eq!(t.role, "admin", "{ADMIN_EMAIL} is not the admin (use accounts::spawn)");
    cache.push((key, Instant::now(), t.clone()));
    t
}

/// The admin's access token.
pub fn admin_token(app: &App) -> String {
    admin(app).access_token
}

/// The subject of the e-mail that confirms a new account's address.
pub const CONFIRM_SUBJECT: &str = "Confirm your Boxoffice e-mail address";

/// The tokens of the e-mailed links to `to` whose subject is `subject` and
/// whose link is `#/<route>/<token>`, newest first, once at least
/// `at_least` such e-mails are in the sandbox mailbox (waiting up to 20 s,
/// running the ticks meanwhile); panics when they do not arrive.
pub fn mailed_tokens(app: &App, to: &str, subject: &str, route: &str, at_least: usize) -> Vec<String> {
    let marker = format!("#/{route}/");
    crate::tickets::settle(app, 20, || {
        let mails: Vec<Value> =
            crate::tickets::mailbox(app, to).into_iter().filter(|m| m["subject"] == subject).collect();
        (mails.len() >= at_least).then_some(mails)
    })
    .unwrap_or_else(|| {
        panic!("fewer than {at_least} e-mails \"{subject}\" to {to}: {:?}", crate::tickets::mailbox(app, to))
    })
    .iter()
    .map(|m| {
        let text = m["text"].as_str().expect("a text body");
        let at = text.find(&marker).unwrap_or_else(|| panic!("no {marker} link in {text}")) + marker.len();
        text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
    })
    .collect()
}

/// `POST /api/auth/email/verify` with `token` (any answer).
pub fn verify(app: &App, token: &str) -> Reply {
    app.post("/api/auth/email/verify", &json!({ "token": token }))
}

/// Confirms `email`'s address as its owner does: opens the newest
/// confirmation link from the sandbox mailbox; panics unless 200.
pub fn verify_email(app: &App, email: &str) {
    let token = mailed_tokens(app, email, CONFIRM_SUBJECT, "verify-email", 1).remove(0);
    let r = verify(app, &token);
    assert_eq!(r.status, 200, "verify {email}: {}", r.text());
}

/// Admin grants `role` (`customer`, `organizer`, `staff`) to `user_id`
/// through `PUT /api/users/:id/role`; panics unless 200. Organizers and
/// staff need a confirmed address, so for them the account first confirms
/// it through the real e-mail ([`verify_email`], the address read from the
/// admin's view of the profile). The user's next sign-in or refresh
/// carries the role.
pub fn make_role(app: &App, admin_token: &str, user_id: &str, role: &str) {
    if role != "customer" {
        let profile = app.get_as(admin_token, &format!("/api/users/{user_id}"));
        assert_eq!(profile.status, 200, "profile of {user_id}: {}", profile.text());
        if profile.json()["email_verified"] != true {
            verify_email(app, profile.json()["email"].as_str().expect("the account's e-mail"));
        }
    }
    let r = put_as(app, admin_token, &format!("/api/users/{user_id}/role"), &json!({ "role": role }));
    assert_eq!(r.status, 200, "make {user_id} {role}: {}", r.text());
}

/// The development key set: the `jwt_keys` default in spin.toml. A
/// `SPIN_VARIABLE_JWT_KEYS` in the environment wins, as it does for the app.
pub const DEV_JWT_KEYS: &str = r#"{"current":"dev1","keys":{"dev1":"boxoffice-development-signing-key-change-me"}}"#;

/// An access token for `user_id` with `role` (`customer`, `organizer`,
/// `staff`, `admin`), signed with [`DEV_JWT_KEYS`] and valid for
/// `platform::auth::ACCESS_TOKEN_TTL_SECS` (15 minutes). Panics on an unknown
/// role or an unparsable key set.
pub fn mint_token(user_id: &str, role: &str) -> String {
    let keys = std::env::var("SPIN_VARIABLE_JWT_KEYS").unwrap_or_else(|_| DEV_JWT_KEYS.to_string());
    let ks = platform::auth::KeySet::parse(&keys).expect("jwt_keys");
    let now = platform::clock::now_secs();
    ks.sign(&platform::auth::Claims {
        sub: user_id.into(),
        role: role.parse().expect("role"),
        iat: now,
        exp: now + platform::auth::ACCESS_TOKEN_TTL_SECS,
        iss: platform::auth::ISSUER.into(),
        aud: platform::auth::AUDIENCE.into(),
        jti: platform::ids::new("jti"),
        ep: 0,
    })
    .expect("sign")
}

/// A user and their bearer token: what a [`Minted`] user is, and what
/// [`Tokens::user`] gives for a registered one.
#[derive(Debug, Clone)]
pub struct User {
    /// `usr_…`
    pub user_id: String,
    /// Access token (JWT).
    pub token: String,
}

/// Where [`user`] makes a fresh user, and what it hands back: [`Minted`]
/// gives a [`User`], an `&App` the registered account's [`Tokens`].
pub trait Origin {
    /// What a user made here is.
    type Made;

    /// A fresh user with `role` (`customer`, `organizer`, `staff`, `admin`);
    /// see [`user`].
    fn make(self, role: &str) -> Self::Made;
}

/// Users that are only a token: [`mint_token`] for a new `usr_…` id. No
/// account stands behind it (auth never saw the id, so it has no e-mail,
/// profile or refresh token) and no request is made; every component
/// accepts it, as they check the signature and claims only. No app needed,
/// nor the test admin, nor a registration (which is rate-limited).
#[derive(Debug, Clone, Copy)]
pub struct Minted;

impl Origin for Minted {
    type Made = User;

    fn make(self, role: &str) -> User {
        let user_id = platform::ids::new("usr");
        User { token: mint_token(&user_id, role), user_id }
    }
}

/// Real accounts on the app: [`register`]ed with a [`unique_email`] and
/// [`PASSWORD`]. A customer is signed in by its registration; any other role
/// is granted by the admin ([`make_role`]: its address confirmed first,
/// which needs the app from [`spawn`]) and signed in again, so the token
/// carries it. Panics on any unexpected answer.
impl Origin for &App {
    type Made = Tokens;

    fn make(self, role: &str) -> Tokens {
        let email = unique_email(role);
        let t = register(self, &email, PASSWORD);
        if role == "customer" {
            return t;
        }
        make_role(self, &admin_token(self), &t.user_id, role);
        let t = login(self, &email, PASSWORD);
        assert_eq!(t.role, role);
        t
    }
}

/// A fresh user with `role` (`customer`, `organizer`, `staff`, `admin`),
/// made at `origin`: `user(Minted, role)` is a [`User`] with a minted token
/// ([`Minted`]); `user(&app, role)` the [`Tokens`] of a new account on `app`
/// (`impl Origin for &App`). The one way tests make users; [`customer`],
/// [`organizer`] and [`staff`] name the role.
pub fn user<O: Origin>(origin: O, role: &str) -> O::Made {
    origin.make(role)
}

/// A fresh customer ([`user`] with `customer`): `customer(&app)` registers
/// one (its account e-mail, `.email`, is the only address the platform mails
/// about its bookings, so mailbox assertions look there).
pub fn customer<O: Origin>(origin: O) -> O::Made {
    user(origin, "customer")
}

/// A fresh organizer ([`user`] with `organizer`; on an app, it needs
/// [`spawn`]).
pub fn organizer<O: Origin>(origin: O) -> O::Made {
    user(origin, "organizer")
}

/// A fresh staff member ([`user`] with `staff`; on an app, it needs
/// [`spawn`]).
pub fn staff<O: Origin>(origin: O) -> O::Made {
    user(origin, "staff")
}

/// `PUT path` with a JSON body and a bearer token.
pub fn put_as(app: &App, token: &str, path: &str, body: &Value) -> Reply {
    app.call("PUT", path, Some(body), &[("authorization", &format!("Bearer {token}"))])
}

/// `PATCH path` with a JSON body and a bearer token.
pub fn patch_as(app: &App, token: &str, path: &str, body: &Value) -> Reply {
    app.call("PATCH", path, Some(body), &[("authorization", &format!("Bearer {token}"))])
}

/// `DELETE path` with a bearer token.
pub fn delete_as(app: &App, token: &str, path: &str) -> Reply {
    app.call("DELETE", path, None, &[("authorization", &format!("Bearer {token}"))])
}
