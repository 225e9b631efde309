//! The runner's conformance suite: facts about Spin 4.0.2 that an app can
//! observe, each checked by a test named after it. Every test runs on the
//! host `BOXOFFICE_HOST` names and must pass on both the runner and a real
//! Spin CLI (`BOXOFFICE_HOST=spin SPIN_BIN=… cargo test --release -p runner`).
//!
//! Where each fact comes from in Spin's source (tag v4.0.2) is named in the
//! runner module that implements it.

// libc: pidfd_open/pidfd_getfd to read the host's socket options (workspace lint unsafe_code)
#![allow(unsafe_code)]

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;

use common::{exchange, header_values, host, launch, one, parse_response, probe_wasm, request, App};
use serde_json::{json, Value};

/// The body of a chained call the probe made (`status:<code>\n<body>`).
fn chained(r: &App, url: &str) -> (u16, String) {
    let text = r.get(&format!("/probe/outbound?url={url}")).text();
    let (status, body) = text.split_once('\n').unwrap_or((&text, ""));
    let status = status.strip_prefix("status:").unwrap_or_else(|| panic!("chained call failed: {text}"));
    (status.parse().unwrap(), body.to_string())
}

/// A raw HTTP/1.1 request `head` (CRLFs added), on its own connection.
fn raw(r: &App, head: &[&str]) -> Vec<u8> {
    let mut text = head.join("\r\n");
    text.push_str("\r\n\r\n");
    exchange(&r.addr, text.as_bytes())
}

#[test]
fn chained_requests_have_no_host_so_full_url_is_localhost_and_client_addr_is_zero() {
    let r = App::start();
    let (status, body) = chained(&r, "http://worker.spin.internal/probe/who?x=1");
    assert_eq!(status, 200, "{body}");
    let echo: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["who"], "worker");
    assert_eq!(one(&echo, "spin-full-url"), "http://localhost/probe/who?x=1");
    assert_eq!(one(&echo, "spin-client-addr"), "0.0.0.0:0");
    assert!(header_values(&echo, "host").is_empty(), "{echo}");
    // The request the component gets still names the chaining authority.
    assert_eq!(echo["target"], json!({ "authority": "worker.spin.internal", "path_with_query": "/probe/who?x=1" }));
}

#[test]
fn chained_requests_match_the_synthetic_wildcard_route() {
    let r = App::start();
    for (path, info) in [("/probe/who", "/probe/who"), ("/", "/"), ("/a/b/", "/a/b/")] {
        let (status, body) = chained(&r, &format!("http://worker.spin.internal{path}"));
        assert_eq!(status, 200, "{body}");
        let echo: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(one(&echo, "spin-path-info"), info, "{path}");
        assert_eq!(one(&echo, "spin-matched-route"), "/...");
        assert_eq!(one(&echo, "spin-raw-component-route"), "/...");
        assert_eq!(one(&echo, "spin-component-route"), "");
        assert_eq!(one(&echo, "spin-base-path"), "/");
    }
}

#[test]
fn a_forged_spin_internal_host_gets_the_connection_closed_unanswered() {
    let r = App::start();
    for host in ["worker.spin.internal", "probe.spin.internal:80"] {
        let answer = raw(&r, &["GET /probe/echo HTTP/1.1", &format!("Host: {host}"), "Connection: close"]);
        assert!(answer.is_empty(), "{host}: {:?}", String::from_utf8_lossy(&answer));
    }
    // The Host is removed before routing, so an unmatched path is still a
    // 404 and Spin's own endpoints still answer.
    let answer = raw(&r, &["GET /nothing HTTP/1.1", "Host: worker.spin.internal", "Connection: close"]);
    assert_eq!(parse_response(&answer).expect("a response").status, 404);
    let answer = raw(&r, &["GET /.well-known/spin/health HTTP/1.1", "Host: worker.spin.internal", "Connection: close"]);
    assert_eq!(parse_response(&answer).expect("a response").status, 200);
    // Only `<one label>.spin.internal`, case and all, counts as forged.
    for host in ["WORKER.SPIN.INTERNAL", "a.worker.spin.internal"] {
        let answer = raw(&r, &["GET /probe/echo HTTP/1.1", &format!("Host: {host}"), "Connection: close"]);
        let echo = parse_response(&answer).unwrap_or_else(|| panic!("{host}: no answer")).json();
        assert_eq!(one(&echo, "spin-full-url"), format!("http://{host}/probe/echo"));
    }
}

