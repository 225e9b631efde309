//! Test harness: build the probe component if needed, start the release
//! runner on port 0 with a temporary state dir, and talk raw HTTP/1.1 to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub fn workspace_root() -> PathBuf {
    // canonicalize: the crate directory may be reached through a symlink.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap();
    dir.parent().unwrap().to_path_buf()
}

/// The probe component, built (or confirmed up to date) on first use with
/// `cargo build --release --target wasm32-wasip2 -p runner-probe`.
/// `tests/runner-app/spin.toml` refers to it as
/// `../../target/wasm32-wasip2/release/runner_probe.wasm`.
/// Set `RUNNER_TESTS_SKIP_PROBE_BUILD=1` to use an existing build as is.
pub fn ensure_probe_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = workspace_root();
        let wasm = root.join("target/wasm32-wasip2/release/runner_probe.wasm");
        if wasm.exists() && std::env::var_os("RUNNER_TESTS_SKIP_PROBE_BUILD").is_some() {
            return;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "-p", "runner-probe"])
            .status()
            .expect("run cargo to build the probe component");
        if !status.success() {
            assert!(wasm.exists(), "building runner-probe failed");
            eprintln!("warning: building runner-probe failed; using the existing {}", wasm.display());
        }
        assert!(wasm.exists(), "{} missing after build", wasm.display());
    });
}

pub struct Runner {
    child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Runner {
    pub fn start(extra_args: &[&str], env: &[(&str, &str)]) -> Runner {
        ensure_probe_built();
        let dir = tempfile::tempdir().unwrap();
        let app = workspace_root().join("tests/runner-app");
        // Copy the runtime config so its relative key-value paths land in the temp dir.
        let rc = dir.path().join("runtime-config.toml");
        std::fs::copy(app.join("runtime-config.toml"), &rc).unwrap();
        let log = std::fs::File::create(dir.path().join("runner.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxoffice-runner"));
        cmd.current_dir(dir.path())
            .arg("--manifest")
            .arg(app.join("spin.toml"))
            .arg("--runtime-config-file")
            .arg(&rc)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .args(["--listen", "127.0.0.1:0"])
            .args(extra_args)
            .env("SPIN_VARIABLE_TICK_TOKEN", "test-tick-token")
            .stdout(Stdio::piped())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn boxoffice-runner");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = match line.trim().strip_prefix("boxoffice-runner listening on http://") {
            Some(a) => a.to_string(),
            None => {
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("runner.log")).unwrap_or_default();
                panic!("runner did not start; stdout {line:?}; log:\n{log}");
            }
        };
        Runner { child, addr, dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("runner.log")).unwrap_or_default()
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
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let nl = rest[i..].windows(2).position(|w| w == b"\r\n").unwrap() + i;
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[i..nl]).trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            i = nl + 2 + size + 2;
        }
        rest = out;
    }
    Resp { status, headers, body: rest }
}
