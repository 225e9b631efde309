//! The bench must not rot: run the `bench` binary with tiny sizes on the
//! host of this test run (`BOXOFFICE_HOST=runner|spin`, default runner, as
//! the end-to-end tests choose it) and assert only its invariant counts
//! (never timing). Needs `cargo xtask test` (or `cargo xtask build`) to
//! have built the runner and the components.

use std::process::Command;

#[test]
fn tiny_bench_counts_no_invariant_violation() {
    let host = match std::env::var("BOXOFFICE_HOST").as_deref() {
        Err(_) | Ok("") | Ok("runner") => "runner",
        Ok("spin") => "spin",
        Ok(other) => panic!("BOXOFFICE_HOST={other:?}: expected spin or runner"),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--host", host])
        .args(["--cold", "0", "--seed", "0", "--gen-events", "6", "--searches", "12", "--arena-seats", "500"])
        .args([
            "--clients",
            "2",
            "--requests",
            "40",
            "--seats",
            "100",
            "--ga",
            "10",
            "--buyers",
            "3",
            "--attempts",
            "12",
        ])
        .args(["--time-cap", "60", "--ttl", "2", "--expiry-holds", "6", "--expiry-load", "1", "--tick-ms", "200"])
        .args([
            "--onsale-seats",
            "200",
            "--onsale-small",
            "100",
            "--onsale-buyers",
            "4",
            "--watchers",
            "20",
            "--watch-ms",
            "500",
        ])
        .args(["--onsale-cap", "120", "--ceiling-secs", "1"])
        .output()
        .expect("run the bench binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("BENCH-INVARIANTS ")).unwrap_or_else(|| {
        panic!("no invariant line; stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr))
    });
    let counts: Vec<(&str, u64)> = line
        .split_whitespace()
        .map(|kv| kv.split_once('=').map(|(k, v)| (k, v.parse().expect("count"))).expect("host:name=count"))
        .collect();
    for phase in ["rush.", "expiry.", "onsale100.", "onsale200."] {
        let prefix = format!("{host}:{phase}");
        assert!(counts.iter().any(|(k, _)| k.starts_with(&prefix)), "no {prefix} counts in {line}");
    }
    assert!(
        counts.iter().all(|(k, _)| k.starts_with(&format!("{host}:"))),
        "counts of another host than {host}: {line}"
    );
    let violated: Vec<_> = counts.iter().filter(|(_, n)| *n != 0).collect();
    assert!(violated.is_empty(), "invariants violated: {violated:?}\n{stdout}");
    assert!(out.status.success(), "bench exited with {}:\n{stdout}", out.status);
}
