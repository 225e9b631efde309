//! `cargo xtask <command>`: the project's build-and-run entry points.
//!
//! * `cargo xtask up [--listen ADDR]` — adds the `wasm32-wasip2` target if
//!   missing, builds every component listed in `spin.toml` and the local
//!   runner (release), and serves the app with the runner on the embedded
//!   defaults (local SQLite/KV files under `.spin/`) plus what a local run
//!   needs: the sandbox providers on, a local admin (`admin@boxoffice.local`
//!   with a generated first password) and a generated sandbox admin token,
//!   both printed and kept in `.spin/local-secrets.env`; it calls each
//!   component's tick route on a timer.
//! * `cargo xtask build` — the build half of `up`.
//! * `cargo xtask wasm <package>...` — builds these components and runs
//!   `wasm-opt` over them into `target/app/` ([`wasm_opt`]): each
//!   component's `spin build` command in `spin.toml`.
//! * `cargo xtask test` — builds everything (components, runner probe
//!   components, runner), runs every Rust test in release mode (unit tests,
//!   runner tests, end-to-end tests through the runner) and the browser tests,
//!   with a Spin CLI again on Spin plus the multi-instance tests (several
//!   Spin on one redis-server) and Spin on the production runtime config,
//!   `deploy/validate.sh` and the quick lint checks (cargo-deny, Biome);
//!   then prints one summary table; exits
//!   non-zero when anything failed.
//! * `cargo xtask lint` — clippy on native and wasm targets (warnings
//!   denied), cargo-deny, Biome on the frontend, rustfmt once configured
//!   ([`lint`]); `cargo xtask fmt` writes Biome's formatting.
//! * `cargo xtask bench [--FLAG VALUE]...` — builds, then prints benchmark
//!   numbers and invariant counts (`tests/bench`); not part of `test`.

mod lint;
mod wasm_opt;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Wasm target every component is built for (spin-sdk 5.x, WASI 0.2).
const WASM_TARGET: &str = "wasm32-wasip2";
/// The cargo profile of every wasm32 build (`[profile.wasm]` in the
/// workspace Cargo.toml: LTO, size-optimized); its output folder is
/// `target/wasm32-wasip2/wasm/`.
const WASM_PROFILE: &str = "wasm";

/// The `admin_email` of `cargo xtask up` when the caller sets none.
const LOCAL_ADMIN_EMAIL: &str = "admin@boxoffice.local";

/// Tick routes the runner calls (docs/DESIGN.md §3), with their period in seconds.
/// Only those whose component exists in `spin.toml` are used.
const TICKS: &[(&str, &str, u32)] = &[
    ("booking", "/api/bookings/tick", 5),
    ("payments", "/api/payments/tick", 10),
    ("notifications", "/api/notifications/tick", 5),
    ("events", "/api/events/tick", 10),
    ("tickets", "/api/tickets/tick", 10),
    ("users", "/api/users/tick", 10),
    ("auth", "/api/auth/tick", 10),
];

