//! Key-value and SQLite through the runner or a real Spin CLI
//! (`BOXOFFICE_HOST`), including the concurrency semantics the app is
//! designed against.

mod common;

use std::sync::Arc;
use std::thread;

use common::{request, App};
use serde_json::json;

#[test]
fn spin_key_value_store() {
    let r = App::start();
    assert_eq!(r.get("/probe/kv/get?key=a").status, 404);
    assert_eq!(r.get("/probe/kv/exists?key=a").text(), "false");
    assert_eq!(r.post("/probe/kv/set?key=a", b"alpha").text(), "set");
    assert_eq!(r.post("/probe/kv/set?key=b", b"beta").text(), "set");
    assert_eq!(r.get("/probe/kv/get?key=a").text(), "alpha");
    assert_eq!(r.get("/probe/kv/exists?key=a").text(), "true");
    assert_eq!(r.get("/probe/kv/keys").json(), json!(["a", "b"]));
    assert_eq!(request(&r.addr, "DELETE", "/probe/kv/delete?key=a", &[], b"").text(), "deleted");
    assert_eq!(r.get("/probe/kv/keys").json(), json!(["b"]));

    // Labels are separate stores; a label not granted is access-denied.
    r.post("/probe/kv/set?store=extra&key=x", b"in extra");
    assert_eq!(r.get("/probe/kv/keys?store=extra").json(), json!(["x"]));
    assert_eq!(r.get("/probe/kv/get?key=x").status, 404);
    let denied = r.get("/probe/kv/get?store=holds&key=x");
    assert_eq!(denied.status, 403);
    assert!(denied.text().contains("AccessDenied"), "{}", denied.text());
    let denied = r.get("/probe/wkv/set?store=holds&key=x");
    assert!(denied.text().contains("AccessDenied"), "{}", denied.text());
    // The extra store's file lives where runtime-config.toml said (relative to it).
    assert!(r.dir.path().join(".spin/extra_kv.db").exists());
    assert!(r.dir.path().join("state/sqlite_key_value.db").exists());
}

#[test]
fn wasi_keyvalue_increment_cas_and_batch() {
    let r = App::start();
    assert_eq!(r.post("/probe/wkv/increment?key=n&delta=5", b"").text(), "5");
    assert_eq!(r.post("/probe/wkv/increment?key=n&delta=-2", b"").text(), "3");
    // The counter is stored as 8 little-endian bytes.
    assert_eq!(r.get("/probe/kv/get?key=n").body, 3i64.to_le_bytes().to_vec());
    // (Incrementing a value that is not a counter poisons the store: see
    // spin_conformance.rs.)

    r.post("/probe/kv/set?key=seat", b"free");
    assert_eq!(r.post("/probe/wkv/cas?key=seat&expect=free", b"held").text(), "won");
    assert_eq!(r.post("/probe/wkv/cas?key=seat&expect=free", b"held2").text(), "lost");
    assert_eq!(r.get("/probe/kv/get?key=seat").text(), "held");
    assert_eq!(r.post("/probe/wkv/cas?key=new-seat&expect=absent", b"mine").text(), "won");

    let batch = r.post("/probe/wkv/batch", b"").json();
    assert_eq!(batch["got"], json!([["b1", "one"], ["b2", "two"]]));
    assert_eq!(batch["after"], json!([["b2", "two"]]));
    assert_eq!(batch["exists_b2"], json!(true));
    assert_eq!(batch["get_b2"], json!("two"));
    assert!(batch["keys"].as_array().unwrap().contains(&json!("b2")));
}

