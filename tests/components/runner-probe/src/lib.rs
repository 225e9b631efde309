//! Probe component for the runner's integration tests.
//!
//! One binary, mounted under several component ids in
//! `tests/runner-app/spin.toml`. The action is the request path with an
//! optional `/probe` prefix removed; parameters come from the query string.
//! Unknown actions echo who answered, the request headers (in order) and
//! the authority and path-with-query the host handed over.

use std::collections::HashMap;

use serde_json::{json, Value as Json};
use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, Request, Response, ResponseOutparam};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::config::store as wasi_config;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wkv};
use spin_sdk::{sqlite, sqlite3, variables};

fn query(req: &Request) -> HashMap<String, String> {
    req.query()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.replace("%20", " ").replace("%2F", "/").replace("%3A", ":"))
        })
        .collect()
}

fn ok(body: impl Into<Vec<u8>>) -> Response {
    Response::builder().status(200).body(body.into()).build()
}

fn json_resp(v: Json) -> Response {
    Response::builder().status(200).header("content-type", "application/json").body(v.to_string()).build()
}

fn status(code: u16, body: impl Into<Vec<u8>>) -> Response {
    Response::builder().status(code).body(body.into()).build()
}

fn who() -> String {
    variables::get("who").unwrap_or_else(|_| "unknown".into())
}

fn v2_value(v: &sqlite::Value) -> Json {
    match v {
        sqlite::Value::Integer(i) => json!(i),
        sqlite::Value::Real(f) => json!(f),
        sqlite::Value::Text(t) => json!(t),
        sqlite::Value::Blob(b) => json!({ "blob": b }),
        sqlite::Value::Null => Json::Null,
    }
}

fn v3_value(v: &sqlite3::Value) -> Json {
    match v {
        sqlite3::Value::Integer(i) => json!(i),
        sqlite3::Value::Real(f) => json!(f),
        sqlite3::Value::Text(t) => json!(t),
        sqlite3::Value::Blob(b) => json!({ "blob": b }),
        sqlite3::Value::Null => Json::Null,
    }
}

fn kv(action: &str, q: &HashMap<String, String>, body: &[u8]) -> Response {
    let label = q.get("store").map(String::as_str).unwrap_or("default");
    let key = q.get("key").cloned().unwrap_or_default();
    let store = match Store::open(label) {
        Ok(s) => s,
        Err(e) => return status(403, format!("{e:?}")),
    };
    let r = match action {
        "/kv/set" => store.set(&key, body).map(|_| ok("set")),
        "/kv/get" => store.get(&key).map(|v| match v {
            Some(v) => ok(v),
            None => status(404, "absent"),
        }),
        "/kv/delete" => store.delete(&key).map(|_| ok("deleted")),
        "/kv/exists" => store.exists(&key).map(|b| ok(b.to_string())),
        "/kv/keys" => store.get_keys().map(|mut k| {
            k.sort();
            json_resp(json!(k))
        }),
        _ => return status(400, "bad kv action"),
    };
    r.unwrap_or_else(|e| status(500, format!("{e:?}")))
}

