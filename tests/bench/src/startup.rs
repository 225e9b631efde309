//! Phase 1 — the host: cold and warm start to the first 200, latency and
//! throughput of a trivial route under N concurrent clients, and the host's
//! memory before and after.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{rate, Section};
use std::path::Path;

/// Files and bytes under `dir` (0, 0 when it is absent).
fn du(dir: &Path) -> (usize, u64) {
    let mut out = (0, 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.metadata() {
            Ok(m) if m.is_dir() => {
                let (n, b) = du(&path);
                out = (out.0 + n, out.1 + b);
            }
            Ok(m) => out = (out.0 + 1, out.1 + m.len()),
            Err(_) => {}
        }
    }
    out
}

/// Starts the app for the later phases, measuring start-up: with
/// `cold = Some(cache)`, first with the compilation cache `cache` emptied
/// (every component compiled), then again with it warm.
///
/// Both hosts compile with wasmtime's cache in its default place,
/// `$XDG_CACHE_HOME/wasmtime`: the runner configures
/// `wasmtime::Cache::from_file(None)`, and so does Spin 4.0.2 unless told
/// `--disable-cache` or `--cache FILE` (`crates/trigger/src/cli.rs`: its
/// `spin trigger http` child calls `enable_cache(&None)`,
/// `crates/core/src/lib.rs`). `main` points `XDG_CACHE_HOME` at
/// `target/bench/wasmtime-cache`, which is emptied here before each host's
/// cold start; what the cold start left in it is printed, so a host that
/// did not use it shows 0 files. The host's CPU seconds until the first
/// 200 are printed too: unlike the wall time they do not grow when other
/// processes share the cores. The rows open with the size of every
/// component ([`crate::sizes`]): what the cold start compiles.
pub fn start(opts: &Opts, cold: Option<&Path>, log: &Path, sec: &mut Section) -> Host {
    crate::sizes::rows(&e2e::workspace_root(), sec);
    if let Some(cache) = cold.filter(|_| opts.cold) {
        let _ = std::fs::remove_dir_all(cache);
        let first = Host::start(opts, &[], log);
        let cpu = first.cpu_secs();
        sec.row("start, cold compile cache: to listening", format!("{:.2} s", first.to_listening.as_secs_f64()));
        sec.row("start, cold compile cache: to first 200", format!("{:.2} s", first.to_first_200.as_secs_f64()));
        sec.row("  host CPU until then (compiling every component)", format!("{cpu:.1} s"));
        let (files, bytes) = du(cache);
        sec.row(
            "  compile cache written by the cold start",
            format!("{files} files, {:.1} MiB", bytes as f64 / (1 << 20) as f64),
        );
    }
    let host = Host::start(opts, &[], log);
    let cpu = host.cpu_secs();
    let label = if opts.cold { "warm compile cache" } else { "compile cache as found" };
    sec.row(format!("start, {label}: to listening"), format!("{:.2} s", host.to_listening.as_secs_f64()));
    sec.row(format!("start, {label}: to first 200"), format!("{:.2} s", host.to_first_200.as_secs_f64()));
    sec.row("  host CPU until then", format!("{cpu:.1} s"));
    sec.row("host RSS idle (VmRSS / VmHWM)", host.rss_text());
    host
}

/// `GET /api/events/health`: from one client, first with a new connection
/// per request, then on one keep-alive connection (`opts.requests / 8`
/// requests each: latency without queueing; the difference is what a
/// reused connection costs), then `opts.requests` over `opts.clients`
/// threads, each on its own keep-alive connection.
pub fn load(host: &Host, opts: &Opts, sec: &mut Section) {
    let path = "/api/events/health";
    let few = (opts.requests / 8).max(1);
    let many = format!("{} clients, keep-alive", opts.clients);
    for (label, clients, total, fresh) in [
        ("1 client, new connection each", 1, few, true),
        ("1 client, keep-alive", 1, few, false),
        (many.as_str(), opts.clients, opts.requests, false),
    ] {
        let (all, errors, secs) = host.hammer(clients, total, fresh, |_| path.to_string());
        sec.row(format!("health p50/p95/p99, {label}"), all.summary());
        sec.row("  throughput", format!("{} in {secs:.1} s, non-200: {errors}", rate(all.len(), secs)));
    }
    sec.row("host RSS after load (VmRSS / VmHWM)", host.rss_text());
}
