//! `users` through the runner: lazily created profiles, profile and
//! settings changes, cross-user isolation, the admin list and role
//! changes, and account deletion.

use e2e::accounts::{self, delete_as, login, patch_as, put_as, refresh, register, unique_email, Tokens, PASSWORD};
use e2e::{json, App};

#[test]
fn the_profile_appears_on_first_use_and_takes_partial_changes() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let r = app.get_as(&t.access_token, "/api/users/me");
    assert_eq!(r.status, 200, "{}", r.text());
    let p = r.json();
    assert_eq!(p["id"], t.user_id);
    assert_eq!(p["email"], t.email);
    assert!(p["display_name"].is_null() && p["phone"].is_null() && p["locale"].is_null() && p["time_zone"].is_null());
    // the same profile under its id
    assert_eq!(app.get_as(&t.access_token, &format!("/api/users/{}", t.user_id)).json(), p);

    let r = patch_as(
        &app,
        &t.access_token,
        "/api/users/me",
        &json!({"display_name": "  Ann Lee ", "phone": "+49 (30) 1234-567", "locale": "de_de", "time_zone": "Europe/Berlin"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let p = r.json();
    assert_eq!(p["display_name"], "Ann Lee");
    assert_eq!(p["phone"], "+49301234567");
    assert_eq!(p["locale"], "de-DE");
    assert_eq!(p["time_zone"], "Europe/Berlin");

    // absent fields stay, null clears (JSON merge patch)
    let p = patch_as(&app, &t.access_token, "/api/users/me", &json!({"phone": null})).json();
    assert!(p["phone"].is_null());
    assert_eq!(p["display_name"], "Ann Lee");

    // invalid values: every field reported, nothing changed
    let r = patch_as(
        &app,
        &t.access_token,
        "/api/users/me",
        &json!({"display_name": "Bo", "phone": "12345", "locale": "english", "time_zone": "Mars/Base"}),
    );
    let prob = r.assert_problem(422);
    let fields: Vec<&str> = prob["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["phone", "locale", "time_zone"]);
    patch_as(&app, &t.access_token, "/api/users/me", &json!({"email": "new@example.test"})).assert_problem(422);
    patch_as(&app, &t.access_token, "/api/users/me", &json!({"display_name": 7})).assert_problem(422);
    let p = app.get_as(&t.access_token, "/api/users/me").json();
    assert_eq!(p["display_name"], "Ann Lee");
    assert_eq!(p["email"], t.email);
    app.get("/api/users/me").assert_problem(401);
}

#[test]
fn notification_settings_default_to_transactional_on_marketing_off() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let s = app.get_as(&t.access_token, "/api/users/me/settings").json();
    for kind in ["booking", "ticket", "reminders"] {
        assert_eq!(s["notifications"][kind], json!({"email": true, "in_app": true}), "{kind}");
    }
    assert_eq!(s["notifications"]["marketing"], json!({"email": false, "in_app": false}));

    let r = patch_as(
        &app,
        &t.access_token,
        "/api/users/me/settings",
        &json!({"notifications": {"marketing": {"email": true}, "reminders": {"in_app": false}}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    assert_eq!(s["notifications"]["marketing"], json!({"email": true, "in_app": false}));
    assert_eq!(s["notifications"]["reminders"], json!({"email": true, "in_app": false}));
    assert_eq!(app.get_as(&t.access_token, "/api/users/me/settings").json(), s);

    for bad in [
        json!({"notifications": {"spam": {"email": true}}}),
        json!({"notifications": {"booking": {"sms": true}}}),
        json!({"notifications": {"booking": {"email": "yes"}}}),
        json!({"language": "de"}),
    ] {
        patch_as(&app, &t.access_token, "/api/users/me/settings", &bad).assert_problem(422);
    }
    assert_eq!(app.get_as(&t.access_token, "/api/users/me/settings").json(), s, "rejected changes wrote nothing");
}

#[test]
fn one_user_can_never_read_or_change_another_users_data() {
    let app = accounts::spawn(&[]);
    let ann = accounts::customer(&app);
    let bob = accounts::customer(&app);
    patch_as(&app, &ann.access_token, "/api/users/me", &json!({"display_name": "Ann"}));
    let ann_settings = app.get_as(&ann.access_token, "/api/users/me/settings").json();
    let a = &ann.user_id;
    let ghost = "usr_01jdx3v9k7m2q8w4e6r5t0y1za";

    // another user's records answer 404, the same as an id that does not
    // exist (nothing confirms which ids exist); admin-only routes are 403
    for path in [
        format!("/api/users/{a}"),
        format!("/api/users/{a}/settings"),
        format!("/api/users/{ghost}"),
        format!("/api/users/{ghost}/settings"),
    ] {
        app.get_as(&bob.access_token, &path).assert_problem(404);
    }
    app.get_as(&bob.access_token, "/api/users").assert_problem(403);
    patch_as(&app, &bob.access_token, &format!("/api/users/{a}"), &json!({"display_name": "pwned"}))
        .assert_problem(404);
    patch_as(
        &app,
        &bob.access_token,
        &format!("/api/users/{a}/settings"),
        &json!({"notifications": {"marketing": {"email": true}}}),
    )
    .assert_problem(404);
    delete_as(&app, &bob.access_token, &format!("/api/users/{a}")).assert_problem(404);
    delete_as(&app, &bob.access_token, &format!("/api/users/{ghost}")).assert_problem(404);
    put_as(&app, &bob.access_token, &format!("/api/users/{a}/role"), &json!({"role": "organizer"})).assert_problem(403);
    put_as(&app, &bob.access_token, &format!("/api/users/{}/role", bob.user_id), &json!({"role": "organizer"}))
        .assert_problem(403);

    // Ann's data is unchanged and she can still sign in
    assert_eq!(app.get_as(&ann.access_token, "/api/users/me").json()["display_name"], "Ann");
    assert_eq!(app.get_as(&ann.access_token, "/api/users/me/settings").json(), ann_settings);
    login(&app, &ann.email, PASSWORD);

    // admins are explicit: they may read others; unknown ids are 404 to them
    let admin = accounts::admin_token(&app);
    assert_eq!(app.get_as(&admin, &format!("/api/users/{a}")).json()["display_name"], "Ann");
    app.get_as(&admin, &format!("/api/users/{ghost}")).assert_problem(404);
    app.get_as(&admin, "/api/users/not-an-id").assert_problem(404);
}

#[test]
fn admins_list_users_and_grant_organizer_and_staff() {
    let app = accounts::spawn(&[]);
    let admin = accounts::admin(&app);
    let users: Vec<Tokens> = (0..3).map(|_| accounts::customer(&app)).collect();
    patch_as(&app, &users[0].access_token, "/api/users/me", &json!({"display_name": "First"}));

    // keyset pagination over every account
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/users?limit=2&cursor={c}"),
            None => "/api/users?limit=2".into(),
        };
        let page = app.get_as(&admin.access_token, &path);
        assert_eq!(page.status, 200, "{}", page.text());
        let v = page.json();
        for item in v["items"].as_array().unwrap() {
            seen.push(item.clone());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let first = seen.iter().find(|u| u["id"] == users[0].user_id).unwrap();
    assert_eq!(first["display_name"], "First");
    assert_eq!(first["email"], users[0].email);
    assert_eq!(first["role"], "customer");

    // grant organizer (to an account that confirmed its address: refused
    // before, tests/email_verification.rs): the next refresh carries it
    let u = &users[1];
    let early =
        put_as(&app, &admin.access_token, &format!("/api/users/{}/role", u.user_id), &json!({"role": "organizer"}));
    assert_eq!(early.assert_problem(409)["type"], "/problems/email-unverified");
    accounts::verify_email(&app, &u.email);
    let r = put_as(&app, &admin.access_token, &format!("/api/users/{}/role", u.user_id), &json!({"role": "organizer"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["role"], "organizer");
    let refreshed = Tokens::from_reply(&refresh(&app, &u.refresh_token));
    assert_eq!(refreshed.role, "organizer");
    let org = app.get_as(&admin.access_token, "/api/users?role=organizer").json();
    assert_eq!(org["items"].as_array().unwrap().len(), 1);
    assert_eq!(org["items"][0]["id"], u.user_id);
    accounts::make_role(&app, &admin.access_token, &users[2].user_id, "staff");
    assert_eq!(login(&app, &users[2].email, PASSWORD).role, "staff");
    assert_eq!(accounts::staff(&app).role, "staff");

    // admins come from configuration only; the admin's own role is fixed
    let r = put_as(&app, &admin.access_token, &format!("/api/users/{}/role", u.user_id), &json!({"role": "admin"}));
    assert_eq!(r.assert_problem(422)["errors"][0]["field"], "role");
    put_as(&app, &admin.access_token, &format!("/api/users/{}/role", u.user_id), &json!({"role": "root"}))
        .assert_problem(422);
    put_as(&app, &admin.access_token, "/api/users/me/role", &json!({"role": "customer"})).assert_problem(409);
    put_as(&app, &admin.access_token, "/api/users/usr_01jdx3v9k7m2q8w4e6r5t0y1za/role", &json!({"role": "staff"}))
        .assert_problem(404);
    app.get_as(&admin.access_token, "/api/users?role=wizard").assert_problem(422);
    // an organizer cannot grant roles
    put_as(&app, &refreshed.access_token, &format!("/api/users/{}/role", users[0].user_id), &json!({"role": "staff"}))
        .assert_problem(403);
}

#[test]
fn deleting_an_account_erases_personal_data_and_every_session() {
    let app = accounts::spawn(&[]);
    let email = unique_email("leaving");
    let t = register(&app, &email, PASSWORD);
    let other = login(&app, &email, PASSWORD);
    patch_as(&app, &t.access_token, "/api/users/me", &json!({"display_name": "Leaving Soon", "phone": "+14155550100"}));
    patch_as(
        &app,
        &t.access_token,
        "/api/users/me/settings",
        &json!({"notifications": {"marketing": {"email": true}}}),
    );

    assert_eq!(delete_as(&app, &t.access_token, "/api/users/me").status, 204);
    // no way back in
    app.post("/api/auth/login", &json!({"email": email, "password": PASSWORD})).assert_problem(401);
    refresh(&app, &t.refresh_token).assert_problem(401);
    refresh(&app, &other.refresh_token).assert_problem(401);
    // the still-unexpired access token is refused at once (its account's
    // token epoch moved on)
    app.get_as(&t.access_token, "/api/users/me").assert_problem(401);
    app.get_as(&t.access_token, "/api/users/me/settings").assert_problem(401);
    // the admin sees an anonymous row under the same id (records elsewhere stay keyed by it)
    let admin = accounts::admin_token(&app);
    let list = app.get_as(&admin, "/api/users").json();
    let row = list["items"].as_array().unwrap().iter().find(|u| u["id"] == t.user_id).expect("row kept").clone();
    assert_eq!(row["deleted"], true);
    assert!(row["email"].is_null() && row["display_name"].is_null(), "{row}");
    app.get_as(&admin, &format!("/api/users/{}", t.user_id)).assert_problem(410);
    // the address is free again, for a new account
    let again = register(&app, &email, PASSWORD);
    assert_ne!(again.user_id, t.user_id);
    assert!(app.get_as(&again.access_token, "/api/users/me").json()["display_name"].is_null());
}

#[test]
fn the_contact_endpoint_is_private() {
    let app = App::spawn();
    let t = accounts::customer(&app);
    let path = format!("/api/users/internal/{}/contact", t.user_id);
    app.get_as(&t.access_token, &path).assert_problem(404);
    app.call("GET", &path, None, &[("spin-full-url", &format!("http://users.spin.internal{path}"))])
        .assert_problem(404);
}

#[test]
fn health_reports_the_database() {
    let app = App::spawn();
    let r = app.get("/api/users/health");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["checks"][0]["name"], "sqlite:users");
}
