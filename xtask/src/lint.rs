//! `cargo xtask lint` and `cargo xtask fmt`.
//!
//! `lint` runs every check and then prints one line per check; it fails
//! when any check failed, after running the others:
//! * clippy on the native and the wasm targets, warnings denied;
//! * `cargo fmt --all --check` (`rustfmt.toml`);
//! * cargo-deny (`deny.toml`): licences, bans and sources from Cargo.lock
//!   and the registry alone; advisories when the RustSec database can be
//!   fetched or a fetched copy is at hand, else a loud SKIPPED;
//! * Biome (`tests/lint/biome.jsonc`) on the frontend and the browser
//!   journeys, warnings denied.
//!
//! `cargo xtask test` runs the quick half ([`quick`]: rustfmt, cargo-deny
//! and Biome, seconds once installed); clippy, minutes on a cold 2-core CI,
//! stays in `lint`. `fmt` writes rustfmt's and Biome's formatting. The tools are installed when missing:
//! cargo-deny with `cargo install --locked` from crates.io, Biome with
//! `npm ci` into `tests/lint/node_modules` (the version `package.json` pins).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{cargo, describe, run, Res, WASM_PROFILE, WASM_TARGET};

/// The cargo-deny `cargo xtask lint` installs when none is on `PATH`
/// (`deny.toml` is written for its configuration format).
const CARGO_DENY_VERSION: &str = "0.20.2";

/// What Biome looks at (paths from the repository root; `biome.jsonc`
/// narrows them down).
const BIOME_PATHS: &[&str] = &["static", "tests/browser"];

/// One check's outcome, for the closing summary.
struct Outcome {
    name: &'static str,
    /// `Ok("")` passed, `Ok(note)` passed or was skipped as the note says, `Err` failed.
    result: Result<String, String>,
}

pub fn lint(root: &Path) -> Res {
    let started = Instant::now();
    let mut outcomes = vec![
        Outcome { name: "clippy (native)", result: clippy_native().map(|()| String::new()) },
        Outcome { name: "clippy (wasm32-wasip2)", result: clippy_wasm(root).map(|()| String::new()) },
    ];
    outcomes.extend(quick_outcomes(root));
    summarize("lint", &outcomes, started)
}

/// The checks of `lint` that take seconds, not minutes (rustfmt,
/// cargo-deny and Biome; clippy is the slow part): `cargo xtask test` runs these.
pub fn quick(root: &Path) -> Res {
    let started = Instant::now();
    summarize("lint (rustfmt, cargo-deny, biome)", &quick_outcomes(root), started)
}

fn quick_outcomes(root: &Path) -> Vec<Outcome> {
    let deny = ensure_cargo_deny();
    vec![
        Outcome { name: "rustfmt", result: rustfmt_check(root) },
        Outcome {
            name: "cargo-deny licenses, bans, sources",
            result: deny
                .clone()
                .and_then(|()| run(cargo().args(["deny", "check", "licenses", "bans", "sources"])))
                .map(|()| String::new()),
        },
        Outcome { name: "cargo-deny advisories", result: deny.and_then(|()| advisories()) },
        Outcome {
            name: "biome (static/, tests/browser/)",
            result: biome(root, &["check", "--error-on-warnings"]).map(|()| String::new()),
        },
    ]
}

/// Prints one line per check; fails when one failed.
fn summarize(what: &str, outcomes: &[Outcome], started: Instant) -> Res {
    println!();
    println!("==================== {what} summary ====================");
    for o in outcomes {
        match &o.result {
            Ok(note) if note.is_empty() => println!("{:<36} ok", o.name),
            Ok(note) => println!("{:<36} {note}", o.name),
            Err(e) => println!("{:<36} FAILED: {e}", o.name),
        }
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    println!(
        "{what} finished in {:.0}s — {}",
        started.elapsed().as_secs_f64(),
        if failed == 0 { "CLEAN" } else { "FAILED" }
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} lint check(s) failed"))
    }
}

/// `cargo xtask fmt`: rustfmt's formatting (`rustfmt.toml`) written into the
/// Rust code, Biome's into the frontend and the browser journeys.
pub fn fmt(root: &Path) -> Res {
    biome(root, &["format", "--write"])?;
    if has_rustfmt_config(root) {
        run(cargo().args(["fmt", "--all"]))?;
    } else {
        eprintln!("xtask: Rust code left as it is (no rustfmt.toml yet)");
    }
    Ok(())
}