/// The command line: one subcommand.
#[derive(clap::Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "Boxoffice's build, run and test commands")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Build every component and the local runner, then serve the app with
    /// the sandbox providers, a local admin and the tick timers.
    Up {
        /// Address the runner listens on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
        listen: String,
    },
    /// The build half of `up`: every component (wasm) and the runner.
    Build,
    /// Build these components (cargo, then wasm-opt into target/app/):
    /// the `spin build` command of each component in spin.toml.
    Wasm {
        /// Cargo package names (`events`, `booking`...).
        #[arg(required = true, value_name = "PACKAGE")]
        packages: Vec<String>,
    },
    /// Build everything and run every test on each host, ending with a summary.
    Test {
        /// Passed to every test binary (after `--`): a name filter,
        /// `--nocapture`, `--ignored`, ...
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "TEST_ARGS")]
        args: Vec<String>,
    },
    /// Every static check: clippy (native and wasm), cargo-deny, Biome,
    /// and rustfmt once a rustfmt.toml exists; one summary line each.
    Lint,
    /// Write Biome's formatting into the frontend and the browser journeys.
    Fmt,
    /// Build, then run the benchmark (`tests/bench`) with these flags;
    /// `cargo xtask bench --help` lists them.
    #[command(disable_help_flag = true)]
    Bench {
        /// The bench binary's flags (`--FLAG VALUE`...), passed on unchanged.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "BENCH_FLAGS")]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let root = workspace_root();
    std::env::set_current_dir(&root).expect("cd to workspace root");
    // spin.toml's `source` paths, the tests and the browser runner all read
    // `target/`; a different CARGO_TARGET_DIR would leave them running
    // missing or stale binaries, so every build here uses `target/`.
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        if Path::new(&dir) != root.join("target") {
            eprintln!("xtask: ignoring CARGO_TARGET_DIR={} (spin.toml reads target/)", Path::new(&dir).display());
        }
        std::env::remove_var("CARGO_TARGET_DIR");
    }
    let result = match &cli.command {
        Cmd::Up { listen } => up(&root, listen),
        Cmd::Build => build_all(&root, false, true),
        Cmd::Wasm { packages } => build_components(&root, packages),
        Cmd::Test { args } => test(&root, args),
        Cmd::Lint => lint::lint(&root),
        Cmd::Fmt => lint::fmt(&root),
        Cmd::Bench { args } => bench(&root, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res = Result<(), String>;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(cmd: &mut Command) -> Res {
    eprintln!("+ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Adds the wasm target through rustup when it is not installed.
fn ensure_wasm_target() -> Res {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == WASM_TARGET) => Ok(()),
        Ok(_) => run(Command::new("rustup").args(["target", "add", WASM_TARGET])),
        Err(_) => {
            eprintln!("xtask: rustup not found; assuming the {WASM_TARGET} target is available");
            Ok(())
        }
    }
}

/// Packages of the app's components, read from `spin.toml`: every component
/// whose `source` is `target/app/<crate>.wasm` ([`wasm_opt::APP_OUT`]).
fn app_component_packages(root: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(root.join("spin.toml")).map_err(|e| format!("reading spin.toml: {e}"))?;
    let doc: toml::Table = text.parse().map_err(|e| format!("spin.toml: {e}"))?;
    let mut pkgs = Vec::new();
    if let Some(components) = doc.get("component").and_then(|c| c.as_table()) {
        for (_, c) in components {
            if let Some(src) = c.get("source").and_then(|s| s.as_str()) {
                if let Some(file) = src.strip_prefix(&format!("{}/", wasm_opt::APP_OUT)) {
                    let pkg = file.trim_end_matches(".wasm").replace('_', "-");
                    // a service's private component shares its public one's .wasm
                    if !pkgs.contains(&pkg) {
                        pkgs.push(pkg);
                    }
                }
            }
        }
    }
    Ok(pkgs)
}

/// The `.wasm` file stem cargo gives package `pkg` (`booking_fixture` for
/// `booking-fixture`).
fn wasm_stem(pkg: &str) -> String {
    pkg.replace('-', "_")
}

/// `cargo xtask wasm`: `pkgs` built for wasm, then optimized into `target/app/`.
fn build_components(root: &Path, pkgs: &[String]) -> Res {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["build", "--profile", WASM_PROFILE, "--target", WASM_TARGET]);
    for p in pkgs {
        cmd.args(["-p", p]);
    }
    run(&mut cmd)?;
    wasm_opt::optimize_all(root, &pkgs.iter().map(|p| wasm_stem(p)).collect::<Vec<_>>())
}

/// Packages of the runner's probe components (`tests/components/*`).
fn probe_component_packages(root: &Path) -> Vec<String> {
    let mut pkgs = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root.join("tests/components")) {
        for entry in dir.flatten() {
            let manifest = entry.path().join("Cargo.toml");
            if let Ok(text) = std::fs::read_to_string(&manifest) {
                if let Ok(doc) = text.parse::<toml::Table>() {
                    if let Some(name) = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
                        pkgs.push(name.to_string());
                    }
                }
            }
        }
    }
    pkgs.sort();
    pkgs
}

