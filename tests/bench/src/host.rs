//! The app under test: started exactly like the end-to-end tests start it
//! ([`e2e::App::spawn_with`]), plus what a benchmark needs on top — the
//! runner's process id (for `/proc/<pid>/status`), its private state
//! directory (for read-only SQLite reads), and its request log sent to a
//! file instead of the terminal.

use e2e::catalog::{Api, Remote};
use crate::stats::Samples;
use e2e::{App, Value};
use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The development tick token (`tick_token` default in spin.toml).
pub const TICK_TOKEN: &str = e2e::booking::TICK_TOKEN;

/// A started app and what the bench knows about its runner process.
pub struct Host {
    /// The app (killed and its temp dir removed on drop).
    pub app: App,
    /// Runner process id.
    pub pid: u32,
    /// The runner's `--state-dir`: every SQLite and KV file of the app.
    pub state_dir: PathBuf,
    /// From the spawn call until the runner printed its listening line.
    pub to_listening: Duration,
    /// From the spawn call until the first 200 of `GET /api/events/health`.
    pub to_first_200: Duration,
}

impl Host {
    /// Starts the app with `SPIN_VARIABLE_*` overrides `vars` (plus
    /// `admin_email` as [`e2e::accounts::spawn`] sets it, and a
    /// `register_limit_per_hour` high enough for every buyer registering
    /// from 127.0.0.1), the runner's stderr appended to `log`, and waits
    /// for the first 200 from events.
    pub fn start(vars: &[(&str, &str)], log: &Path) -> Host {
        let before = runner_children();
        let started = Instant::now();
        let mut all = vec![("register_limit_per_hour", "1000000")];
        all.extend_from_slice(vars);
        let app = with_stderr_to(log, || e2e::accounts::spawn(&all));
        let to_listening = started.elapsed();
        let pid = runner_children().difference(&before).copied().max().expect("the runner process just started");
        loop {
            if client(&app).send("GET", "/api/events/health", None, None).0 == 200 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no 200 from /api/events/health within 120 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        let to_first_200 = started.elapsed();
        let state_dir = state_dir_of(pid).expect("runner --state-dir");
        Host { app, pid, state_dir, to_listening, to_first_200 }
    }

    /// A new client of this app with its own connection.
    pub fn client(&self) -> Remote {
        client(&self.app)
    }

    /// `total` GETs split over `clients` threads, each on its own
    /// keep-alive connection (or, with `fresh`, a new connection per
    /// request); request `i` goes to `path(i)`. Returns the latencies, the
    /// non-200 answers and the wall seconds.
    pub fn hammer(&self, clients: usize, total: usize, fresh: bool, path: impl Fn(usize) -> String + Sync) -> (Samples, usize, f64) {
        let per = total.div_ceil(clients.max(1));
        let started = Instant::now();
        let mut all = Samples::default();
        let mut errors = 0;
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..clients)
                .map(|k| {
                    let path = &path;
                    s.spawn(move || {
                        let mut api = self.client();
                        let mut lat = Samples::default();
                        let mut errors = 0;
                        for i in (k * per)..((k + 1) * per).min(total) {
                            if fresh {
                                api = self.client();
                            }
                            let t = Instant::now();
                            let (status, _) = api.send("GET", &path(i), None, None);
                            lat.push(t.elapsed());
                            errors += usize::from(status != 200);
                        }
                        (lat, errors)
                    })
                })
                .collect();
            for h in handles {
                let (lat, e) = h.join().expect("load thread");
                all.extend(&lat);
                errors += e;
            }
        });
        (all, errors, started.elapsed().as_secs_f64())
    }

    /// `(VmRSS, VmHWM)` of the runner in MiB.
    pub fn rss_mib(&self) -> (f64, f64) {
        rss_mib(self.pid)
    }

    /// The SQLite file of label `label` (`bookings`, `payments`, …) or of the
    /// KV store `holds` (`holds-kv`).
    pub fn db_path(&self, file_stem: &str) -> PathBuf {
        self.state_dir.join(format!("{file_stem}.db"))
    }

    /// `POST <path>` with the tick token; the JSON report (`Null` on failure).
    pub fn tick(&self, api: &Remote, path: &str) -> Value {
        match api.send("POST", path, None, Some(TICK_TOKEN)) {
            (200, v) => v,
            _ => Value::Null,
        }
    }
}

/// A fresh client of `app` (its own keep-alive connection; transport errors
/// come back as status 0).
pub fn client(app: &App) -> Remote {
    Remote::new(&app.base)
}

/// Runs `f` with this process's stderr pointed at `log` (appended), so
/// child processes started inside inherit the file; stderr is restored
/// afterwards, also when `f` panics.
pub fn with_stderr_to<T>(log: &Path, f: impl FnOnce() -> T) -> T {
    /// Puts the saved descriptor back on fd 2 when dropped.
    struct Restore(i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: `self.0` is a descriptor this guard owns (from `dup`).
            unsafe {
                libc::dup2(self.0, 2);
                libc::close(self.0);
            }
        }
    }
    let file = File::options().create(true).append(true).open(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    // SAFETY: plain descriptor calls on fd 2 and on descriptors we own.
    let saved = unsafe { libc::dup(2) };
    assert!(saved >= 0, "dup(2)");
    let _restore = Restore(saved);
    // SAFETY: as above; `file` outlives the call.
    unsafe { libc::dup2(file.as_raw_fd(), 2) };
    f()
}

/// Process ids of this process's `boxoffice-runner` children.
fn runner_children() -> BTreeSet<u32> {
    let me = std::process::id();
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // pid (comm) state ppid …; comm may hold spaces, so split after ')'
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(me) && comm.starts_with("boxoffice-run") {
            out.insert(pid);
        }
    }
    out
}

/// The `--state-dir` argument of process `pid`.
fn state_dir_of(pid: u32) -> Option<PathBuf> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = raw.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let i = args.iter().position(|a| a == "--state-dir")?;
    args.get(i + 1).map(PathBuf::from)
}

/// `(VmRSS, VmHWM)` of `pid` in MiB from `/proc/<pid>/status` (0 when absent).
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
