//! Test harness: [`App::spawn`] starts the whole Boxoffice app on the host
//! of this run ([`host`]: the local runner `target/release/boxoffice-runner`,
//! or a real Spin CLI with `BOXOFFICE_HOST=spin`; see `tests/apphost`) on a
//! free loopback port with its own temporary state directory, and hands back
//! a small HTTP client. The same tests and assertions run on both hosts.
//!
//! Each `App` is isolated: its SQLite and KV files live in a temp dir that is
//! removed on drop, and the host's processes are stopped on drop.

pub mod accounts;
pub mod booking;
pub mod catalog;
pub mod journey;
pub mod openapi;
pub mod payments;
pub mod race;
pub mod tickets;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use serde_json::{json, Value};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The host this test run starts apps on: `BOXOFFICE_HOST=spin|runner`
/// ([`apphost::Host::from_env`]; `cargo xtask test` runs the suite once per
/// host).
pub fn host() -> apphost::Host {
    apphost::Host::from_env()
}

/// The app's `spin.toml` as the tests serve it: `source` paths made
/// absolute, plus the test-only `saga-injector` component on `/test/saga`
/// (`tests/components/saga-injector`), the producer stand-in through which
/// tests deliver hand-made saga events to a service's private inbox.
pub fn app_manifest() -> String {
    let root = workspace_root().display().to_string();
    let text = std::fs::read_to_string(workspace_root().join("spin.toml")).expect("spin.toml");
    let mut manifest = text.replace("source = \"target/", &format!("source = \"{root}/target/"));
    manifest.push_str(&format!(
        "\n[[trigger.http]]\nroute = \"/test/saga\"\ncomponent = \"saga-injector\"\n\n\
         [component.saga-injector]\nsource = \"{root}/target/wasm32-wasip2/wasm/saga_injector.wasm\"\n\
         allowed_outbound_hosts = [\"http://*.spin.internal\"]\n"
    ));
    manifest
}

/// The `sandbox_admin_token` of every test app (see [`HARNESS_VARS`]);
/// [`App::sandbox`] sends it.
pub const SANDBOX_ADMIN_TOKEN: &str = "sbx-e2e-harness-sandbox-admin-token";

/// Variables every test app starts with unless the test sets them itself:
/// what a local run turns on (spin.toml ships the sandbox off and its
/// tools closed), as `cargo xtask up` does. [`App::spawn_as_shipped`] leaves
/// them out.
pub const HARNESS_VARS: &[(&str, &str)] = &[("sandbox_enabled", "true"), ("sandbox_admin_token", SANDBOX_ADMIN_TOKEN)];

/// The file of [`App::spawn_logged`]'s host stderr, in the app's temp dir.
const HOST_LOG: &str = "host-stderr.log";

/// A running app: one instance, or several sharing one state
/// ([`App::spawn_instances`]), whose requests are spread round-robin.
pub struct App {
    /// `http://127.0.0.1:<port>` of the first instance.
    pub base: String,
    server: apphost::Server,
    /// Every instance after the first ([`App::spawn_instances`]), with
    /// how to start it again ([`App::restart_instance`]).
    more: std::sync::RwLock<Vec<(apphost::Server, apphost::Launch)>>,
    /// Round-robin position of the next request.
    next: std::sync::atomic::AtomicUsize,
    /// The shared Redis of several instances.
    redis: Option<std::sync::Mutex<apphost::redis_server::RedisServer>>,
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

    /// `(status, body as JSON)`, the body `Null` when it is empty or not
    /// JSON: a race's answers compared in one.
    pub fn status_json(&self) -> (u16, Value) {
        (self.status, serde_json::from_slice(&self.body).unwrap_or(Value::Null))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts this is an RFC 9457 problem with `status` whose `request_id`
    /// is the answer's `x-request-id` (every component's problems carry
    /// it), returning its JSON.
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
        assert!(
            v["request_id"].is_string() && v["request_id"].as_str() == self.header("x-request-id"),
            "the problem's request_id is the x-request-id {:?}: {v}",
            self.header("x-request-id")
        );
        v
    }
}