#[test]
fn an_absolute_form_spin_internal_target_is_served_by_path_as_localhost() {
    let r = App::start();
    for with_host in [true, false] {
        let mut head = vec!["GET http://worker.spin.internal/probe/echo?q=1 HTTP/1.1", "Connection: close"];
        if with_host {
            head.push("Host: worker.spin.internal");
        }
        let resp = parse_response(&raw(&r, &head)).expect("a response");
        assert_eq!(resp.status, 200);
        let echo = resp.json();
        // Routed by its path (to `probe`, not the private `worker`).
        assert_eq!(echo["who"], "probe");
        assert_eq!(one(&echo, "spin-full-url"), "http://localhost/probe/echo?q=1");
        assert!(one(&echo, "spin-client-addr").starts_with("127.0.0.1:"));
        assert_eq!(echo["target"]["authority"], "worker.spin.internal");
    }
}

#[test]
fn a_request_without_an_authority_or_with_two_that_differ_is_closed_unanswered() {
    let r = App::start();
    let no_host = raw(&r, &["GET /probe/echo HTTP/1.0"]);
    assert!(no_host.is_empty(), "{:?}", String::from_utf8_lossy(&no_host));
    let host = format!("Host: {}", r.addr);
    let two = raw(&r, &["GET http://example.com/probe/echo HTTP/1.1", &host, "Connection: close"]);
    assert!(two.is_empty(), "{:?}", String::from_utf8_lossy(&two));
    // The same authority twice (case aside) is fine.
    let same = raw(&r, &["GET http://Example.com/probe/echo HTTP/1.1", "Host: example.com", "Connection: close"]);
    let echo = parse_response(&same).expect("a response").json();
    assert_eq!(one(&echo, "spin-full-url"), "http://example.com/probe/echo");
}

#[test]
fn self_requests_go_out_to_the_listener_as_requests_from_outside() {
    let r = App::start();
    for url in ["http://self.alt/probe/echo?z=1", "/probe/echo?z=1"] {
        let (status, body) = chained(&r, url);
        assert_eq!(status, 200, "{url}: {body}");
        let echo: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(echo["who"], "probe");
        assert_eq!(one(&echo, "spin-full-url"), format!("http://{}/probe/echo?z=1", r.addr), "{url}");
        assert!(one(&echo, "spin-client-addr").starts_with("127.0.0.1:"), "{url}");
        assert_eq!(echo["target"]["authority"], r.addr.as_str(), "{url}");
    }
    // Only with `http://self` (or the like) in allowed_outbound_hosts: the
    // worker has none.
    let (_, body) = chained(&r, "http://worker.spin.internal/outbound?url=http://self.alt/probe/echo");
    assert!(body.contains("HttpRequestDenied"), "{body}");
}

/// Checks an answer Spin gives with no body: the status, `content-length:
/// 0`, no content type.
fn assert_empty(resp: &common::Resp, status: u16) {
    assert_eq!(resp.status, status);
    assert_eq!(resp.header("content-length"), Some("0"), "{:?}", resp.headers);
    assert_eq!(resp.header("content-type"), None, "{:?}", resp.headers);
    assert!(resp.body.is_empty(), "{}", resp.text());
}

