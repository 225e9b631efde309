//! Test harness: build the probe component if needed, start the probe app
//! (`tests/runner-app/spin.toml`) on the host `BOXOFFICE_HOST` names (the
//! release runner by default, or a real Spin CLI with `BOXOFFICE_HOST=spin`
//! and `SPIN_BIN`) with a temporary state dir, and talk raw HTTP/1.1 to it.
//!
//! Every test runs on both hosts; what only the runner has (its `--tick`
//! flag, its own CLI and error texts) is skipped on Spin by
//! [`runner_only`], which says so on stderr.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub use apphost::Host;
use apphost::{Launch, Server};

pub fn workspace_root() -> PathBuf {
    // canonicalize: the crate directory may be reached through a symlink.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap();
    dir.parent().unwrap().to_path_buf()
}

/// The probe component, `target/wasm32-wasip2/wasm/runner_probe.wasm`.
pub fn probe_wasm() -> PathBuf {
    workspace_root().join("target/wasm32-wasip2/wasm/runner_probe.wasm")
}

/// The probe component, built (or confirmed up to date) on first use with
/// `cargo build --profile wasm --target wasm32-wasip2 -p runner-probe`.
/// `tests/runner-app/spin.toml` refers to it as
/// `../../target/wasm32-wasip2/wasm/runner_probe.wasm`.
/// Set `RUNNER_TESTS_SKIP_PROBE_BUILD=1` to use an existing build as is.
pub fn ensure_probe_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = workspace_root();
        let wasm = probe_wasm();
        if wasm.exists() && std::env::var_os("RUNNER_TESTS_SKIP_PROBE_BUILD").is_some() {
            return;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .args(["build", "--profile", "wasm", "--target", "wasm32-wasip2", "-p", "runner-probe"])
            .status()
            .expect("run cargo to build the probe component");
        if !status.success() {
            assert!(wasm.exists(), "building runner-probe failed");
            eprintln!("warning: building runner-probe failed; using the existing {}", wasm.display());
        }
        assert!(wasm.exists(), "{} missing after build", wasm.display());
    });
}

/// The host this test run uses ([`Host::from_env`]).
pub fn host() -> Host {
    Host::from_env()
}

/// True, after writing `runner-only: <what>` to stderr, when the test run
/// is on Spin: the caller returns early, as what it checks exists only on
/// the runner.
pub fn runner_only(what: &str) -> bool {
    let host = host();
    if host == Host::Spin {
        // Straight to stderr, past the test harness's output capture, so
        // the skip shows in a passing run.
        let _ = writeln!(std::io::stderr(), "runner-only: {what} (skipped on {})", host.name());
    }
    host == Host::Spin
}

/// A launch of `manifest` for tests: state, stderr log and working
/// directory in `dir`, the runner binary cargo built for these tests.
pub fn launch(manifest: &Path, dir: &Path) -> Launch {
    ensure_probe_built();
    Launch::new(manifest, dir.join("state"))
        .workdir(dir)
        .log(dir.join("host.log"))
        .runner(env!("CARGO_BIN_EXE_boxoffice-runner"))
}

/// The probe app, running.
pub struct App {
    server: Server,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// State dir (`state/`), working directory, runtime config and log.
    pub dir: tempfile::TempDir,
}

impl App {
    /// The probe app with its runtime config (copied into [`App::dir`], so
    /// its relative key-value paths land there) and `tick_token` set.
    pub fn start() -> App {
        App::start_with(&[], &[])
    }

    /// [`App::start`] with extra environment variables of the host process
    /// and extra runner arguments (`runner_args` are runner-only: callers
    /// check [`runner_only`] first).
    pub fn start_with(env: &[(&str, &str)], runner_args: &[&str]) -> App {
        let dir = tempfile::tempdir().unwrap();
        let app = workspace_root().join("tests/runner-app");
        let rc = dir.path().join("runtime-config.toml");
        std::fs::copy(app.join("runtime-config.toml"), &rc).unwrap();
        let mut launch =
            launch(&app.join("spin.toml"), dir.path()).runtime_config(&rc).var("tick_token", "test-tick-token");
        for (k, v) in env {
            launch = launch.env(k, v);
        }
        for a in runner_args {
            launch = launch.runner_arg(a);
        }
        let server = launch.try_start(host()).unwrap_or_else(|e| panic!("{e}"));
        let addr = server.addr().to_string();
        App { server, addr, dir }
    }

    /// Which host serves it.
    pub fn host(&self) -> Host {
        self.server.host
    }

    /// The host's process id, the leader of its process group.
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// What the host wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Resp {
        request(&self.addr, "GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Resp {
        request(&self.addr, "POST", path, &[], body)
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client (one request per connection) that can send
/// repeated headers and decodes chunked bodies.
pub fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw_request = head.into_bytes();
    raw_request.extend_from_slice(body);
    let raw = exchange(addr, &raw_request);
    parse_response(&raw)
        .unwrap_or_else(|| panic!("no HTTP response to {method} {path}: {:?}", String::from_utf8_lossy(&raw)))
}

/// Send `bytes` as they are on a new connection and read until the server
/// closes it: everything it answered (empty when it closed without a word).
pub fn exchange(addr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(bytes).unwrap();
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) => {}
        // A reset after an unanswered request counts as a close.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading from {addr}: {e}"),
    }
    raw
}

/// Parse one HTTP/1.1 response (status, lower-cased headers, body with a
/// chunked transfer coding undone); `None` when `raw` holds none.
pub fn parse_response(raw: &[u8]) -> Option<Resp> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let nl = rest[i..].windows(2).position(|w| w == b"\r\n")? + i;
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[i..nl]).trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            i = nl + 2 + size + 2;
        }
        rest = out;
    }
    Some(Resp { status, headers, body: rest })
}

/// The values of header `name` in a probe echo, in the order the component
/// saw them.
pub fn header_values(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_string())
        .collect()
}

/// The one value of header `name` in a probe echo.
pub fn one(echo: &serde_json::Value, name: &str) -> String {
    let v = header_values(echo, name);
    assert_eq!(v.len(), 1, "{name}: {v:?} in {echo}");
    v[0].clone()
}
