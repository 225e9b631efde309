//! `cargo xtask bench`: benchmarks that print numbers (speed and memory
//! targets are met here, not in timed tests) and count docs/DESIGN.md §4's
//! invariants under load, on the local runner and on a real Spin CLI. The
//! app is started exactly as the end-to-end tests start it ([`e2e::App`] on
//! the host `BOXOFFICE_HOST` names, loopback only, private temp storage).
//!
//! Phases, run on each host in turn (all of them on the runner, then all
//! of them on Spin, in one sitting):
//! 1. [`startup`] — every component's size ([`sizes`]), cold/warm start
//!    to first 200, a trivial route's latency and throughput under N
//!    clients, the host's memory;
//! 2. [`catalogue`] — search over the demo (or a generated) catalogue,
//!    detail/inventory/availability of a 20,000-seat event;
//! 3. [`rush`] — the sale rush with its invariant counts;
//! 4. [`onsale`] — an arena sold out to the last seat by many buyers while
//!    a thousand seat-map tabs poll, next to two ceilings (an empty
//!    component, one KV write) measured in the same run;
//! 5. [`expiry`] — hold expiry under load, freed exactly once.
//!
//! Then one table per phase with a column per host. Every request loop is
//! bounded in count and time. [`run`] returns the invariant counts; the
//! binary exits non-zero when one is not 0.

pub mod catalogue;
pub mod expiry;
pub mod host;
pub mod onsale;
pub mod opts;
pub mod report;
pub mod rush;
pub mod sizes;
pub mod startup;
pub mod stats;
pub mod store;

use report::{Invariants, Section};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where a run writes: `<dir>/<host>.log` gets each host's stderr (its
/// request log), and `cold_cache`, when given, is the compilation cache
/// that `XDG_CACHE_HOME` points into, emptied before each cold start.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Directory of the host logs.
    pub dir: PathBuf,
    /// `$XDG_CACHE_HOME/wasmtime` when the run measures a cold cache.
    pub cold_cache: Option<PathBuf>,
}

/// Runs every phase with `opts` on each of `hosts` (`"runner"`, `"spin"`)
/// in order, then prints one table per phase with a column per host, and
/// returns the invariant counts of every host.
///
/// The host is chosen through `BOXOFFICE_HOST` (what [`e2e::App`] reads),
/// set here between hosts, while no thread of the bench is running.
pub fn run(opts: &opts::Opts, hosts: &[&str], paths: &Paths) -> Invariants {
    let mut inv = Invariants::default();
    let mut tables = Vec::new();
    for name in hosts {
        std::env::set_var("BOXOFFICE_HOST", name);
        let log = paths.dir.join(format!("{name}.log"));
        std::fs::write(&log, "").unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let started = Instant::now();
        eprintln!("bench: {name}: running every phase (its log: {})", log.display());
        tables.push(run_on(opts, paths.cold_cache.as_deref(), &log, &mut inv));
        eprintln!("bench: {name}: done in {:.0} s", started.elapsed().as_secs_f64());
    }
    report::print_side_by_side(hosts, &tables);
    inv
}

/// Every phase on the host of `BOXOFFICE_HOST`: one section per phase.
fn run_on(opts: &opts::Opts, cold_cache: Option<&Path>, log: &Path, inv: &mut Invariants) -> Vec<Section> {
    let mut out = Vec::new();
    let mut sec = Section::new("1. Host: start-up, a trivial route, memory");
    let host = startup::start(opts, cold_cache, log, &mut sec);
    startup::load(&host, opts, &mut sec);
    out.push(sec);

    let mut sec = Section::new("2. Catalogue");
    catalogue::run(&host, opts, &mut sec);
    out.push(sec);

    let mut sec = Section::new("3. Sale rush");
    rush::run(&host, opts, &mut sec, inv);
    out.push(sec);

    if opts.onsale_seats > 0 {
        let mut sec = Section::new("4. On-sale at arena size (ceilings of the same host, same run)");
        onsale::run(&host, opts, &mut sec, inv);
        out.push(sec);
    }
    drop(host);

    if opts.expiry_holds > 0 {
        let mut sec = Section::new("5. Hold expiry under load");
        expiry::run(opts, log, &mut sec, inv);
        out.push(sec);
    }
    out
}
