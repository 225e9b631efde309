//! The API against its own OpenAPI document, with tools written by others
//! (issue 13, "checks that must keep holding"): the served document
//! validates with `openapi-spec-validator`, and `schemathesis` fuzzes every
//! operation from it — signed in as an admin, deterministic generation so a
//! failure replays — finding no server error (5xx) and no response that
//! breaks the documented schema.
//!
//! The tools are Python packages pinned in `tests/contract/requirements.txt`,
//! which `cargo xtask test` installs into the venv `target/pytools`; without
//! them these tests fail and say how to get them (they never pass unrun).

use e2e::{accounts, workspace_root, App};
use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str) -> PathBuf {
    let path = workspace_root().join("target/pytools/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo xtask test` installs tests/contract/requirements.txt into target/pytools \
         (or: python3 -m venv target/pytools && target/pytools/bin/pip install -r tests/contract/requirements.txt)",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The document the app serves, written to the app's state directory.
fn served_document(app: &App) -> PathBuf {
    let r = app.get("/api/openapi.json");
    assert_eq!(r.status, 200, "{}", r.text());
    let path = app.state_dir().join("openapi.json");
    std::fs::write(&path, &r.body).expect("write the document");
    path
}

#[test]
fn the_served_openapi_document_validates() {
    let app = App::spawn();
    let doc = served_document(&app);
    let (ok, out) = run(Command::new(tool("openapi-spec-validator")).arg(&doc));
    assert!(ok, "openapi-spec-validator refused the document:\n{out}");
}

#[test]
fn schemathesis_finds_no_server_error_and_no_response_off_the_schema() {
    let app = accounts::spawn(&[("register_limit_per_hour", "100000")]);
    let admin = accounts::admin(&app).access_token;
    let doc = served_document(&app);
    let (ok, out) = run(Command::new(tool("schemathesis"))
        .arg("run")
        .arg(&doc)
        .args(["--url", &app.base])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--phases", "examples,fuzzing", "--max-examples", "8", "--workers", "2", "--request-timeout", "20"])
        .arg("--generation-deterministic")
        // our admin token, not generated Authorization values
        .args(["--generation-with-security-parameters", "false"])
        .args(["--header", &format!("Authorization: Bearer {admin}")])
        // the two operations that end the caller's own sessions would sign
        // the fuzzer out for the rest of the run (they are tested in auth.rs)
        .args(["--exclude-path", "/api/auth/logout-all", "--exclude-path", "/api/auth/password"])
        .env("NO_COLOR", "1")
        // its example database goes with the app's temporary state
        .current_dir(app.state_dir()));
    let summary = out.rsplit("SUMMARY").next().unwrap_or(&out);
    eprintln!("schemathesis:{summary}");
    assert!(ok, "schemathesis found failures:\n{out}");
}