#[test]
fn a_request_header_value_that_is_not_utf8_makes_a_routed_request_a_500() {
    let r = App::start();
    // `café` in Latin-1: the byte 0xE9 alone is not UTF-8.
    let bytes = |path: &str| {
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nX-Bin: caf", r.addr).into_bytes();
        head.extend_from_slice(b"\xe9\r\nConnection: close\r\n\r\n");
        head
    };
    assert_empty(&parse_response(&exchange(&r.addr, &bytes("/probe/echo"))).expect("a response"), 500);
    // Unrouted, it is the usual 404.
    assert_empty(&parse_response(&exchange(&r.addr, &bytes("/nothing"))).expect("a response"), 404);
}

#[test]
fn unmatched_routes_answer_404_with_an_empty_body() {
    let r = App::start();
    for path in ["/nothing/here", "/", "/worker", "/probe-not"] {
        assert_empty(&r.get(path), 404);
    }
}

#[test]
fn a_trapped_component_answers_500_with_an_empty_body() {
    let r = App::start();
    assert_empty(&r.get("/probe/trap"), 500);
    // Also when the trap happens behind a chained call.
    assert_eq!(chained(&r, "http://worker.spin.internal/probe/trap"), (500, String::new()));
}

#[test]
fn spin_answers_well_known_health_and_info_itself() {
    let r = App::start();
    let health = r.get("/.well-known/spin/health");
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), "OK");
    assert_eq!(health.header("content-type"), None);
    assert_eq!(health.header("content-length"), Some("2"));
    let info = r.get("/.well-known/spin/info");
    assert_eq!(info.status, 200);
    assert_eq!(info.header("content-type"), Some("application/json"));
    assert_eq!(info.text(), "{\n  \"name\": \"runner-test-app\",\n  \"version\": \"0.1.0\"\n}");
    assert_empty(&r.get("/.well-known/spin/other"), 404);
    assert_empty(&r.get("/.well-known/spin/"), 404);
}

/// A one-component app in a temporary directory `app/`, with the probe as
/// its component (`source` names it by absolute path), `files = [<files>]`
/// and `extra` lines appended to the component.
fn probe_app(dir: &Path, files: &str, extra: &str) -> std::path::PathBuf {
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"conformance\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n\
         [component.c]\nsource = {:?}\nfiles = [{files}]\n{extra}\n",
        probe_wasm().display().to_string()
    );
    std::fs::write(app.join("spin.toml"), manifest).unwrap();
    app.join("spin.toml")
}

