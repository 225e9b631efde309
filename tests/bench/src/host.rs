//! The app under test: started exactly like the end-to-end tests start it
//! ([`e2e::App::spawn_with`], on the host `BOXOFFICE_HOST` names — the
//! local runner or `spin up`), plus what a benchmark needs on top — the
//! host's process group (for `/proc/<pid>/status`: on Spin that is
//! `spin up` and its `spin trigger http` child), the app's private state
//! directory (for read-only SQLite reads), and the host's request log sent
//! to a file instead of the terminal.

// libc: dup/dup2 of stderr, sysconf(_SC_CLK_TCK), kill(2) of a process group (workspace lint unsafe_code)
#![allow(unsafe_code)]

use crate::opts::Opts;
use crate::stats::Samples;
use crate::store;
use e2e::catalog::{Api, Remote};
use e2e::{App, Value};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The development tick token (`tick_token` default in spin.toml).
pub const TICK_TOKEN: &str = e2e::booking::TICK_TOKEN;

/// A started app and what the bench knows about its host processes.
pub struct Host {
    /// The app (its host stopped and its temp dir removed on drop).
    pub app: App,
    /// `"runner"` or `"spin"`.
    pub name: &'static str,
    /// The host process id of the first instance ([`App::pid`]), leader of
    /// its process group ([`Host::pids`] has every instance's).
    pub pid: u32,
    /// The app's state directory ([`App::state_dir`]): every SQLite and KV
    /// file of the app.
    pub state_dir: PathBuf,
    /// From the spawn call until the host served: the runner printed its
    /// listening line, or Spin answered `/.well-known/spin/health` with 200
    /// (Spin listens only once every component is compiled).
    pub to_listening: Duration,
    /// From the spawn call until the first 200 of `GET /api/events/health`.
    pub to_first_200: Duration,
    /// The instance [`Host::client`] hands out next.
    next: AtomicUsize,
}