/// Builds the app's components (and, for tests, the probe components) for
/// wasm in one cargo invocation, runs `wasm-opt` over the app's ones into
/// `target/app/` ([`wasm_opt`]), then builds the runner in release mode.
///
/// `with_runner`: also the runner's binary, as `cargo build --release
/// --workspace --bin boxoffice-runner`: selecting the whole workspace makes
/// cargo unify dependency features exactly as the test command's `cargo
/// test --release --workspace` does, so `up` after `test` (or `test` after
/// `up`) reuses every compiled crate. `-p runner` alone resolves wasmtime's
/// dependencies with fewer features and compiled it a second time (14
/// minutes on the 2-core box).
fn build_all(root: &Path, with_probes: bool, with_runner: bool) -> Res {
    ensure_wasm_target()?;
    let mut pkgs = app_component_packages(root)?;
    if with_probes {
        pkgs.extend(probe_component_packages(root));
    }
    if !pkgs.is_empty() {
        let mut cmd = cargo();
        cmd.args(["build", "--profile", WASM_PROFILE, "--target", WASM_TARGET]);
        for p in &pkgs {
            cmd.args(["-p", p]);
        }
        run(&mut cmd)?;
        let app: Vec<String> = app_component_packages(root)?.iter().map(|p| wasm_stem(p)).collect();
        wasm_opt::optimize_all(root, &app)?;
    }
    if with_runner {
        run(cargo().args(["build", "--release", "--workspace", "--bin", "boxoffice-runner"]))?;
    }
    Ok(())
}

/// The Spin CLI the tests also run on ([`apphost::spin_bin`]: `SPIN_BIN`,
/// else `spin` on `PATH`), made absolute; says so when `SPIN_BIN` is set
/// but names no file.
fn spin_cli() -> Option<PathBuf> {
    let found = apphost::spin_bin();
    if found.is_none() && std::env::var_os("SPIN_BIN").is_some_and(|p| !p.is_empty()) {
        eprintln!(
            "xtask: SPIN_BIN={} is not a file",
            Path::new(&std::env::var_os("SPIN_BIN").unwrap_or_default()).display()
        );
    }
    found
}

fn up(root: &Path, listen: &str) -> Res {
    build_all(root, false, true)?;
    let present = app_component_packages(root)?;
    let mut cmd = Command::new(apphost::runner_bin(root));
    let reachable = format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1"));
    // The local run is where the sandbox providers belong (spin.toml ships
    // them off).
    if std::env::var_os("SPIN_VARIABLE_SANDBOX_ENABLED").is_none() {
        cmd.env("SPIN_VARIABLE_SANDBOX_ENABLED", "true");
    }
    // The local admin (auth's one-time bootstrap) and the sandbox tools'
    // token: the caller's SPIN_VARIABLE_* when set, else generated once and
    // kept with the local data in .spin/ (a fresh .spin/ gets fresh ones).
    let secrets = LocalSecrets::load_or_make(&root.join(".spin").join(LOCAL_SECRETS))?;
    let admin_email = std::env::var("SPIN_VARIABLE_ADMIN_EMAIL").unwrap_or_else(|_| {
        cmd.env("SPIN_VARIABLE_ADMIN_EMAIL", LOCAL_ADMIN_EMAIL);
        LOCAL_ADMIN_EMAIL.to_string()
    });
    let admin_password = std::env::var("SPIN_VARIABLE_ADMIN_PASSWORD").unwrap_or_else(|_| {
        cmd.env("SPIN_VARIABLE_ADMIN_PASSWORD", &secrets.admin_password);
        secrets.admin_password.clone()
    });
    let sandbox_token = std::env::var("SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN").unwrap_or_else(|_| {
        cmd.env("SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN", &secrets.sandbox_admin_token);
        secrets.sandbox_admin_token.clone()
    });
    eprintln!("xtask: local admin: sign in at {reachable}/ as {admin_email} with password {admin_password}");
    eprintln!("xtask:   (made on first use of a fresh .spin/; an admin made earlier keeps its own password)");
    eprintln!("xtask: sandbox mailbox and payments: {reachable}/sandbox/email and {reachable}/sandbox/payments,");
    eprintln!("xtask:   sign in with the sandbox admin token {sandbox_token} (or send it as Authorization: Bearer)");
    eprintln!("xtask:   (both kept in .spin/{LOCAL_SECRETS}; SPIN_VARIABLE_ADMIN_PASSWORD / SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN win)");
    // Links in e-mails, calendar files and JSON-LD point at where the app is
    // served, unless the caller says otherwise.
    if std::env::var_os("SPIN_VARIABLE_PUBLIC_BASE_URL").is_none() {
        cmd.env("SPIN_VARIABLE_PUBLIC_BASE_URL", &reachable);
    }
    cmd.args(["--manifest", "spin.toml", "--runtime-config-file", "runtime-config.toml", "--listen", listen]);
    for (component, path, secs) in TICKS {
        if present.iter().any(|p| p == component) {
            cmd.args(["--tick", &format!("{path}={secs}")]);
        }
    }
    seed_demo_catalogue(listen); // events: demo catalogue, in the background once the app answers
    run(&mut cmd)
}