fn wasi_kv(action: &str, q: &HashMap<String, String>, body: &[u8]) -> Response {
    let label = q.get("store").map(String::as_str).unwrap_or("default");
    let key = q.get("key").cloned().unwrap_or_default();
    let bucket = match wkv::open(label) {
        Ok(b) => b,
        Err(e) => return status(403, format!("{e:?}")),
    };
    match action {
        "/wkv/increment" => {
            let delta: i64 = q.get("delta").and_then(|d| d.parse().ok()).unwrap_or(1);
            match atomics::increment(&bucket, &key, delta) {
                Ok(n) => ok(n.to_string()),
                Err(e) => status(500, format!("{e:?}")),
            }
        }
        "/wkv/cas" => {
            // Swap only if the current value is `expect` (or absent when expect=absent).
            let expect = q.get("expect").cloned().unwrap_or_else(|| "absent".into());
            let cas = match atomics::Cas::new(&bucket, &key) {
                Ok(c) => c,
                Err(e) => return status(500, format!("{e:?}")),
            };
            let current = match cas.current() {
                Ok(c) => c,
                Err(e) => return status(500, format!("{e:?}")),
            };
            let matches = match &current {
                None => expect == "absent",
                Some(v) => v.as_slice() == expect.as_bytes(),
            };
            if !matches {
                return ok("lost");
            }
            match atomics::swap(cas, body) {
                Ok(()) => ok("won"),
                Err(atomics::CasError::CasFailed(_)) => ok("lost"),
                Err(atomics::CasError::StoreError(e)) => status(500, format!("{e:?}")),
            }
        }
        "/wkv/batch" => {
            let report = (|| -> Result<Json, wkv::Error> {
                batch::set_many(&bucket, &[("b1".to_string(), b"one".to_vec()), ("b2".to_string(), b"two".to_vec())])?;
                let got = batch::get_many(&bucket, &["b1".to_string(), "b2".to_string(), "nope".to_string()])?;
                batch::delete_many(&bucket, &["b1".to_string()])?;
                let after = batch::get_many(&bucket, &["b1".to_string(), "b2".to_string()])?;
                let listed = bucket.list_keys(None)?.keys;
                let fmt = |v: Vec<(String, Option<Vec<u8>>)>| {
                    v.into_iter()
                        .map(|(k, v)| json!([k, v.map(|v| String::from_utf8_lossy(&v).to_string())]))
                        .collect::<Vec<_>>()
                };
                Ok(json!({ "got": fmt(got), "after": fmt(after), "keys": listed,
                           "exists_b2": bucket.exists("b2")?, "get_b2": bucket.get("b2")?.map(|v| String::from_utf8_lossy(&v).to_string()) }))
            })();
            match report {
                Ok(j) => json_resp(j),
                Err(e) => status(500, format!("{e:?}")),
            }
        }
        "/wkv/set" => match bucket.set(&key, body) {
            Ok(()) => ok("set"),
            Err(e) => status(500, format!("{e:?}")),
        },
        _ => status(400, "bad wkv action"),
    }
}

fn sql(action: &str, q: &HashMap<String, String>, body: &[u8]) -> Response {
    let label = q.get("db").map(String::as_str).unwrap_or("default");
    let statement = String::from_utf8_lossy(body).to_string();
    match action {
        "/sql/v2" => match sqlite::Connection::open(label) {
            Err(e) => status(403, format!("{e:?}")),
            Ok(c) => match c.execute(&statement, &[]) {
                Ok(r) => json_resp(json!({
                    "columns": r.columns,
                    "rows": r.rows.iter().map(|row| row.values.iter().map(v2_value).collect::<Vec<_>>()).collect::<Vec<_>>(),
                })),
                Err(e) => status(500, format!("{e:?}")),
            },
        },
        "/sql/v3" => match sqlite3::Connection::open(label) {
            Err(e) => status(403, format!("{e:?}")),
            Ok(c) => {
                let mut results = Vec::new();
                // Several statements separated by ";;" run on the same connection.
                for st in statement.split(";;").filter(|s| !s.trim().is_empty()) {
                    let params: Vec<sqlite3::Value> =
                        if st.contains('?') { vec![sqlite3::Value::Text("param".into())] } else { vec![] };
                    match c.execute(st, &params) {
                        Ok(r) => results.push(json!({
                            "columns": r.columns,
                            "rows": r.rows.iter().map(|row| row.values.iter().map(v3_value).collect::<Vec<_>>()).collect::<Vec<_>>(),
                            "last_insert_rowid": c.last_insert_rowid(),
                            "changes": c.changes(),
                        })),
                        Err(e) => return status(500, format!("{e:?}")),
                    }
                }
                json_resp(json!(results))
            }
        },
        "/sql/conn-per-open" => {
            let (a, b) = match (sqlite3::Connection::open(label), sqlite3::Connection::open(label)) {
                (Ok(a), Ok(b)) => (a, b),
                _ => return status(500, "open failed"),
            };
            let created = a.execute("CREATE TEMP TABLE only_here (x INTEGER)", &[]).is_ok();
            let seen_by_a = a.execute("SELECT count(*) FROM temp.only_here", &[]).is_ok();
            let seen_by_b = b.execute("SELECT count(*) FROM temp.only_here", &[]);
            json_resp(json!({ "created": created, "seen_by_a": seen_by_a,
                              "seen_by_b": seen_by_b.is_ok(), "b_error": seen_by_b.err().map(|e| format!("{e:?}")),
                              "b_rowid": b.last_insert_rowid() }))
        }
        _ => status(400, "bad sql action"),
    }
}

