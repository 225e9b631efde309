//! Routing, spin-* headers, variables, files, outbound HTTP, chaining,
//! traps, ticks and startup errors, against the runner binary or a real
//! Spin CLI (`BOXOFFICE_HOST`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{header_values, one, request, runner_only, App, Host};
use serde_json::Value;

#[test]
fn routing_precedence_and_spin_headers() {
    let r = App::start();
    let who = |p: &str| r.get(p).json()["who"].as_str().unwrap().to_string();
    assert_eq!(who("/probe/exact"), "exact");
    assert_eq!(who("/probe/exact/more"), "probe");
    assert_eq!(who("/probe"), "probe");
    assert_eq!(who("/items/42/parts/7"), "params");
    assert_eq!(who("/items/42"), "items");
    assert_eq!(who("/items/42/parts/7/extra"), "items");

    let echo = r.get("/probe/some/where?x=1").json();
    assert_eq!(one(&echo, "spin-path-info"), "/some/where");
    assert_eq!(one(&echo, "spin-matched-route"), "/probe/...");
    assert_eq!(one(&echo, "spin-component-route"), "/probe");
    assert_eq!(one(&echo, "spin-raw-component-route"), "/probe/...");
    assert_eq!(one(&echo, "spin-base-path"), "/");
    assert_eq!(one(&echo, "spin-full-url"), format!("http://{}/probe/some/where?x=1", r.addr));
    assert_eq!(echo["target"]["authority"], r.addr.as_str());
    assert_eq!(echo["target"]["path_with_query"], "/probe/some/where?x=1");

    let echo = r.get("/items/42/parts/p-7").json();
    assert_eq!(one(&echo, "spin-path-match-id"), "42");
    assert_eq!(one(&echo, "spin-path-match-part"), "p-7");
    assert_eq!(one(&echo, "spin-path-info"), "");

    // A client-sent spin-client-addr comes first; the host's comes last.
    let resp = request(&r.addr, "GET", "/probe/echo", &[("spin-client-addr", "6.6.6.6:666")], b"");
    let addrs = header_values(&resp.json(), "spin-client-addr");
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    assert_eq!(addrs[0], "6.6.6.6:666");
    assert!(addrs[1].starts_with("127.0.0.1:"), "{addrs:?}");
}

#[test]
fn private_routes_are_not_routable() {
    let r = App::start();
    for path in ["/nothing/here", "/", "/worker", "/probe-not"] {
        assert_eq!(r.get(path).status, 404, "{path}");
    }
}

#[test]
fn variables_defaults_templates_and_env_overrides() {
    let r = App::start();
    assert_eq!(r.get("/probe/var?name=greeting").text(), "hello, world");
    assert_eq!(r.get("/probe/var?name=who").text(), "probe");
    assert_eq!(r.get("/probe/config?name=greeting").text(), "hello, world");
    assert_eq!(r.get("/probe/config?name=nope").status, 404);
    let undefined = r.get("/probe/var?name=nope");
    assert_eq!(undefined.status, 404);
    assert!(undefined.text().contains("Undefined"), "{}", undefined.text());
    assert!(r.get("/probe/var?name=Bad-Name").text().contains("InvalidName"));
    // An app variable not bound to the component is not visible.
    assert!(r.get("/probe/var?name=tick_token").text().contains("Undefined"));
    let all = r.get("/probe/config-all").json();
    assert_eq!(all, serde_json::json!([["greeting", "hello, world"], ["who", "probe"]]));
    drop(r);

    let r = App::start_with(&[("SPIN_VARIABLE_AUDIENCE", "testers")], &[]);
    assert_eq!(r.get("/probe/var?name=greeting").text(), "hello, testers");
    // Secrets are never logged.
    assert!(!r.log().contains("test-tick-token"));
}

#[test]
fn files_are_mounted_read_only() {
    let r = App::start();
    assert_eq!(r.get("/probe/file?path=/assets/hello.txt").text().trim(), "hello from a glob mount");
    assert_eq!(r.get("/probe/file?path=/data/info.txt").text().trim(), "hello from a directory mount");
    assert_eq!(r.get("/probe/file?path=/etc/passwd").status, 404);
}