/// Where `cargo xtask up` keeps its generated local credentials, under `.spin/`.
const LOCAL_SECRETS: &str = "local-secrets.env";

/// The generated credentials of the local run (`NAME=value` lines in
/// `.spin/local-secrets.env`, readable only by the owner).
struct LocalSecrets {
    /// `admin_password` of the local admin's one-time bootstrap.
    admin_password: String,
    /// `sandbox_admin_token` of the sandbox tools.
    sandbox_admin_token: String,
}

impl LocalSecrets {
    /// Reads `path`, making (and saving) any value it lacks from 16 random
    /// bytes of the OS.
    fn load_or_make(path: &Path) -> Result<LocalSecrets, String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let get = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (pw, tok) = (get("ADMIN_PASSWORD"), get("SANDBOX_ADMIN_TOKEN"));
        let fresh = pw.is_none() || tok.is_none();
        let secrets = LocalSecrets {
            admin_password: pw.map_or_else(|| random_hex(16).map(|h| format!("local-{h}")), Ok)?,
            sandbox_admin_token: tok.map_or_else(|| random_hex(16).map(|h| format!("sbx-{h}")), Ok)?,
        };
        if fresh {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::create_dir_all(path.parent().ok_or("no parent directory")?)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            writeln!(f, "# cargo xtask up: the local admin's first password and the sandbox tools' token")
                .and_then(|_| {
                    writeln!(
                        f,
                        "ADMIN_PASSWORD={}\nSANDBOX_ADMIN_TOKEN={}",
                        secrets.admin_password, secrets.sandbox_admin_token
                    )
                })
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(secrets)
    }
}

/// `n` random bytes from the OS (`/dev/urandom`) as lower-case hex.
fn random_hex(n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| format!("/dev/urandom: {e}"))?,
        &mut buf,
    )
    .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Events (issue 4): loads the demo catalogue into the app about to listen on
/// `listen`, in the background: `cargo run -p e2e --bin seed_catalog`, which
/// waits for `/api/events/health`, imports every file of `../shared/data`
/// (Ticketmaster and JSON-LD, shifted to the future) and creates the demo
/// seat-mapped venues and their events. Idempotent; skipped with a message
/// when `../shared/data` is absent.
fn seed_demo_catalogue(listen: &str) {
    let base = format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1"));
    eprintln!("xtask: the demo catalogue loads in the background once {base} answers; a `seed_catalog:` line says when it is ready");
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "-p", "e2e", "--bin", "seed_catalog", "--", &base]);
    std::thread::spawn(move || {
        if let Err(e) = run(&mut cmd) {
            eprintln!("xtask: demo catalogue not loaded: {e}");
        }
    });
}

/// Counts of one test suite run.
#[derive(Default)]
struct Tally {
    name: String,
    passed: u64,
    failed: u64,
    ignored: u64,
    ok: bool,
}

/// Runs a command, echoing its output, and sums libtest's
/// `test result: ... N passed; M failed; K ignored` lines.
fn run_counting(name: &str, cmd: &mut Command) -> Tally {
    eprintln!("+ {}", describe(cmd));
    let mut tally = Tally { name: name.to_string(), ..Default::default() };
    let child = cmd.stdout(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start {}: {e}", describe(cmd));
            tally.failed = 1;
            return tally;
        }
    };
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = std::io::stdout();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let _ = writeln!(out, "{line}");
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            tally.passed += count(rest, " passed");
            tally.failed += count(rest, " failed");
            tally.ignored += count(rest, " ignored");
        }
        // The browser runner prints `# pass N` / `# fail N` (node:test TAP).
        if let Some(n) = line.strip_prefix("# pass ") {
            tally.passed += n.trim().parse::<u64>().unwrap_or(0);
        }
        if let Some(n) = line.strip_prefix("# fail ") {
            tally.failed += n.trim().parse::<u64>().unwrap_or(0);
        }
    }
    let status = child.wait().map(|s| s.success()).unwrap_or(false);
    tally.ok = status && tally.failed == 0;
    if !status && tally.failed == 0 {
        tally.failed = 1; // a build failure or crash counts as a failure
    }
    tally
}

