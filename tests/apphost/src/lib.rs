//! One way to start a Spin application for a test, on either host:
//!
//! * [`Host::Runner`] — the project's local runner
//!   (`target/release/boxoffice-runner`), which prints
//!   `boxoffice-runner listening on http://…` once it listens on the port
//!   the kernel gave it;
//! * [`Host::Spin`] — a real Spin CLI (`spin up --from … --listen …`), on a
//!   free loopback port chosen here, ready when `/.well-known/spin/health`
//!   answers 200. Spin has no timer for tick routes; [`Launch::tick`] makes
//!   the harness send them (on the runner too, so both hosts see the same
//!   outside requests).
//!
//! Which host a test run uses is [`Host::from_env`]: `BOXOFFICE_HOST=spin`
//! or `runner` (the default). The Spin CLI is `SPIN_BIN`, else `spin` on
//! `PATH` ([`spin_bin`]).
//!
//! A [`Server`] owns its process group: dropping it stops the tick senders
//! and ends the host with SIGTERM, then SIGKILL after 5 s, so Spin's
//! `spin trigger http` child never outlives the test.

// libc: kill(2) of a host's process group, geteuid(2) (workspace lint unsafe_code)
#![allow(unsafe_code)]

pub mod redis_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The host an application runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The local runner (`runner/`, native, on wasmtime).
    Runner,
    /// A real Spin CLI ([`spin_bin`]).
    Spin,
}

impl Host {
    /// `BOXOFFICE_HOST`: `spin` or `runner` (unset: runner).
    ///
    /// Panics on any other value, and on `spin` when no Spin CLI is found,
    /// so a run meant for Spin never silently runs on the runner.
    pub fn from_env() -> Host {
        match std::env::var("BOXOFFICE_HOST").as_deref() {
            Err(_) | Ok("") | Ok("runner") => Host::Runner,
            Ok("spin") => {
                assert!(spin_bin().is_some(), "BOXOFFICE_HOST=spin but no Spin CLI: set SPIN_BIN or put spin on PATH");
                Host::Spin
            }
            Ok(other) => panic!("BOXOFFICE_HOST={other:?}: expected `spin` or `runner`"),
        }
    }

    /// `"runner"` or `"spin"`.
    pub fn name(self) -> &'static str {
        match self {
            Host::Runner => "runner",
            Host::Spin => "spin",
        }
    }
}

/// The Spin CLI to test on: `SPIN_BIN` when it names an executable file,
/// else the first `spin` on `PATH`; `None` when there is neither.
pub fn spin_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPIN_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        let p = if p.is_relative() { std::env::current_dir().ok()?.join(p) } else { p };
        return p.is_file().then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("spin")).find(|p| p.is_file())
}

/// The local runner binary, `<workspace>/target/release/boxoffice-runner`.
pub fn runner_bin(workspace: &Path) -> PathBuf {
    workspace.join("target/release/boxoffice-runner")
}

/// What to start: a manifest, its runtime config, a state directory,
/// `SPIN_VARIABLE_*` values and tick routes.
#[derive(Debug, Clone)]
pub struct Launch {
    manifest: PathBuf,
    runtime_config: Option<PathBuf>,
    state_dir: PathBuf,
    workdir: PathBuf,
    runner: Option<PathBuf>,
    env: Vec<(String, String)>,
    ticks: Vec<(String, Duration)>,
    tick_token: Option<String>,
    log: Option<PathBuf>,
    runner_args: Vec<String>,
}

impl Launch {
    /// Serves `manifest` with its state (SQLite and KV files Spin keeps by
    /// default, and the runner's staging) under `state_dir`. The working
    /// directory is the manifest's directory unless [`Launch::workdir`]
    /// says otherwise.
    pub fn new(manifest: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Launch {
        let manifest = manifest.into();
        let workdir = manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| ".".into());
        Launch {
            manifest,
            runtime_config: None,
            state_dir: state_dir.into(),
            workdir,
            runner: None,
            env: Vec::new(),
            ticks: Vec::new(),
            tick_token: None,
            log: None,
            runner_args: Vec::new(),
        }
    }