impl Reply {
    /// Asserts no endpoint answered: the router's own 404 `no-route` or,
    /// when the path matches a route of another method (`POST
    /// /api/bookings/saga` against `GET /api/bookings/:id`), its 405
    /// `method-not-allowed`, both as problem+json.
    pub fn assert_not_routed(&self) {
        let kind = match self.status {
            404 => "/problems/no-route",
            405 => "/problems/method-not-allowed",
            s => panic!("expected 404 or 405, got {s}: {}", self.text()),
        };
        assert_eq!(self.assert_problem(self.status)["type"], kind, "{}", self.text());
    }
}

impl App {
    /// Starts the app with the default variables.
    pub fn spawn() -> App {
        Self::spawn_with(&[])
    }

    /// Starts the app with `SPIN_VARIABLE_<NAME>` overrides, e.g.
    /// `&[("hold_ttl_seconds", "3")]` (on top of [`HARNESS_VARS`]).
    pub fn spawn_with(vars: &[(&str, &str)]) -> App {
        Self::spawn_manifest(None, vars)
    }

    /// Starts the app as a deployment gets it: spin.toml's own defaults,
    /// without [`HARNESS_VARS`], plus `vars`.
    pub fn spawn_as_shipped(vars: &[(&str, &str)]) -> App {
        Self::start(None, &[], vars)
    }

    /// Starts the app on [`host`] on a free loopback port with every store
    /// private to this app (a temp dir removed on drop).
    ///
    /// `manifest`: `None` serves [`app_manifest`] (the project's
    /// `spin.toml` plus the test-only saga injector); `Some(text)` serves
    /// that manifest text instead (its `source` paths must be absolute).
    /// Either is written into the temp dir, which also gets a `static`
    /// symlink to the project's frontend: Spin refuses `files` from outside
    /// the manifest's directory, and compares paths, not link targets.
    ///
    /// Variables: [`HARNESS_VARS`], then `vars` (which win).
    pub fn spawn_manifest(manifest: Option<&str>, vars: &[(&str, &str)]) -> App {
        Self::start(manifest, HARNESS_VARS, vars)
    }

    /// [`App::spawn_with`], with the host's stderr — Spin's or the
    /// runner's own lines and every component's log lines — written to a
    /// file in the app's temp dir instead of the test's stderr; read it
    /// with [`App::host_log`].
    pub fn spawn_logged(vars: &[(&str, &str)]) -> App {
        Self::launch(None, HARNESS_VARS, vars, true)
    }

    /// What the host wrote to stderr so far (an app from
    /// [`App::spawn_logged`]; panics for any other).
    pub fn host_log(&self) -> String {
        let path = self._dir.path().join(HOST_LOG);
        assert!(path.exists(), "no host log: start the app with App::spawn_logged");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn start(manifest: Option<&str>, defaults: &[(&str, &str)], vars: &[(&str, &str)]) -> App {
        Self::launch(manifest, defaults, vars, false)
    }

    fn launch(manifest: Option<&str>, defaults: &[(&str, &str)], vars: &[(&str, &str)], logged: bool) -> App {
        let root = workspace_root();
        let dir = tempfile::tempdir().expect("temp dir");
        // Spin resolves SQLite paths against the working directory and KV
        // paths against the runtime config's directory, so every path is
        // made absolute inside the temp dir.
        let rc = dir.path().join("runtime-config.toml");
        let text = std::fs::read_to_string(root.join("runtime-config.toml")).expect("read runtime-config.toml");
        let private = text.replace("path = \".spin/", &format!("path = \"{}/.spin/", dir.path().display()));
        std::fs::write(&rc, private).expect("write runtime-config.toml");
        let path = dir.path().join("spin.toml");
        let text = manifest.map(str::to_string).unwrap_or_else(app_manifest);
        std::fs::write(&path, text).expect("write manifest");
        std::os::unix::fs::symlink(root.join("static"), dir.path().join("static")).expect("link static/");
        let mut launch = apphost::Launch::new(&path, dir.path().join(".spin")).runtime_config(&rc).workdir(dir.path());
        // later values of one variable win (the host process gets the last)
        for (k, v) in defaults.iter().chain(vars) {
            launch = launch.var(k, v);
        }
        if logged {
            launch = launch.log(dir.path().join(HOST_LOG));
        }
        let server = launch.start(host());
        App::assemble(server, Vec::new(), None, dir)
    }

    fn assemble(
        server: apphost::Server,
        more: Vec<(apphost::Server, apphost::Launch)>,
        redis: Option<apphost::redis_server::RedisServer>,
        dir: tempfile::TempDir,
    ) -> App {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).redirects(0).build();
        let redis = redis.map(std::sync::Mutex::new);
        App {
            base: server.base.clone(),
            server,
            more: std::sync::RwLock::new(more),
            next: Default::default(),
            redis,
            _dir: dir,
            agent,
        }
    }