/// A tree of files for the `files` tests: `app/assets/{a.txt,sub/s.txt}`,
/// an empty `app/assets/empty/`, `app/data/d.txt`, `outside/o.txt` next to
/// the app, and `app/linked` a symlink to `outside`.
fn file_tree(dir: &Path) {
    for (path, text) in
        [("app/assets/a.txt", "a"), ("app/assets/sub/s.txt", "s"), ("app/data/d.txt", "d"), ("outside/o.txt", "o")]
    {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(dir.join("app/assets/empty")).unwrap();
    std::os::unix::fs::symlink("../outside", dir.join("app/linked")).unwrap();
}

/// What the component sees below `/` (`/probe/tree`), with `files = [..]`.
fn visible(files: &str, extra: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    file_tree(dir.path());
    let manifest = probe_app(dir.path(), files, extra);
    let server = launch(&manifest, dir.path()).try_start(host()).unwrap_or_else(|e| panic!("files = [{files}]: {e}"));
    let resp = request(server.addr(), "GET", "/tree?path=/", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    serde_json::from_slice(&resp.body).unwrap()
}

#[test]
fn files_outside_the_app_directory_make_the_app_fail_to_load() {
    let dir = tempfile::tempdir().unwrap();
    file_tree(dir.path());
    let outside = dir.path().join("outside");
    for files in [
        format!("{{ source = {:?}, destination = \"/o\" }}", outside.display().to_string()),
        format!("{{ source = {:?}, destination = \"/o.txt\" }}", outside.join("o.txt").display().to_string()),
        format!("{:?}", outside.join("*").display().to_string()),
    ] {
        let manifest = probe_app(dir.path(), &files, "");
        let refused = launch(&manifest, dir.path()).try_start(host());
        assert!(refused.is_err(), "files = [{files}] was loaded");
    }
}

#[test]
fn files_are_judged_by_path_so_symlinks_and_dotdot_inside_the_app_are_accepted() {
    // A symlink inside the app directory is followed wherever it points.
    assert_eq!(visible("\"linked/*\"", ""), ["linked/", "linked/o.txt"]);
    assert_eq!(visible("{ source = \"linked\", destination = \"/l\" }", ""), ["l/", "l/o.txt"]);
    // `..` paths start with the app directory: accepted. A directory's
    // files are placed below the destination...
    assert_eq!(visible("{ source = \"../outside\", destination = \"/o\" }", ""), ["o/", "o/o.txt"]);
    // ...but a pattern's keep their `../` path, outside what is mounted.
    assert!(visible("\"../outside/*\"", "").is_empty());
}

#[test]
fn files_are_copied_where_spin_puts_them() {
    // Globs keep paths from the app directory; empty directories are not copied.
    assert_eq!(visible("\"assets/**/*\"", ""), ["assets/", "assets/a.txt", "assets/sub/", "assets/sub/s.txt"]);
    // A pattern naming a directory repeats its name.
    assert_eq!(
        visible("\"assets\"", ""),
        ["assets/", "assets/assets/", "assets/assets/a.txt", "assets/assets/sub/", "assets/assets/sub/s.txt"]
    );
    // A directory placement's files go below its destination; relative destinations start at `/`.
    assert_eq!(visible("{ source = \"data\", destination = \"rel\" }", ""), ["rel/", "rel/d.txt"]);
    assert_eq!(visible("{ source = \"data/d.txt\", destination = \"/deep/d.txt\" }", ""), ["deep/", "deep/d.txt"]);
    // exclude_files matches paths from the app directory.
    assert_eq!(visible("\"assets/**/*\"", "exclude_files = [\"assets/sub/**\"]"), ["assets/", "assets/a.txt"]);
    // A glob that matches nothing still mounts an empty `/`.
    assert!(visible("\"nothing/*\"", "").is_empty());
}

#[test]
fn wildcard_chaining_allows_only_the_apps_components() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = probe_app(dir.path(), "", "allowed_outbound_hosts = [\"http://*.spin.internal\"]");
    let server = launch(&manifest, dir.path()).try_start(host()).unwrap_or_else(|e| panic!("{e}"));
    let call = |url: &str| request(server.addr(), "GET", &format!("/outbound?url={url}"), &[], b"").text();
    assert!(call("http://c.spin.internal/who").starts_with("status:200"));
    for url in ["http://nope.spin.internal/x", "http://a.c.spin.internal/x"] {
        let answer = call(url);
        assert!(answer.contains("HttpRequestDenied"), "{url}: {answer}");
    }
}

#[test]
fn spin_info_leaves_out_a_version_the_manifest_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = probe_app(dir.path(), "", "");
    let server = launch(&manifest, dir.path()).try_start(host()).unwrap_or_else(|e| panic!("{e}"));
    let info = request(server.addr(), "GET", "/.well-known/spin/info", &[], b"");
    assert_eq!(info.text(), "{\n  \"name\": \"conformance\"\n}");
}

#[test]
fn key_value_stores_are_created_on_first_use() {
    let r = App::start();
    let default_db = r.dir.path().join("state/sqlite_key_value.db");
    let extra_db = r.dir.path().join(".spin/extra_kv.db");
    // Their directories exist from the start; the files do not.
    assert!(extra_db.parent().unwrap().is_dir());
    assert!(!default_db.exists(), "{} exists before any use", default_db.display());
    assert!(!extra_db.exists(), "{} exists before any use", extra_db.display());
    assert_eq!(r.get("/probe/kv/get?key=a").status, 404);
    assert!(default_db.exists());
    assert!(!extra_db.exists(), "only the label used is created");
    assert_eq!(r.get("/probe/kv/keys?store=extra").text(), "[]");
    assert!(extra_db.exists());
}

