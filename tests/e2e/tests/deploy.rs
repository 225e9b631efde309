//! The production runtime config (`deploy/runtime-config.production.toml`)
//! on real Spin: Spin accepts it, maps every key-value label to Redis and
//! every SQLite label to libSQL, and the app's key-value stores work on a
//! real `redis-server` through it; a config Spin cannot use is refused.
//! (The YAML files are checked by `deploy/validate.sh`.)
//!
//! Needs a Spin CLI and `redis-server` (installed when missing), so the
//! tests are `#[ignore]`d in the per-host passes and run in `cargo xtask
//! test`'s multi-instance pass. No libSQL server runs here: Spin connects to
//! libSQL on first use, so the SQLite side is checked as configured, not
//! used.

use e2e::{workspace_root, Value};
use std::path::Path;

/// The production runtime config with its Redis address pointed at `url`.
fn production_config(url: &str) -> String {
    let text = std::fs::read_to_string(workspace_root().join("deploy/runtime-config.production.toml"))
        .expect("deploy/runtime-config.production.toml");
    assert!(text.contains("redis://redis.boxoffice.svc.cluster.local:6379"), "the Redis address the test replaces");
    text.replace("redis://redis.boxoffice.svc.cluster.local:6379", url)
}

fn launch(dir: &Path, config: &str) -> apphost::Launch {
    let rc = dir.join("runtime-config.toml");
    std::fs::write(&rc, config).unwrap();
    let manifest = dir.join("spin.toml");
    std::fs::write(&manifest, e2e::app_manifest()).unwrap();
    std::os::unix::fs::symlink(workspace_root().join("static"), dir.join("static")).unwrap();
    apphost::Launch::new(&manifest, dir.join(".spin")).runtime_config(&rc).workdir(dir).log(dir.join("spin.log"))
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn spin_serves_the_app_with_the_production_runtime_config() {
    let dir = tempfile::tempdir().unwrap();
    let redis = apphost::redis_server::RedisServer::start(&dir.path().join("redis")).expect("redis-server");
    let mut server = launch(dir.path(), &production_config(&redis.url()))
        .try_start(apphost::Host::Spin)
        .expect("Spin accepts the production runtime config");
    let log = std::fs::read_to_string(dir.path().join("spin.log")).unwrap();
    let line = log.lines().find(|l| l.starts_with("Using runtime config")).unwrap_or_else(|| panic!("{log}"));
    for kv in ["auth", "sessions", "holds"] {
        assert!(line.contains(&format!("[key_value_store.{kv}: redis]")), "{line}");
    }
    for db in ["auth", "users", "events", "bookings", "payments", "sandbox", "tickets", "notifications"] {
        assert!(line.contains(&format!("[sqlite_database.{db}: libsql]")), "{line}");
    }
    // the key-value stores work through it: booking's health probes its
    // `holds` store on the real Redis (its SQLite check fails: no libSQL here)
    let health: Value = match ureq::get(&format!("{}/api/holds/health", server.base)).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => serde_json::from_reader(r.into_reader()).expect("health JSON"),
        Err(e) => panic!("health: {e}"),
    };
    let check = |name: &str| {
        health["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name}: {health}"))
    };
    assert_eq!(check("kv:holds")["ok"], true, "{health}");
    assert_eq!(check("sqlite:bookings")["ok"], false, "no libSQL server runs here: {health}");
    assert!(server.is_running());
    server.stop();
}

#[test]
#[ignore = "needs a Spin CLI and redis-server; cargo xtask test runs it in its multi-instance pass"]
fn spin_refuses_a_runtime_config_it_cannot_use() {
    // the same file with its Redis address gone and a libSQL URL Spin does not speak
    let dir = tempfile::tempdir().unwrap();
    let broken = production_config("redis://127.0.0.1:1").replacen(
        "url = \"https://boxoffice-auth-example.turso.io\"",
        "url = \"libsql://boxoffice-auth-example.turso.io\"",
        1,
    );
    let refused = launch(dir.path(), &broken).try_start(apphost::Host::Spin);
    let why = refused.err().expect("Spin refuses a libsql:// URL");
    assert!(why.contains("libSQL") || why.contains("libsql"), "{why}");
}
