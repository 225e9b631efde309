//! Phase 1 — the runner: cold and warm start to the first 200, latency and
//! throughput of a trivial route under N concurrent clients, and the
//! runner's memory before and after.

use crate::host::Host;
use crate::opts::Opts;
use crate::report::{rate, Section};
use std::path::Path;

/// Starts the app for the later phases, measuring start-up: with
/// `opts.cold`, first with an empty wasmtime compilation cache (every
/// component compiled), then again with it warm. The runner configures
/// `wasmtime::Cache::from_file(None)`: the cache lives in
/// `$XDG_CACHE_HOME/wasmtime` (else `~/.cache/wasmtime`), which `main`
/// points at `target/bench/wasmtime-cache` and empties first.
pub fn start(opts: &Opts, log: &Path, sec: &mut Section) -> Host {
    if opts.cold {
        let cold = Host::start(&[], log);
        sec.row("start, cold compile cache: to listening", format!("{:.2} s", cold.to_listening.as_secs_f64()));
        sec.row("start, cold compile cache: to first 200", format!("{:.2} s", cold.to_first_200.as_secs_f64()));
    }
    let host = Host::start(&[], log);
    let label = if opts.cold { "warm compile cache" } else { "compile cache as found" };
    sec.row(format!("start, {label}: to listening"), format!("{:.2} s", host.to_listening.as_secs_f64()));
    sec.row(format!("start, {label}: to first 200"), format!("{:.2} s", host.to_first_200.as_secs_f64()));
    let (rss, hwm) = host.rss_mib();
    sec.row("runner RSS idle (VmRSS / VmHWM)", format!("{rss:.0} / {hwm:.0} MiB"));
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
    for (label, clients, total, fresh) in
        [("1 client, new connection each", 1, few, true), ("1 client, keep-alive", 1, few, false), (many.as_str(), opts.clients, opts.requests, false)]
    {
        let (all, errors, secs) = host.hammer(clients, total, fresh, |_| path.to_string());
        sec.row(format!("health p50/p95/p99, {label}"), all.summary());
        sec.row("  throughput", format!("{} in {secs:.1} s, non-200: {errors}", rate(all.len(), secs)));
    }
    let (rss, hwm) = host.rss_mib();
    sec.row("runner RSS after load (VmRSS / VmHWM)", format!("{rss:.0} / {hwm:.0} MiB"));
}