#[test]
fn incrementing_a_value_that_is_not_a_counter_poisons_its_store_until_restart() {
    let r = App::start();
    assert_eq!(r.post("/probe/kv/set?key=n", &7i64.to_le_bytes()).text(), "set");
    assert_eq!(r.post("/probe/kv/set?key=text", b"hello").text(), "set");
    // The increment traps the component...
    assert_empty(&r.post("/probe/wkv/increment?key=text", b""), 500);
    // ...and every later operation on that label traps too, whatever the
    // key, the interface or the component.
    assert_empty(&r.get("/probe/kv/get?key=n"), 500);
    assert_empty(&r.post("/probe/kv/set?key=other", b"x"), 500);
    assert_empty(&r.get("/probe/kv/keys"), 500);
    assert_empty(&r.post("/probe/wkv/increment?key=n", b""), 500);
    assert_eq!(chained(&r, "http://worker.spin.internal/probe/kv/get?key=n"), (500, String::new()));
    // Other labels are unharmed.
    assert_eq!(r.post("/probe/kv/set?store=extra&key=k", b"v").text(), "set");
    assert_eq!(r.get("/probe/kv/get?store=extra&key=k").text(), "v");
}

#[test]
fn key_value_increments_wrap_around_on_overflow() {
    let r = App::start();
    r.post("/probe/kv/set?key=max", &i64::MAX.to_le_bytes());
    assert_eq!(r.post("/probe/wkv/increment?key=max", b"").text(), i64::MIN.to_string());
    assert_eq!(r.post("/probe/wkv/increment?key=max&delta=-1", b"").text(), i64::MAX.to_string());
}

#[test]
fn http2_with_prior_knowledge_is_served() {
    let r = App::start();
    // The HTTP/2 connection preface and an empty SETTINGS frame.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let mut s = TcpStream::connect(&r.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(&mut s, &hello).unwrap();
    let mut frame = [0u8; 9];
    std::io::Read::read_exact(&mut s, &mut frame).expect("an HTTP/2 frame");
    assert_eq!(frame[3], 4, "the server's first frame is SETTINGS: {frame:?}");
}

/// `TCP_NODELAY` of the server's end of `client`, read from the socket in
/// the host's process group (`group`) through `pidfd_getfd(2)`.
fn server_nodelay(group: u32, client: &TcpStream) -> bool {
    let ours: SocketAddr = client.local_addr().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // Field 5 (after the parenthesised command) is the process group.
        let pgrp = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2))
            .and_then(|g| g.parse::<u32>().ok());
        if pgrp != Some(group) {
            continue;
        }
        // SAFETY: plain syscalls on ids we own; every fd we get is closed.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        assert!(pidfd >= 0, "pidfd_open({pid}): {}", std::io::Error::last_os_error());
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            if !target.to_string_lossy().starts_with("socket:") {
                continue;
            }
            let Ok(n) = fd.file_name().to_string_lossy().parse::<i32>() else { continue };
            let local = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, n, 0) } as i32;
            assert!(local >= 0, "pidfd_getfd({pid}, {n}): {}", std::io::Error::last_os_error());
            // SAFETY: `local` is a socket fd of our own now; into_raw_fd gives it back.
            let socket = unsafe { <TcpStream as std::os::fd::FromRawFd>::from_raw_fd(local) };
            let found = socket.peer_addr().ok() == Some(ours);
            let nodelay = found.then(|| socket.nodelay().unwrap());
            unsafe { libc::close(std::os::fd::IntoRawFd::into_raw_fd(socket)) };
            if let Some(nodelay) = nodelay {
                unsafe { libc::close(pidfd) };
                return nodelay;
            }
        }
        unsafe { libc::close(pidfd) };
    }
    panic!("no socket of process group {group} is connected to {ours}");
}

