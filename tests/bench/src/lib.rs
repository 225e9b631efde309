//! `cargo xtask bench`: benchmarks that print numbers (speed and memory
//! targets are met here, not in timed tests) and count DESIGN §4's
//! invariants under load. The app is started exactly as the end-to-end
//! tests start it ([`e2e::App`] under the release runner, loopback only,
//! private temp storage).
//!
//! Phases, each printed as a table section when it ends:
//! 1. [`runner`] — cold/warm start to first 200, a trivial route's latency
//!    and throughput under N clients, runner memory;
//! 2. [`catalogue`] — search over the demo (or a generated) catalogue,
//!    detail/inventory/availability of a 20,000-seat event;
//! 3. [`rush`] — the sale rush with its invariant counts;
//! 4. [`expiry`] — hold expiry under load, freed exactly once.
//!
//! Every request loop is bounded in count and time. [`run`] returns the
//! invariant counts; the binary exits non-zero when one is not 0.

pub mod catalogue;
pub mod expiry;
pub mod host;
pub mod opts;
pub mod report;
pub mod runner;
pub mod rush;
pub mod stats;
pub mod store;

use report::{Invariants, Section};
use std::path::Path;

/// Runs every phase with `opts`, the runners' stderr appended to `log`.
pub fn run(opts: &opts::Opts, log: &Path) -> Invariants {
    let mut inv = Invariants::default();
    let mut sec = Section::new("1. Runner");
    let host = runner::start(opts, log, &mut sec);
    runner::load(&host, opts, &mut sec);
    sec.print();

    let mut sec = Section::new("2. Catalogue");
    catalogue::run(&host, opts, &mut sec);
    sec.print();

    let mut sec = Section::new("3. Sale rush");
    rush::run(&host, opts, &mut sec, &mut inv);
    sec.print();
    drop(host);

    if opts.expiry_holds > 0 {
        let mut sec = Section::new("4. Hold expiry under load");
        expiry::run(opts, log, &mut sec, &mut inv);
        sec.print();
    }
    inv
}