#[test]
fn outbound_allowed_denied_and_chaining() {
    let r = App::start();
    let allowed = r.get(&format!("/probe/outbound?url=http://{}/probe/exact", r.addr)).text();
    assert!(allowed.starts_with("status:200"), "{allowed}");
    assert!(allowed.contains("\"who\":\"exact\""), "{allowed}");

    let denied = r.get("/probe/outbound?url=http://denied.example.com/").text();
    assert!(denied.contains("HttpRequestDenied"), "{denied}");
    let denied_chain = r.get("/probe/outbound?url=http://items.spin.internal/").text();
    assert!(denied_chain.contains("HttpRequestDenied"), "{denied_chain}");

    // Chaining reaches the private component, in process.
    let chained = r.get("/probe/outbound?url=http://worker.spin.internal/probe/who").text();
    assert!(chained.starts_with("status:200"), "{chained}");
    let echo: Value = serde_json::from_str(chained.split_once('\n').unwrap().1).unwrap();
    assert_eq!(echo["who"], "worker");
    assert_eq!(one(&echo, "spin-path-info"), "/probe/who");
    assert!(header_values(&echo, "authorization").is_empty(), "Authorization is not forwarded by itself");

    let with_auth = r.get("/probe/outbound?url=http://worker.spin.internal/x&auth=Bearer%20abc").text();
    let echo: Value = serde_json::from_str(with_auth.split_once('\n').unwrap().1).unwrap();
    assert_eq!(header_values(&echo, "authorization"), vec!["Bearer abc".to_string()]);
}

#[test]
fn a_trap_is_a_500_and_the_host_keeps_serving() {
    let r = App::start();
    assert_eq!(r.get("/probe/trap").status, 500);
    assert_eq!(r.get("/probe/exact").status, 200);
    assert_eq!(r.get("/probe/trap").status, 500);
    assert_eq!(r.get("/probe/var?name=who").text(), "probe");
    if r.host() == Host::Runner {
        // The runner's request log.
        assert!(r.log().contains("GET /probe/trap -> probe 500"), "{}", r.log());
    }
}

#[test]
fn ticks_post_with_the_token() {
    if runner_only("the --tick flag (Spin has no timer for tick routes)") {
        return;
    }
    let r = App::start_with(&[], &["--tick", "/tick=0.3"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = r.get("/probe/kv/get?key=ticks");
        if resp.status == 200 {
            let n = i64::from_le_bytes(resp.body.as_slice().try_into().unwrap());
            if n >= 2 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "no ticks delivered; log:\n{}", r.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(r.get("/probe/kv/get?key=tick-auth").text(), "Bearer test-tick-token");
}

fn startup_error(manifest: &str, files: &[(&str, &str)], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxoffice-runner"));
    cmd.current_dir(dir.path()).args(["--manifest", "spin.toml", "--listen", "127.0.0.1:0"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn clear_startup_errors() {
    if runner_only("the runner's own startup error texts") {
        return;
    }
    let base = "spin_manifest_version = 2\n[application]\nname = 'x'\n[[trigger.http]]\nroute = '/...'\ncomponent = 'a'\n[component.a]\nsource = 'missing/a.wasm'\n";
    let e = startup_error(base, &[], &[]);
    assert!(e.contains("missing/a.wasm") && e.contains("build"), "{e}");

    let e = startup_error(&format!("{base}key_value_stores = ['holds']\n"), &[], &[]);
    assert!(e.contains("\"holds\"") && e.contains("runtime config"), "{e}");

    let e = startup_error(&format!("{base}sqlite_databases = ['bookings']\n"), &[], &[]);
    assert!(e.contains("\"bookings\""), "{e}");

    let required = base
        .replace("[[trigger.http]]", "[variables]\nsecret_key = { required = true, secret = true }\n[[trigger.http]]");
    let e = startup_error(&required, &[], &[]);
    assert!(e.contains("SPIN_VARIABLE_SECRET_KEY"), "{e}");

    let e = startup_error("spin_manifest_version = 2\n[application\n", &[], &[]);
    assert!(e.contains("invalid spin.toml"), "{e}");
}

#[test]
fn help_documents_every_option() {
    if runner_only("the runner's --help") {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_boxoffice-runner")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in ["--manifest", "--runtime-config-file", "--listen", "--state-dir", "--tick", "--tick-token-variable"] {
        assert!(text.contains(opt), "{opt} missing from --help");
    }
}