    /// Starts `n` instances of the app on real Spin ([`apphost::spin_bin`];
    /// whatever `BOXOFFICE_HOST` says) sharing one state, as SpinKube
    /// replicas behind a load balancer do: one private `redis-server`
    /// (loopback port, own data dir in the temp dir, stopped on drop) for
    /// every key-value label, the same SQLite files (WAL, see
    /// `platform::db`) for every database, `default` labels included (the
    /// test fixtures use them). Requests ([`App::call`]) go to the
    /// instances round-robin; `ticks` are `(path, every)` tick routes that
    /// every instance gets from the harness, with the development tick
    /// token. `manifest` and `vars` as for [`App::spawn_manifest`].
    ///
    /// Panics when there is no Spin CLI or no `redis-server` can be had,
    /// saying so.
    pub fn spawn_instances(n: usize, manifest: Option<&str>, vars: &[(&str, &str)], ticks: &[(&str, Duration)]) -> App {
        assert!(n >= 1);
        assert!(apphost::spin_bin().is_some(), "several instances run on real Spin: set SPIN_BIN or put spin on PATH");
        let root = workspace_root();
        let dir = tempfile::tempdir().expect("temp dir");
        let redis = apphost::redis_server::RedisServer::start(&dir.path().join("redis"))
            .unwrap_or_else(|e| panic!("several instances need a redis-server: {e}"));
        let state = dir.path().join(".spin");
        let text = std::fs::read_to_string(root.join("runtime-config.toml")).expect("read runtime-config.toml");
        let mut shared = apphost::redis_server::redis_runtime_config(&text, &redis.url())
            .replace("path = \".spin/", &format!("path = \"{}/", state.display()));
        shared.push_str(&format!(
            "\n[sqlite_database.default]\ntype = \"spin\"\npath = \"{}/default.db\"\n",
            state.display()
        ));
        let rc = dir.path().join("runtime-config.toml");
        std::fs::write(&rc, shared).expect("write runtime-config.toml");
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest.map(str::to_string).unwrap_or_else(app_manifest)).expect("write manifest");
        std::os::unix::fs::symlink(root.join("static"), dir.path().join("static")).expect("link static/");
        let servers: Vec<(apphost::Server, apphost::Launch)> = (0..n)
            .map(|i| {
                // each instance its own --state-dir (Spin's logs), the same stores
                let mut launch = apphost::Launch::new(&path, dir.path().join(format!("instance-{i}")))
                    .runtime_config(&rc)
                    .workdir(dir.path());
                for (k, v) in HARNESS_VARS.iter().chain(vars) {
                    launch = launch.var(k, v);
                }
                for (route, every) in ticks {
                    launch = launch.tick(route, *every);
                }
                let launch = launch.tick_token(booking::TICK_TOKEN);
                (launch.start(apphost::Host::Spin), launch)
            })
            .collect();
        let mut servers = servers.into_iter();
        let first = servers.next().expect("one instance").0;
        App::assemble(first, servers.collect(), Some(redis), dir)
    }

    /// How many instances serve this app.
    pub fn instances(&self) -> usize {
        1 + self.more.read().unwrap().len()
    }

    /// The base URL of instance `i` (0-based).
    pub fn instance_base(&self, i: usize) -> String {
        if i == 0 {
            self.server.base.clone()
        } else {
            self.more.read().unwrap()[i - 1].0.base.clone()
        }
    }

    /// The instance that serves the next request: round-robin.
    fn pick(&self) -> String {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.instances();
        self.instance_base(i)
    }

    /// Kills instance `i` (≥ 1) with SIGKILL to its whole process group
    /// (`spin up` and its `spin trigger http`), as a node failure would:
    /// requests in flight on it are cut off. Until
    /// [`App::restart_instance`], requests that round-robin picks for it
    /// fail to connect.
    pub fn kill_instance(&self, i: usize) {
        assert!(i >= 1, "instance 0 stays up");
        self.more.write().unwrap()[i - 1].0.kill();
    }

    /// Starts instance `i` (≥ 1) again, on a new port, with the same
    /// stores and variables.
    pub fn restart_instance(&self, i: usize) {
        assert!(i >= 1, "instance 0 stays up");
        let launch = self.more.read().unwrap()[i - 1].1.clone();
        let server = launch.start(apphost::Host::Spin);
        self.more.write().unwrap()[i - 1].0 = server;
    }

    /// A request to instance `i`, with transport failures (connection
    /// refused or cut off, no answer within 10 s) as `Err` instead of a
    /// panic, for fault tests that retry elsewhere as a client behind a
    /// load balancer does.
    pub fn try_call_on(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        self.send(&self.instance_base(i), method, path, body, headers, Duration::from_secs(10))
    }

    /// The shared `redis-server` of [`App::spawn_instances`].
    pub fn redis(&self) -> Option<std::sync::MutexGuard<'_, apphost::redis_server::RedisServer>> {
        self.redis.as_ref().map(|r| r.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Which host serves this app.
    pub fn host(&self) -> apphost::Host {
        self.server.host
    }

    /// The host process id (the runner, or `spin up`).
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// The host process id of instance `i` (0-based, as [`App::instance_base`];
    /// `spin up`, the leader of its process group).
    pub fn instance_pid(&self, i: usize) -> u32 {
        if i == 0 {
            self.server.pid()
        } else {
            self.more.read().unwrap()[i - 1].0.pid()
        }
    }

    /// The app's private state directory (`<temp>/.spin`): the KV and
    /// SQLite files of `runtime-config.toml` (`holds-kv.db`,
    /// `bookings.db`, …), for tests that inject storage faults.
    pub fn state_dir(&self) -> PathBuf {
        self._dir.path().join(".spin")
    }

    /// Sends a request; `body` is sent as JSON when given. Never fails on
    /// 4xx/5xx: the status is in the reply. An answer to an `/api/...`
    /// path that breaks the OpenAPI document panics ([`openapi::check_reply`]).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        self.send(&self.pick(), method, path, body, headers, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{method} {path}: transport error {e}"))
    }

    /// `method path` on `base` within `limit`: the reply (any status), or
    /// the transport error's text.
    fn send(
        &self,
        base: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        limit: Duration,
    ) -> Result<Reply, String> {
        let mut req = self.agent.request(method, &format!("{base}{path}")).timeout(limit);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.set("content-type", "application/json").send_string(&b.to_string()),
            None => req.call(),
        };
        match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let reply = reply(r);
                openapi::check_reply(method, path, &reply);
                Ok(reply)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Sends raw bytes with a content type.
    pub fn call_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{}", self.pick(), path)).set("content-type", content_type);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let reply = finish(method, path, req.send_bytes(body));
        openapi::check_reply(method, path, &reply);
        reply
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

    /// A call to a sandbox tool (`/sandbox/...` faults, webhook list,
    /// mailbox JSON) with the harness's [`SANDBOX_ADMIN_TOKEN`].
    pub fn sandbox(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call(method, path, body, &[("authorization", &format!("Bearer {SANDBOX_ADMIN_TOKEN}"))])
    }

    /// `POST path` with a JSON body and a bearer token.
    pub fn post_as(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(body), &[("authorization", &format!("Bearer {token}"))])
    }
}

/// Reads a ureq result into a [`Reply`]; 4xx/5xx are replies, transport
/// errors panic naming the request.
fn finish(method: &str, path: &str, result: Result<ureq::Response, ureq::Error>) -> Reply {
    match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => reply(r),
        Err(e) => panic!("{method} {path}: transport error {e}"),
    }
}

/// Reads a response, body and all, into a [`Reply`].
fn reply(resp: ureq::Response) -> Reply {
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