#[test]
fn accepted_sockets_keep_nagles_algorithm_on() {
    let r = App::start();
    let client = TcpStream::connect(&r.addr).unwrap();
    // Have the connection accepted before looking for it.
    let resp = {
        let mut c = client.try_clone().unwrap();
        std::io::Write::write_all(
            &mut c,
            format!("GET /.well-known/spin/health HTTP/1.1\r\nHost: {}\r\n\r\n", r.addr).as_bytes(),
        )
        .unwrap();
        let mut buf = [0u8; 256];
        let n = std::io::Read::read(&mut c, &mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(!server_nodelay(r.pid(), &client), "the host set TCP_NODELAY on an accepted socket");
}

/// What a component sees when SQLite cannot write: the error of the failed
/// statement is `io(<SQLite's message>)` — never the interface's
/// `database-full` variant, not even when the database is full — and reads
/// go on. Full: `PRAGMA max_page_count` at the file's current size on the
/// statement's own connection (SQLITE_FULL, "database or disk is full", as
/// a full disk or a libSQL quota gives it). Read-only: `chattr +i` on the
/// file (SQLITE_READONLY, "attempt to write a readonly database", as a file
/// system remounted read-only gives it; root ignores `chmod`, not the
/// immutable flag), in rollback-journal and in WAL mode. `platform::problem`
/// sorts these texts into a 503 `storage-unavailable` answer.
#[test]
fn a_full_or_read_only_database_fails_writes_as_io_with_sqlites_message_and_reads_go_on() {
    let r = App::start();
    let sql = |body: &str| r.post("/probe/sql/v3", body.as_bytes());
    assert_eq!(sql("CREATE TABLE f (x BLOB);;INSERT INTO f VALUES (x'01')").status, 200);
    let full = sql("PRAGMA max_page_count = 2;;INSERT INTO f VALUES (randomblob(100000))");
    assert_eq!((full.status, full.text()), (500, "Error::Io(\"database or disk is full\")".to_string()));
    // the limit was this connection's; the next one writes again
    assert_eq!(sql("INSERT INTO f VALUES (x'02')").status, 200);

    let file = r.dir.path().join("state/sqlite_db.db");
    let chattr = |flag: &str, suffixes: &[&str]| {
        for suffix in suffixes {
            let path = format!("{}{suffix}", file.display());
            if !Path::new(&path).exists() {
                continue;
            }
            let out = Command::new("chattr").arg(flag).arg(&path).output().expect("run chattr");
            assert!(
                out.status.success(),
                "chattr {flag} {path} (needs CAP_LINUX_IMMUTABLE): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    // rollback journal (SQLite's default), then WAL with the database and
    // its -wal immutable (the -shm, mapped by the host, stays writable; the
    // last connection to close checkpoints and removes both, so between
    // requests there is often no -wal)
    for (rows, files) in [(2, &[""][..]), (3, &["", "-wal"][..])] {
        chattr("+i", files);
        let write = sql("INSERT INTO f VALUES (x'03')");
        let read = sql("SELECT count(*) AS n FROM f");
        chattr("-i", files);
        assert_eq!(
            (write.status, write.text()),
            (500, "Error::Io(\"attempt to write a readonly database\")".to_string()),
            "{files:?}"
        );
        assert_eq!(read.status, 200, "{}", read.text());
        assert_eq!(read.json()[0]["rows"], json!([[rows]]));
        assert_eq!(sql("INSERT INTO f VALUES (x'03')").status, 200);
        if files.len() == 1 {
            assert_eq!(sql("PRAGMA journal_mode = WAL").json()[0]["rows"], json!([["wal"]]));
        }
    }
}