fn count(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .find(|p| p.trim_end().ends_with(label.trim()))
        .and_then(|p| p.split_whitespace().rev().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The Python tools of `tests/e2e/tests/contract.rs` (schemathesis,
/// openapi-spec-validator, localstripe; pinned in
/// `tests/contract/requirements.txt`) in the venv `target/pytools`, made
/// with `python3 -m venv` and `pip` from PyPI. pip is quick when they are
/// there already. A failure is said loudly and left to those tests, which
/// then fail naming what is missing.
fn install_contract_tools(root: &Path) {
    let venv = root.join("target/pytools");
    let pip = venv.join("bin/pip");
    if !pip.exists() {
        let mut make = Command::new("python3");
        make.args(["-m", "venv"]).arg(&venv);
        if let Err(e) = run(&mut make) {
            eprintln!(
                "xtask: NO CONTRACT TOOLS: `python3 -m venv target/pytools` failed ({e}); the contract tests will fail"
            );
            return;
        }
    }
    let mut install = Command::new(&pip);
    install
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(root.join("tests/contract/requirements.txt"));
    if let Err(e) = run(&mut install) {
        eprintln!("xtask: NO CONTRACT TOOLS: pip could not install tests/contract/requirements.txt ({e}); the contract tests will fail");
    }
}

fn test(root: &Path, args: &[String]) -> Res {
    let started = std::time::Instant::now();
    build_all(root, true, false)?;
    install_contract_tools(root);
    let mut tallies = Vec::new();

    // The quick static checks (rustfmt, cargo-deny, Biome); clippy is `cargo xtask lint`.
    let quick = lint::quick(root);
    tallies.push(Tally {
        name: "lint: rustfmt, cargo-deny, biome".into(),
        passed: u64::from(quick.is_ok()),
        failed: u64::from(quick.is_err()),
        ok: quick.is_ok(),
        ..Default::default()
    });

    let spin = spin_cli();
    let mut cmd = cargo();
    cmd.args(["test", "--release", "--workspace", "--no-fail-fast"]);
    // The probe components were just built above; the runner's tests need
    // not build them again.
    cmd.env("RUNNER_TESTS_SKIP_PROBE_BUILD", "1").env("BOXOFFICE_HOST", "runner");
    cmd.args(["--", "--color", "never"]);
    cmd.args(args);
    tallies.push(run_counting("runner: unit, probes, e2e, bench smoke", &mut cmd));

    // The same tests on real Spin. `--workspace` again, not `-p e2e -p
    // runner`: another package set resolves dependency features differently
    // and would compile wasmtime a second time; the host-independent unit
    // tests just run once more.
    if let Some(spin) = &spin {
        let mut cmd = cargo();
        cmd.args(["test", "--release", "--workspace", "--no-fail-fast"]);
        cmd.env("RUNNER_TESTS_SKIP_PROBE_BUILD", "1").env("BOXOFFICE_HOST", "spin").env("SPIN_BIN", spin);
        cmd.args(["--", "--color", "never"]);
        cmd.args(args);
        tallies.push(run_counting("spin: unit, probes, e2e, bench smoke", &mut cmd));

        // Several Spin instances on one redis-server and the same SQLite
        // files (tests/e2e/tests/instances.rs), and Spin on the production
        // runtime config (deploy.rs): ignored in the passes above, as they
        // need a Spin CLI; redis-server is installed when missing.
        let mut cmd = cargo();
        cmd.args(["test", "--release", "-p", "e2e", "--test", "instances", "--test", "deploy", "--no-fail-fast"]);
        cmd.env("BOXOFFICE_HOST", "spin").env("SPIN_BIN", spin);
        cmd.args(["--", "--ignored", "--test-threads", "1", "--color", "never"]);
        cmd.args(args);
        tallies.push(run_counting("spin x2/x3 on redis, deploy config", &mut cmd));
    }

    // deploy/: the YAML against Kubernetes' and SpinKube's schemas, and the
    // files' agreement with spin.toml (tools from PyPI, in target/).
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("deploy/validate.sh"));
    let mut deploy = run_counting("deploy: YAML schemas, consistency", &mut cmd);
    deploy.passed += u64::from(deploy.ok);
    tallies.push(deploy);

    let browser = root.join("tests/browser");
    if browser.join("package.json").exists() {
        let mut hosts = vec!["runner"];
        if spin.is_some() {
            hosts.push("spin");
        }
        for host in hosts {
            let mut cmd = Command::new("bash");
            cmd.arg(browser.join("run.sh")).env("BOXOFFICE_HOST", host);
            if let Some(spin) = &spin {
                cmd.env("SPIN_BIN", spin);
            }
            tallies.push(run_counting(&format!("{host}: browser (headless chromium)"), &mut cmd));
        }
    }
    if spin.is_none() {
        tallies.push(Tally { name: "spin: NOT RUN (no Spin CLI)".into(), ok: true, ..Default::default() });
        tallies.push(Tally { name: "spin x2/x3 on redis: NOT RUN".into(), ok: true, ..Default::default() });
    }

    let (mut p, mut f, mut i) = (0, 0, 0);
    println!();
    println!("==================== test summary ====================");
    for t in &tallies {
        println!(
            "{:<34} {:>5} passed {:>4} failed {:>4} ignored  {}",
            t.name,
            t.passed,
            t.failed,
            t.ignored,
            if t.ok { "ok" } else { "FAILED" }
        );
        p += t.passed;
        f += t.failed;
        i += t.ignored;
    }
    let all_ok = tallies.iter().all(|t| t.ok);
    if spin.is_none() {
        eprintln!();
        eprintln!("################################################################");
        eprintln!("##  THE REAL-SPIN HALF DID NOT RUN: no Spin CLI (set SPIN_BIN  ##");
        eprintln!("##  or put spin on PATH); only the local runner was tested, and  ##");
        eprintln!("##  the multi-instance tests (several Spin on Redis) did not run. ##");
        eprintln!("################################################################");
    }
    println!(
        "TOTAL {p} passed, {f} failed, {i} ignored in {:.0}s — {}",
        started.elapsed().as_secs_f64(),
        if all_ok { "ALL TESTS PASSED" } else { "TESTS FAILED" }
    );
    if all_ok {
        Ok(())
    } else {
        Err("some tests failed".into())
    }
}

/// `cargo xtask bench [--FLAG VALUE]...`: builds like `build`, then runs
/// the `bench` binary (`tests/bench`, release) with the flags given
/// (`--help` lists them): runner start-up and latency, catalogue reads, the
/// sale rush and hold expiry, printed as a table; fails when an invariant
/// count is not 0. Not part of `test`.
fn bench(root: &Path, args: &[String]) -> Res {
    // with the probe components: the on-sale phase's ceilings are two of them
    build_all(root, true, true)?;
    run(cargo().args(["run", "--release", "--quiet", "-p", "bench", "--bin", "bench", "--"]).args(args))
}

#[cfg(test)]
mod tests {
    use super::{Cli, Cmd};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cmd, clap::Error> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied())).map(|c| c.command)
    }

    #[test]
    fn the_documented_command_lines_parse() {
        assert!(matches!(parse(&["up"]).unwrap(), Cmd::Up { listen } if listen == "127.0.0.1:3000"));
        assert!(
            matches!(parse(&["up", "--listen", "0.0.0.0:8080"]).unwrap(), Cmd::Up { listen } if listen == "0.0.0.0:8080")
        );
        assert!(matches!(parse(&["build"]).unwrap(), Cmd::Build));
        assert!(matches!(parse(&["lint"]).unwrap(), Cmd::Lint));
        assert!(matches!(parse(&["fmt"]).unwrap(), Cmd::Fmt));
        // test binaries' arguments and the bench's flags, --help included, pass through unchanged
        let Cmd::Test { args } = parse(&["test", "booking", "--nocapture"]).unwrap() else { panic!("not test") };
        assert_eq!(args, ["booking", "--nocapture"]);
        let Cmd::Test { args } = parse(&["test", "--ignored"]).unwrap() else { panic!("not test") };
        assert_eq!(args, ["--ignored"]);
        let Cmd::Bench { args } = parse(&["bench", "--host", "spin", "--buyers", "16"]).unwrap() else {
            panic!("not bench")
        };
        assert_eq!(args, ["--host", "spin", "--buyers", "16"]);
        let Cmd::Bench { args } = parse(&["bench", "--help"]).unwrap() else { panic!("not bench") };
        assert_eq!(args, ["--help"]);
        assert!(parse(&[]).is_err());
        assert!(parse(&["deploy"]).is_err());
        assert!(parse(&["up", "--listen"]).is_err());
    }
}
