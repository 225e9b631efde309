//! Test harness: [`App::spawn`] starts the whole Boxoffice app under the
//! local runner (`target/release/boxoffice-runner`, built by
//! `cargo xtask test`) on a free loopback port with its own temporary state
//! directory, and hands back a small HTTP client.
//!
//! Each `App` is isolated: its SQLite and KV files live in a temp dir that is
//! removed on drop, and the runner process is killed on drop.

pub mod accounts;
pub mod booking;
pub mod catalog;
pub mod journey;
pub mod payments;
pub mod tickets;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use serde_json::{json, Value};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A running instance of the app.
pub struct App {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
    agent: ureq::Agent,
}

/// An HTTP answer, fully read.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, lower-cased names, in order.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts this is an RFC 9457 problem with `status`, returning its JSON.
    pub fn assert_problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        assert!(
            self.header("content-type").unwrap_or("").starts_with("application/problem+json"),
            "not problem+json: {:?} {}",
            self.header("content-type"),
            self.text()
        );
        let v = self.json();
        assert_eq!(v["status"], status, "problem status member");
        assert!(v["type"].is_string() && v["title"].is_string(), "problem members: {v}");
        v
    }
}

impl App {
    /// Starts the app with the default variables.
    pub fn spawn() -> App {
        Self::spawn_with(&[])
    }

    /// Starts the app with `SPIN_VARIABLE_<NAME>` overrides, e.g.
    /// `&[("hold_ttl_seconds", "3")]`.
    pub fn spawn_with(vars: &[(&str, &str)]) -> App {
        Self::spawn_manifest(None, vars)
    }

    /// Starts the runner on a free loopback port with every store private
    /// to this app (a temp dir removed on drop).
    ///
    /// `manifest`: `None` serves the project's `spin.toml` from the
    /// workspace root; `Some(text)` serves that manifest text instead (its
    /// `source` paths must be absolute), from the temp dir.
    pub fn spawn_manifest(manifest: Option<&str>, vars: &[(&str, &str)]) -> App {
        let root = workspace_root();
        let bin = root.join("target/release/boxoffice-runner");
        assert!(bin.exists(), "{} is missing: run `cargo xtask test` (it builds the runner and components)", bin.display());
        let dir = tempfile::tempdir().expect("temp dir");
        // Spin resolves SQLite paths against the working directory and KV
        // paths against the runtime config's directory, so every path is
        // made absolute inside the temp dir.
        let rc = dir.path().join("runtime-config.toml");
        let text = std::fs::read_to_string(root.join("runtime-config.toml")).expect("read runtime-config.toml");
        let private = text.replace("path = \".spin/", &format!("path = \"{}/.spin/", dir.path().display()));
        std::fs::write(&rc, private).expect("write runtime-config.toml");
        let mut cmd = Command::new(&bin);
        match manifest {
            None => {
                cmd.current_dir(&root).args(["--manifest", "spin.toml"]);
            }
            Some(text) => {
                let path = dir.path().join("spin.toml");
                std::fs::write(&path, text).expect("write manifest");
                cmd.current_dir(dir.path()).arg("--manifest").arg(&path);
            }
        }
        cmd.args(["--listen", "127.0.0.1:0"])
            .arg("--runtime-config-file")
            .arg(&rc)
            .arg("--state-dir")
            .arg(dir.path().join(".spin"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in vars {
            cmd.env(format!("SPIN_VARIABLE_{}", k.to_ascii_uppercase()), v);
        }
        let mut child = cmd.spawn().expect("start runner");
        let stdout = child.stdout.take().expect("runner stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let base = loop {
            line.clear();
            if reader.read_line(&mut line).expect("read runner stdout") == 0 {
                let _ = child.kill();
                panic!("runner exited before listening");
            }
            if let Some(url) = line.trim().strip_prefix("boxoffice-runner listening on ") {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the runner never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).redirects(0).build();
        App { base, child, _dir: dir, agent }
    }

    /// The app's private state directory (`<temp>/.spin`): the KV and
    /// SQLite files of `runtime-config.toml` (`holds-kv.db`,
    /// `bookings.db`, …), for tests that inject storage faults.
    pub fn state_dir(&self) -> PathBuf {
        self._dir.path().join(".spin")
    }

    /// Sends a request; `body` is sent as JSON when given. Never fails on
    /// 4xx/5xx: the status is in the reply.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.set("content-type", "application/json").send_string(&b.to_string()),
            None => req.call(),
        };
        finish(method, path, result)
    }

    /// Sends raw bytes with a content type.
    pub fn call_raw(&self, method: &str, path: &str, content_type: &str, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{}", self.base, path)).set("content-type", content_type);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        finish(method, path, req.send_bytes(body))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None, &[])
    }

    /// `GET path` with a bearer token.
    pub fn get_as(&self, token: &str, path: &str) -> Reply {
        self.call("GET", path, None, &[("authorization", &format!("Bearer {token}"))])
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body), &[])
    }

    /// `POST path` with a JSON body and a bearer token.
    pub fn post_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body), &[("authorization", &format!("Bearer {token}"))])
    }
}

/// Reads a ureq result into a [`Reply`]; 4xx/5xx are replies, transport
/// errors panic naming the request.
fn finish(method: &str, path: &str, result: Result<ureq::Response, ureq::Error>) -> Reply {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: transport error {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .flat_map(|n| resp.all(&n).into_iter().map(|v| (n.clone(), v.to_string())).collect::<Vec<_>>())
        .collect();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).expect("read body");
    Reply { status, headers, body }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