async fn outbound(q: &HashMap<String, String>) -> Response {
    let url = q.get("url").cloned().unwrap_or_default();
    let mut builder = Request::builder();
    builder.method(Method::Get).uri(url);
    if let Some(auth) = q.get("auth") {
        builder.header("authorization", auth.as_str());
    }
    let result: Result<Response, _> = spin_sdk::http::send(builder.build()).await;
    match result {
        Ok(resp) => {
            let code = *resp.status();
            ok(format!("status:{code}\n{}", String::from_utf8_lossy(resp.body())))
        }
        Err(e) => ok(format!("error:{e:?}")),
    }
}

/// Every file and directory under `root`, as sorted paths relative to it
/// (directories end in `/`).
fn tree(root: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![std::path::PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in std::fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let path = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                out.push(format!("{}/", path.display()));
                todo.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Takes the raw request so the echo can show repeated headers in order,
/// and the request's authority and path as the host handed them over.
#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[http_component]
    async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
        let raw: Vec<Json> =
            incoming.headers().entries().into_iter().map(|(k, v)| json!([k, String::from_utf8_lossy(&v)])).collect();
        let target = json!({ "authority": incoming.authority(), "path_with_query": incoming.path_with_query() });
        let resp = match Request::try_from_incoming_request(incoming).await {
            Ok(req) => answer(req, Json::Array(raw), target).await.unwrap_or_else(|e| status(500, format!("{e:#}"))),
            Err(e) => status(400, format!("{e:?}")),
        };
        let headers = Fields::new();
        for (k, v) in resp.headers() {
            let _ = headers.append(k, v.as_bytes());
        }
        let og = OutgoingResponse::new(headers);
        let _ = og.set_status_code(*resp.status());
        let _ = out.set_with_body(og, resp.body().to_vec()).await;
    }
}

async fn answer(req: Request, raw_headers: Json, target: Json) -> anyhow::Result<Response> {
    let path = req.path().to_string();
    let action = path.strip_prefix("/probe").unwrap_or(&path).to_string();
    let q = query(&req);
    let body = req.body().to_vec();
    let resp = match action.as_str() {
        a if a.starts_with("/kv/") => kv(a, &q, &body),
        a if a.starts_with("/wkv/") => wasi_kv(a, &q, &body),
        a if a.starts_with("/sql/") => sql(a, &q, &body),
        "/var" => match variables::get(q.get("name").map(String::as_str).unwrap_or("")) {
            Ok(v) => ok(v),
            Err(e) => status(404, format!("{e:?}")),
        },
        "/config" => match wasi_config::get(q.get("name").map(String::as_str).unwrap_or("")) {
            Ok(Some(v)) => ok(v),
            Ok(None) => status(404, "none"),
            Err(e) => status(500, format!("{e:?}")),
        },
        "/config-all" => match wasi_config::get_all() {
            Ok(mut all) => {
                all.sort();
                json_resp(json!(all))
            }
            Err(e) => status(500, format!("{e:?}")),
        },
        "/file" => match std::fs::read(q.get("path").cloned().unwrap_or_default()) {
            Ok(b) => ok(b),
            Err(e) => status(404, e.to_string()),
        },
        "/tree" => match tree(std::path::Path::new(q.get("path").map(String::as_str).unwrap_or("/"))) {
            Ok(paths) => json_resp(json!(paths)),
            Err(e) => status(404, e.to_string()),
        },
        "/outbound" => outbound(&q).await,
        "/trap" => panic!("probe asked to trap"),
        "/tick" => {
            let store = Store::open_default()?;
            let bucket = wkv::open("default").map_err(|e| anyhow::anyhow!("{e:?}"))?;
            atomics::increment(&bucket, "ticks", 1).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let auth = req.header("authorization").and_then(|h| h.as_str()).unwrap_or("").to_string();
            store.set("tick-auth", auth.as_bytes())?;
            ok("ticked")
        }
        _ => json_resp(json!({ "who": who(), "method": format!("{:?}", req.method()), "path": path,
                               "headers": raw_headers, "target": target })),
    };
    Ok(resp)
}