    /// `--runtime-config-file`.
    pub fn runtime_config(mut self, path: impl Into<PathBuf>) -> Launch {
        self.runtime_config = Some(path.into());
        self
    }

    /// The working directory of the host process (relative SQLite paths of
    /// a runtime config resolve against it).
    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Launch {
        self.workdir = dir.into();
        self
    }

    /// The runner binary (default: `target/release/boxoffice-runner` of the
    /// workspace that holds this crate).
    pub fn runner(mut self, bin: impl Into<PathBuf>) -> Launch {
        self.runner = Some(bin.into());
        self
    }

    /// Sets app variable `name` (`SPIN_VARIABLE_<NAME>`).
    pub fn var(mut self, name: &str, value: &str) -> Launch {
        self.env.push((format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()), value.to_string()));
        self
    }

    /// Sets an environment variable of the host process.
    pub fn env(mut self, name: &str, value: &str) -> Launch {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// `POST path` every `every`, with `Authorization: Bearer <token>` when
    /// [`Launch::tick_token`] is set, sent by the harness from outside.
    pub fn tick(mut self, path: &str, every: Duration) -> Launch {
        self.ticks.push((path.to_string(), every));
        self
    }

    /// The bearer token of tick requests.
    pub fn tick_token(mut self, token: &str) -> Launch {
        self.tick_token = Some(token.to_string());
        self
    }

    /// Where the host's stderr (its request log) goes; default: inherited.
    pub fn log(mut self, path: impl Into<PathBuf>) -> Launch {
        self.log = Some(path.into());
        self
    }

    /// Extra command-line arguments for the runner only (its own flags,
    /// such as `--tick`); ignored on Spin.
    pub fn runner_arg(mut self, arg: &str) -> Launch {
        self.runner_args.push(arg.to_string());
        self
    }

    /// Starts the app on `host` and waits until it serves.
    ///
    /// Panics (naming the host and what it printed) when it cannot start
    /// or does not serve within 120 s.
    pub fn start(&self, host: Host) -> Server {
        match self.launch(host, self.log.clone()) {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts the app on `host` like [`Launch::start`], but a host that
    /// refuses the app (exits before it serves) is an `Err` holding what it
    /// wrote to stderr, for tests of load-time errors. Its stderr goes to
    /// [`Launch::log`], or else to `<state_dir>/<host>-stderr.log`.
    pub fn try_start(&self, host: Host) -> Result<Server, String> {
        let capture = self.log.clone().unwrap_or_else(|| self.state_dir.join(format!("{}-stderr.log", host.name())));
        self.launch(host, Some(capture))
    }

    /// `stderr`: where the host's stderr goes (`None`: inherited).
    fn launch(&self, host: Host, stderr: Option<PathBuf>) -> Result<Server, String> {
        std::fs::create_dir_all(&self.state_dir).expect("create state dir");
        let server = match host {
            Host::Runner => self.start_runner(stderr.as_deref()),
            Host::Spin => self.start_spin(stderr.as_deref()),
        }?;
        server.spawn_ticks(&self.ticks, self.tick_token.clone());
        Ok(server)
    }

    fn command(&self, program: &Path, stderr: Option<&Path>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.workdir).process_group(0).stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        match stderr {
            Some(p) => {
                let f = std::fs::File::create(p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
                cmd.stderr(f);
            }
            None => {
                cmd.stderr(Stdio::inherit());
            }
        }
        cmd
    }

    fn start_runner(&self, stderr: Option<&Path>) -> Result<Server, String> {
        let bin = self.runner.clone().unwrap_or_else(|| runner_bin(&workspace_root()));
        assert!(
            bin.exists(),
            "{} is missing: run `cargo xtask test` (it builds the runner and components)",
            bin.display()
        );
        let mut cmd = self.command(&bin, stderr);
        cmd.arg("--manifest").arg(&self.manifest).args(["--listen", "127.0.0.1:0"]);
        if let Some(rc) = &self.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        cmd.arg("--state-dir").arg(&self.state_dir).args(&self.runner_args).stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut reader = BufReader::new(child.stdout.take().expect("runner stdout"));
        let mut line = String::new();
        let base = loop {
            line.clear();
            if reader.read_line(&mut line).expect("read runner stdout") == 0 {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the runner exited before listening ({}){}",
                    self.manifest.display(),
                    captured(stderr)
                ));
            }
            if let Some(url) = line.trim().strip_prefix("boxoffice-runner listening on ") {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the runner never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        Ok(Server::new(Host::Runner, base, child))
    }

    fn start_spin(&self, stderr: Option<&Path>) -> Result<Server, String> {
        let bin = spin_bin().expect("no Spin CLI: set SPIN_BIN or put spin on PATH");
        let mut last_error = String::new();
        // The port is chosen here and released before Spin binds it; another
        // process can take it in between, so a refusal is retried. When
        // stderr is captured, any other exit is final (the app was refused).
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = self.command(&bin, stderr);
            cmd.arg("up").arg("--from").arg(&self.manifest).arg("--listen").arg(format!("127.0.0.1:{port}"));
            if let Some(rc) = &self.runtime_config {
                cmd.arg("--runtime-config-file").arg(rc);
            }
            cmd.arg("--state-dir").arg(&self.state_dir).stdout(Stdio::null());
            let child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let base = format!("http://127.0.0.1:{port}");
            let mut server = Server::new(Host::Spin, base, child);
            match server.wait_healthy(Duration::from_secs(120)) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    let text = stderr.and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
                    last_error = format!("{e}{}", captured(stderr));
                    if stderr.is_some() && !server.is_running() && !text.contains("already in use") {
                        break;
                    }
                }
            }
        }
        Err(format!("spin up did not serve {}: {last_error}", self.manifest.display()))
    }
}