fn race(r: &App, n: usize, f: impl Fn(&str, usize) -> String + Send + Sync + 'static) -> Vec<String> {
    let f = Arc::new(f);
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier, addr) = (f.clone(), barrier.clone(), r.addr.clone());
            thread::spawn(move || {
                barrier.wait();
                f(&addr, i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn concurrent_cas_on_an_existing_key_has_one_winner() {
    let r = App::start();
    r.post("/probe/kv/set?key=seat-a1", b"free");
    let results = race(&r, 50, |addr, i| {
        request(addr, "POST", "/probe/wkv/cas?key=seat-a1&expect=free", &[], format!("hold-{i}").as_bytes()).text()
    });
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, t)| *t == "won").map(|(i, _)| i).collect();
    assert!(results.iter().all(|t| t == "won" || t == "lost"), "{results:?}");
    assert_eq!(winners.len(), 1, "exactly one CAS on an existing key wins: {results:?}");
    assert_eq!(r.get("/probe/kv/get?key=seat-a1").text(), format!("hold-{}", winners[0]));
}

#[test]
fn concurrent_cas_on_an_absent_key_is_an_upsert() {
    let r = App::start();
    let results = race(&r, 50, |addr, i| {
        request(addr, "POST", "/probe/wkv/cas?key=seat-b2&expect=absent", &[], format!("hold-{i}").as_bytes()).text()
    });
    assert!(results.iter().all(|t| t == "won" || t == "lost"), "{results:?}");
    let winners: Vec<String> =
        results.iter().enumerate().filter(|(_, t)| *t == "won").map(|(i, _)| format!("hold-{i}")).collect();
    // Spin semantics: CAS on an absent key is a plain upsert, so more than one
    // racer may "win". The store still ends holding one of the winners' values.
    eprintln!("CAS on an absent key: {} of 50 racers won", winners.len());
    assert!(!winners.is_empty());
    let final_value = r.get("/probe/kv/get?key=seat-b2").text();
    assert!(winners.contains(&final_value), "{final_value} not among winners {winners:?}");
}

#[test]
fn concurrent_increments_are_atomic() {
    let r = App::start();
    let results = race(&r, 100, |addr, _| request(addr, "POST", "/probe/wkv/increment?key=sold", &[], b"").text());
    let mut seen: Vec<i64> = results.iter().map(|t| t.parse().unwrap_or_else(|_| panic!("{t}"))).collect();
    seen.sort();
    assert_eq!(seen, (1..=100).collect::<Vec<i64>>());
    assert_eq!(r.get("/probe/kv/get?key=sold").body, 100i64.to_le_bytes().to_vec());
}

#[test]
fn sqlite_v2_and_v3() {
    let r = App::start();
    let v2 = |sql: &str| r.post("/probe/sql/v2", sql.as_bytes());
    assert_eq!(v2("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)").status, 200);
    assert_eq!(v2("INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'0102'), ('b', NULL, NULL)").status, 200);
    let rows = v2("SELECT id, name, score, data FROM t ORDER BY id").json();
    assert_eq!(rows["columns"], json!(["id", "name", "score", "data"]));
    assert_eq!(rows["rows"], json!([[1, "a", 1.5, {"blob": [1, 2]}], [2, "b", null, null]]));
    let err = v2("SELECT * FROM no_such_table");
    assert_eq!(err.status, 500);
    assert!(err.text().contains("Io(") && err.text().contains("no such table"), "{}", err.text());

    // v3: last-insert-rowid and changes, on the same connection.
    let out = r
        .post("/probe/sql/v3", b"INSERT INTO t (name) VALUES (?);;UPDATE t SET score = 9;;SELECT count(*) AS n FROM t")
        .json();
    assert_eq!(out[0]["last_insert_rowid"], 3);
    assert_eq!(out[0]["changes"], 1);
    assert_eq!(out[1]["changes"], 3);
    assert_eq!(out[2]["rows"], json!([[3]]));

    // Every open is its own connection.
    let c = r.get("/probe/sql/conn-per-open").json();
    assert_eq!(c["created"], true);
    assert_eq!(c["seen_by_a"], true);
    assert_eq!(c["seen_by_b"], false);
    assert_eq!(c["b_rowid"], 0);

    // Labels are separate databases; ungranted labels are denied.
    assert_eq!(r.post("/probe/sql/v3?db=other", b"CREATE TABLE o (x);;SELECT count(*) FROM o").status, 200);
    assert_eq!(r.post("/probe/sql/v2?db=other", b"SELECT count(*) FROM t").status, 500);
    let denied = r.post("/probe/sql/v3?db=bookings", b"SELECT 1");
    assert_eq!(denied.status, 403);
    assert!(denied.text().contains("AccessDenied"), "{}", denied.text());
    let denied = r.post("/probe/sql/v2?db=bookings", b"SELECT 1");
    assert!(denied.text().contains("AccessDenied"), "{}", denied.text());
    // File locations: default in the state dir, `other` relative to the working directory.
    assert!(r.dir.path().join("state/sqlite_db.db").exists());
    assert!(r.dir.path().join(".spin/other.db").exists());
    // Attaching other database files is refused, as in Spin.
    assert_eq!(r.post("/probe/sql/v2", b"ATTACH DATABASE 'x.db' AS x").status, 500);
}