impl Host {
    /// Starts the app on the host of `BOXOFFICE_HOST` with
    /// `SPIN_VARIABLE_*` overrides `vars` (plus `admin_email` as
    /// [`e2e::accounts::spawn`] sets it, and a `register_limit_per_hour`
    /// high enough for every buyer registering from 127.0.0.1), the host's
    /// stderr appended to `log`, and waits for the first 200 from events.
    ///
    /// With `opts.instances` above 1 or `opts.redis`, the app runs as that
    /// many real Spin instances on one private redis-server and the same
    /// SQLite files ([`App::spawn_instances`]); [`Host::client`] then hands
    /// out clients of the instances in turn (each buyer keeps its own, as
    /// behind a connection-level load balancer), and the CPU and memory
    /// figures cover every instance (and the redis-server: see
    /// [`Host::cpu_secs`], [`Host::rss_text`]).
    pub fn start(opts: &Opts, vars: &[(&str, &str)], log: &Path) -> Host {
        let started = Instant::now();
        let mut all = vec![("register_limit_per_hour", "1000000")];
        all.extend_from_slice(vars);
        let mut with_admin =
            vec![("admin_email", e2e::accounts::ADMIN_EMAIL), ("admin_password", e2e::accounts::PASSWORD)];
        with_admin.extend_from_slice(&all);
        let manifest = manifest_with_ceilings();
        let app = if opts.instances > 1 || opts.redis {
            with_stderr_to(log, || App::spawn_instances(opts.instances, Some(&manifest), &with_admin, &[]))
        } else {
            with_stderr_to(log, || App::spawn_manifest(Some(&manifest), &with_admin))
        };
        let to_listening = started.elapsed();
        loop {
            if client(&app).send("GET", "/api/events/health", None, None).0 == 200 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no 200 from /api/events/health within 120 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        let to_first_200 = started.elapsed();
        let (name, pid, state_dir) = (app.host().name(), app.pid(), app.state_dir());
        Host { app, name, pid, state_dir, to_listening, to_first_200, next: AtomicUsize::new(0) }
    }

    /// A new client of this app with its own connection, to the next
    /// instance in turn (there is one unless `--instances`).
    pub fn client(&self) -> Remote {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.client_for(i)
    }

    /// A new client of instance `k` modulo the instances: for a client that
    /// must keep to one instance for all its requests (a buyer, a seat-map
    /// tab), as [`Host::base_for`] `k`.
    pub fn client_for(&self, k: usize) -> Remote {
        Remote::new(&self.base_for(k))
    }

    /// `http://127.0.0.1:<port>` of instance `k` modulo the instances.
    pub fn base_for(&self, k: usize) -> String {
        self.app.instance_base(k % self.app.instances())
    }

    /// The process-group leader of every instance, in order.
    pub fn pids(&self) -> Vec<u32> {
        (0..self.app.instances()).map(|i| self.app.instance_pid(i)).collect()
    }

    /// Booking's `holds` store for `event` at `now_ms`: from the shared
    /// redis-server when there is one, else from `holds-kv.db` (read-only).
    pub fn holds_kv(&self, event: &str, now_ms: i64) -> store::Holds {
        match self.app.redis() {
            Some(redis) => store::holds_of(redis.entries(""), event, now_ms),
            None => store::holds(&self.db_path("holds-kv"), event, now_ms),
        }
    }

    /// `total` GETs split over `clients` threads, each on its own
    /// keep-alive connection (or, with `fresh`, a new connection per
    /// request); request `i` goes to `path(i)`. Returns the latencies, the
    /// non-200 answers and the wall seconds.
    pub fn hammer(
        &self,
        clients: usize,
        total: usize,
        fresh: bool,
        path: impl Fn(usize) -> String + Sync,
    ) -> (Samples, usize, f64) {
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

    /// Memory of the host: `(VmRSS, VmHWM, processes)`, MiB summed over
    /// every process of every instance's process group (the runner alone;
    /// on Spin `spin up` plus `spin trigger http` per instance); the
    /// redis-server is not in it ([`Host::redis_rss_mib`]). The VmHWM sum
    /// is an upper bound of the peak: each process peaked on its own.
    pub fn rss_mib(&self) -> (f64, f64, usize) {
        self.instance_rss_mib().into_iter().fold((0.0, 0.0, 0), |(r, h, n), (r1, h1, n1)| (r + r1, h + h1, n + n1))
    }

    /// [`Host::rss_mib`] of each instance's process group, in order.
    pub fn instance_rss_mib(&self) -> Vec<(f64, f64, usize)> {
        self.pids().into_iter().map(group_rss_mib).collect()
    }

    /// VmRSS of the shared redis-server in MiB (`None` without one).
    pub fn redis_rss_mib(&self) -> Option<f64> {
        self.app.redis().and_then(|r| r.pid()).map(|p| rss_mib(p).0)
    }

    /// CPU seconds (user + system) the app's processes have used so far,
    /// from `/proc/<pid>/stat`: every member of every instance's process
    /// group plus the shared redis-server when there is one (it does the
    /// key-value work that the SQLite KV file has the host do, so figures
    /// with and without Redis compare). A difference of two readings is the
    /// work for what ran in between, and unlike wall time it does not grow
    /// when other processes share the cores.
    pub fn cpu_secs(&self) -> f64 {
        self.pids().into_iter().flat_map(group_members).map(cpu_secs).sum::<f64>() + self.redis_cpu_secs()
    }

    /// CPU seconds the shared redis-server has used so far (0 without one).
    pub fn redis_cpu_secs(&self) -> f64 {
        self.app.redis().and_then(|r| r.pid()).map_or(0.0, cpu_secs)
    }

    /// [`Host::rss_mib`] as `VmRSS / VmHWM MiB (n processes)`; with several
    /// instances also each instance's VmRSS, and the redis-server's.
    pub fn rss_text(&self) -> String {
        let (rss, hwm, n) = self.rss_mib();
        let mut text = format!("{rss:.0} / {hwm:.0} MiB ({n} process{})", if n == 1 { "" } else { "es" });
        let each = self.instance_rss_mib();
        if each.len() > 1 {
            text.push_str(&format!(
                "; per instance {} MiB",
                each.iter().map(|(r, _, _)| format!("{r:.0}")).collect::<Vec<_>>().join(" / ")
            ));
        }
        if let Some(r) = self.redis_rss_mib() {
            text.push_str(&format!("; redis-server {r:.0} MiB"));
        }
        text
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

/// The tests' manifest ([`e2e::app_manifest`]) plus the on-sale phase's
/// two ceiling components: `tests/components/bench-empty` on
/// `/bench/empty` and `tests/components/bench-kv-write` on
/// `/bench/kv-write/...` (the `default` KV store, a SQLite file in the
/// app's state directory on both hosts, like `holds`).
pub fn manifest_with_ceilings() -> String {
    let root = e2e::workspace_root().display().to_string();
    let mut m = e2e::app_manifest();
    m.push_str(&format!(
        "\n[[trigger.http]]\nroute = \"/bench/empty\"\ncomponent = \"bench-empty\"\n\n\
         [component.bench-empty]\nsource = \"{root}/target/wasm32-wasip2/wasm/bench_empty.wasm\"\n\n\
         [[trigger.http]]\nroute = \"/bench/kv-write/...\"\ncomponent = \"bench-kv-write\"\n\n\
         [component.bench-kv-write]\nsource = \"{root}/target/wasm32-wasip2/wasm/bench_kv_write.wasm\"\n\
         key_value_stores = [\"default\"]\n"
    ));
    m
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

/// Process ids of the members of process group `pgid` (from `/proc/*/stat`).
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so split after ')'
        let Some(close) = stat.rfind(')') else { continue };
        if stat[close + 1..].split_whitespace().nth(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}

/// `(VmRSS, VmHWM, processes)` summed over process group `pgid`, in MiB.
pub fn group_rss_mib(pgid: u32) -> (f64, f64, usize) {
    let members = group_members(pgid);
    let (rss, hwm) = members.iter().map(|p| rss_mib(*p)).fold((0.0, 0.0), |(a, b), (r, h)| (a + r, b + h));
    (rss, hwm, members.len())
}

/// User + system CPU seconds of `pid` (all its threads), from fields 14
/// and 15 of `/proc/<pid>/stat` in clock ticks; 0 when absent.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = stat.rfind(')') else { return 0.0 };
    // after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
    let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn group_memory_sums_every_process_of_the_group() {
        // a shell in its own group with a background child: two processes
        // at least (the shell, the backgrounded sleep)
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30; wait"])
            .process_group(0)
            .spawn()
            .expect("sh");
        let pgid = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_members(pgid).len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let members = group_members(pgid);
        let (rss, hwm, n) = group_rss_mib(pgid);
        // SAFETY: signals the group of the child started above.
        unsafe { libc::kill(-(pgid as i32), libc::SIGKILL) };
        let _ = child.wait();
        assert!(members.contains(&pgid) && members.len() >= 3, "members of {pgid}: {members:?}");
        assert_eq!(n, members.len());
        let single = rss_mib(std::process::id()).0;
        assert!(rss > 0.0 && hwm >= rss && single > 0.0, "rss {rss} hwm {hwm}");
    }
}
