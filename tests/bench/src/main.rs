//! The `bench` binary (`cargo xtask bench [--FLAG VALUE]...`): runs every
//! phase of [`bench::run`], prints the table, exits 1 when an invariant
//! count is not 0 (2 on bad flags).

use bench::opts::Opts;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Opts::parse(&args, |k| std::env::var(k).ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let dir = e2e::workspace_root().join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let log = dir.join("runner.log");
    std::fs::write(&log, "").expect("runner.log");
    if opts.cold {
        // The runner's wasmtime cache lives in $XDG_CACHE_HOME/wasmtime: a
        // private, emptied one makes the first start compile everything.
        // Set before any thread exists.
        let cache = dir.join("wasmtime-cache");
        let _ = std::fs::remove_dir_all(&cache);
        std::env::set_var("XDG_CACHE_HOME", &cache);
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Boxoffice benchmarks — {cores} cores, release runner on loopback; runner request log: {}", log.display());
    println!("{opts:?}");
    let started = Instant::now();
    let inv = bench::run(&opts, &log);
    inv.print();
    println!("\nbench finished in {:.0} s", started.elapsed().as_secs_f64());
    if inv.all_zero() {
        ExitCode::SUCCESS
    } else {
        println!("INVARIANTS VIOLATED: see the counts above");
        ExitCode::FAILURE
    }
}