/// `"; stderr:\n<text>"` of a captured stderr file, or nothing.
fn captured(stderr: Option<&Path>) -> String {
    match stderr.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) if !text.is_empty() => format!("; stderr:\n{text}"),
        _ => String::new(),
    }
}

/// The workspace root: two levels above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind a loopback port").port()
}

/// A running application; stopped on drop.
pub struct Server {
    /// Which host serves it.
    pub host: Host,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base: String,
    child: Child,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn new(host: Host, base: String, child: Child) -> Server {
        Server { host, base, child, stop: Arc::new(AtomicBool::new(false)) }
    }

    /// `host:port` of [`Server::base`].
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// The host process id (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the host process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn wait_healthy(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("spin up exited with {status}"));
            }
            if let Some((status, _)) = raw_get(self.addr(), "/.well-known/spin/health") {
                if status == 200 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("no answer from {} within {limit:?}", self.base))
    }

    fn spawn_ticks(&self, ticks: &[(String, Duration)], token: Option<String>) {
        for (path, every) in ticks.iter().cloned() {
            let addr = self.addr().to_string();
            let token = token.clone();
            let stop = self.stop.clone();
            std::thread::spawn(move || {
                let mut next = Instant::now() + every;
                while !stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(100)));
                        continue;
                    }
                    next = now + every;
                    match raw_post(&addr, &path, token.as_deref()) {
                        Some((200..=299, _)) => {}
                        Some((status, _)) => eprintln!("tick {path}: answered {status}"),
                        None if stop.load(Ordering::Relaxed) => {}
                        None => eprintln!("tick {path}: no answer"),
                    }
                }
            });
        }
    }

    /// Kills the host at once: SIGKILL to its whole process group (no
    /// chance to finish requests in flight), as a crashed node.
    pub fn kill(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // SAFETY: kill(2) with a negative pid signals our own child's group.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// Stops the host: SIGTERM to its process group, SIGKILL after 5 s.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if !self.is_running() {
            return;
        }
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) with a negative pid signals our own child's group.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !self.is_running() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (Spin's trigger child included).
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `GET path` on a new connection: `(status, body)`, or `None` when nothing
/// answered.
pub fn raw_get(addr: &str, path: &str) -> Option<(u16, Vec<u8>)> {
    raw_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

fn raw_post(addr: &str, path: &str, token: Option<&str>) -> Option<(u16, Vec<u8>)> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    raw_request(
        addr,
        &format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"),
    )
}

fn raw_request(addr: &str, head: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    s.write_all(head.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body_at = buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |i| i + 4);
    Some((status, buf[body_at..].to_vec()))
}