fn clippy_native() -> Res {
    run(cargo().args(["clippy", "--release", "--workspace", "--all-targets", "--", "-D", "warnings"]))
}

fn clippy_wasm(root: &Path) -> Res {
    crate::ensure_wasm_target()?;
    let mut pkgs = crate::app_component_packages(root)?;
    pkgs.extend(crate::probe_component_packages(root));
    pkgs.push("platform".into());
    let mut cmd = cargo();
    cmd.args(["clippy", "--profile", WASM_PROFILE, "--target", WASM_TARGET]);
    for p in &pkgs {
        cmd.args(["-p", p]);
    }
    cmd.args(["--", "-D", "warnings"]);
    run(&mut cmd)
}

fn has_rustfmt_config(root: &Path) -> bool {
    root.join("rustfmt.toml").exists() || root.join(".rustfmt.toml").exists()
}

fn rustfmt_check(root: &Path) -> Result<String, String> {
    if !has_rustfmt_config(root) {
        return Ok("skipped: no rustfmt.toml (Rust formatting is not agreed yet)".into());
    }
    run(cargo().args(["fmt", "--all", "--check"])).map(|()| String::new())
}

/// cargo-deny on `PATH` (as a cargo subcommand), else installed.
fn ensure_cargo_deny() -> Res {
    let found = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    eprintln!("xtask: cargo-deny is missing: installing {CARGO_DENY_VERSION} from crates.io (a few minutes)");
    run(cargo().args(["install", "cargo-deny", "--locked", "--version", CARGO_DENY_VERSION]))
}

/// The RustSec advisories: fetched afresh when the network allows, else
/// checked against a copy fetched earlier, else skipped, loudly.
fn advisories() -> Result<String, String> {
    let mut fetch = cargo();
    fetch.args(["deny", "fetch", "db"]);
    let fetched = run_with_timeout(&mut fetch, Duration::from_secs(180));
    let note = match (&fetched, advisory_db()) {
        (Ok(()), _) => String::new(),
        (Err(_), Some(db)) => {
            format!("ok, against the copy fetched earlier ({}): it could not be fetched now", db.display())
        }
        (Err(e), None) => {
            eprintln!();
            eprintln!("##################################################################");
            eprintln!("##  ADVISORIES NOT CHECKED: the RustSec advisory database could  ##");
            eprintln!("##  not be fetched and no copy is in $CARGO_HOME/advisory-dbs.   ##");
            eprintln!("##  Licences, bans and sources were checked.                     ##");
            eprintln!("##################################################################");
            return Ok(format!("SKIPPED: no advisory database ({e})"));
        }
    };
    // --offline: the database just fetched (or the earlier copy), no fetch again
    run(cargo().args(["deny", "--offline", "check", "advisories"]))?;
    Ok(note)
}

/// A RustSec database cargo-deny fetched earlier (`$CARGO_HOME/advisory-dbs/*`, a git checkout).
fn advisory_db() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    std::fs::read_dir(home.join("advisory-dbs")).ok()?.flatten().map(|e| e.path()).find(|p| p.join(".git").exists())
}

/// Runs `cmd` like [`run`], killing it after `limit`.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Res {
    eprintln!("+ {}", describe(cmd));
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(format!("`{}` failed with {status}", describe(cmd))),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{}` took more than {}s", describe(cmd), limit.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Runs Biome (`tests/lint/node_modules/.bin/biome`, installed with
/// `npm ci` when missing or not the pinned version) from the repository
/// root with `args` on [`BIOME_PATHS`].
fn biome(root: &Path, args: &[&str]) -> Res {
    let dir = root.join("tests/lint");
    let bin = dir.join("node_modules/.bin/biome");
    let pinned = pinned_biome(&dir)?;
    let installed =
        Command::new(&bin).arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if !installed.as_deref().is_some_and(|v| v.split_whitespace().any(|w| w == pinned)) {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        run(&mut npm).map_err(|e| format!("installing Biome {pinned} into tests/lint (needs Node.js and npm): {e}"))?;
    }
    let mut cmd = Command::new(&bin);
    cmd.current_dir(root).args(args).args(["--config-path", "tests/lint"]).args(BIOME_PATHS);
    run(&mut cmd)
}

/// The Biome version `tests/lint/package.json` pins.
fn pinned_biome(dir: &Path) -> Result<String, String> {
    let path = dir.join("package.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    doc.pointer("/devDependencies/@biomejs~1biome")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("{}: no devDependencies.@biomejs/biome", path.display()))
}
