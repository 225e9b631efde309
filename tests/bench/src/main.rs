//! The `bench` binary (`cargo xtask bench [--FLAG VALUE]...`): runs every
//! phase of [`bench::run`] on the hosts `--host` names (default: the local
//! runner and, when a Spin CLI is found, Spin), prints the table with a
//! column per host, exits 1 when an invariant count is not 0 (2 on bad
//! flags or a host that cannot be had).

use bench::opts::Opts;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    // `--help` prints and exits 0; a bad flag or BENCH_* value exits 2
    let opts = Opts::from_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let spin = apphost::spin_bin();
    let (hosts, note) = match opts.hosts(spin.is_some()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(note) = &note {
        let bar = "#".repeat(note.len() + 8);
        eprintln!("{bar}\n##  {note}  ##\n{bar}");
    }
    // Set before any thread exists: the host the apps start on is
    // BOXOFFICE_HOST (set per host by bench::run), the Spin CLI SPIN_BIN.
    if let Some(spin) = &spin {
        std::env::set_var("SPIN_BIN", spin);
    }
    let dir = e2e::workspace_root().join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let cold_cache = opts.cold.then(|| {
        // Both hosts keep wasmtime's compilation cache in
        // $XDG_CACHE_HOME/wasmtime: a private one, emptied before each
        // host's first start, makes that start compile everything.
        let base = dir.join("compile-cache");
        std::env::set_var("XDG_CACHE_HOME", &base);
        base.join("wasmtime")
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let versions: Vec<String> = hosts
        .iter()
        .map(|h| match (*h, &spin) {
            ("spin", Some(bin)) => format!("spin = {} ({})", spin_version(bin), bin.display()),
            _ => "runner = release boxoffice-runner".to_string(),
        })
        .collect();
    println!(
        "Boxoffice benchmarks — {cores} cores, loopback; hosts: {}; host logs: {}/<host>.log",
        versions.join(", "),
        dir.display()
    );
    if let Some(note) = note {
        println!("NOTE: {note}");
    }
    println!("{opts:?}");
    let started = Instant::now();
    let inv = bench::run(&opts, &hosts, &bench::Paths { dir, cold_cache });
    inv.print(&hosts);
    println!("\nbench finished in {:.0} s", started.elapsed().as_secs_f64());
    if inv.all_zero() {
        ExitCode::SUCCESS
    } else {
        println!("INVARIANTS VIOLATED: see the counts above");
        ExitCode::FAILURE
    }
}

/// The first line of `spin --version`, without its build-stamp noise.
fn spin_version(bin: &std::path::Path) -> String {
    let out = std::process::Command::new(bin).arg("--version").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}
