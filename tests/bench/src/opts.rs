//! Which hosts and the sizes of every phase: flags `--name value` win over
//! `BENCH_NAME` environment variables, which win over the defaults (sized
//! so the whole bench stays under ~6 minutes for both hosts together on a
//! 2-core machine).

/// The hosts the `--host` flag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Hosts {
    /// `--host both`: every phase on the runner, then on Spin.
    Both,
    /// `--host runner`: the local runner only.
    Runner,
    /// `--host spin`: a real Spin CLI only.
    Spin,
}

/// What to run and how big. Every flag `--name` also reads `BENCH_NAME`
/// (upper case, `-` as `_`); `--help` lists them with their defaults.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "bench",
    about = "Boxoffice benchmarks: a column per host (`cargo xtask bench`)",
    args_override_self = true
)]
pub struct Opts {
    /// spin|runner|both [default: both when a Spin CLI is found, else runner].
    #[arg(long, env = "BENCH_HOST", value_enum)]
    pub host: Option<Hosts>,
    /// 1|0: measure a cold wasmtime compilation cache (start twice; compiles everything once, ~20 s on 2 cores).
    #[arg(long, env = "BENCH_COLD", value_name = "1|0", default_value = "1", value_parser = one_or_zero, action = clap::ArgAction::Set)]
    pub cold: bool,
    /// Concurrent clients of the trivial-route (health) load.
    #[arg(long, env = "BENCH_CLIENTS", default_value_t = 8)]
    pub clients: usize,
    /// Requests of the trivial-route load, in total.
    #[arg(long, env = "BENCH_REQUESTS", default_value_t = 4000)]
    pub requests: usize,
    /// 1|0: load the demo catalogue from `../shared/data` when present (else generate one).
    #[arg(long, env = "BENCH_SEED", value_name = "1|0", default_value = "1", value_parser = one_or_zero, action = clap::ArgAction::Set)]
    pub seed: bool,
    /// Events generated when the demo catalogue is not loaded.
    #[arg(long, env = "BENCH_GEN_EVENTS", default_value_t = 300)]
    pub gen_events: usize,
    /// Search requests, in total.
    #[arg(long, env = "BENCH_SEARCHES", default_value_t = 300)]
    pub searches: usize,
    /// Seats of the big venue (the 20,000-seat arena); 0 skips it.
    #[arg(long, env = "BENCH_ARENA_SEATS", default_value_t = 20_000)]
    pub arena_seats: usize,
    /// Seats of the sale-rush event (rounded down to rows of 25; at least 25).
    #[arg(long, env = "BENCH_SEATS", default_value_t = 2000)]
    pub seats: usize,
    /// General-admission capacity of the sale-rush event.
    #[arg(long, env = "BENCH_GA", default_value_t = 300)]
    pub ga: usize,
    /// Concurrent buyers (threads; each registers and signs in once).
    #[arg(long, env = "BENCH_BUYERS", default_value_t = 32)]
    pub buyers: usize,
    /// Hold attempts in total over all buyers.
    #[arg(long, env = "BENCH_ATTEMPTS", default_value_t = 480)]
    pub attempts: usize,
    /// Time cap of the rush in seconds (attempts not started by then are skipped).
    #[arg(long, env = "BENCH_TIME_CAP", default_value_t = 90)]
    pub time_cap: u64,
    /// `hold_ttl_seconds` of the expiry phase (1 to 900).
    #[arg(long, env = "BENCH_TTL", default_value_t = 3)]
    pub ttl: u64,
    /// Holds that expire in the expiry phase; 0 skips the phase.
    #[arg(long, env = "BENCH_EXPIRY_HOLDS", default_value_t = 60)]
    pub expiry_holds: usize,
    /// Reader threads keeping the app busy during the expiry phase.
    #[arg(long, env = "BENCH_EXPIRY_LOAD", default_value_t = 2)]
    pub expiry_load: usize,
    /// Period of the tick calls in the expiry phase, in ms (at least 10).
    #[arg(long, env = "BENCH_TICK_MS", default_value_t = 250)]
    pub tick_ms: u64,
    /// Seats of the on-sale arena; 0 skips the on-sale phase.
    #[arg(long, env = "BENCH_ONSALE_SEATS", default_value_t = 20_000)]
    pub onsale_seats: usize,
    /// Seats of the small arena the big one's hold latency is compared with; 0 skips it.
    #[arg(long, env = "BENCH_ONSALE_SMALL", default_value_t = 500)]
    pub onsale_small: usize,
    /// Concurrent buyers of the on-sale (and clients of its ceilings).
    #[arg(long, env = "BENCH_ONSALE_BUYERS", default_value_t = 64)]
    pub onsale_buyers: usize,
    /// Time cap of one arena's on-sale, seconds.
    #[arg(long, env = "BENCH_ONSALE_CAP", default_value_t = 300)]
    pub onsale_cap: u64,
    /// Simulated seat-map tabs polling the status document.
    #[arg(long, env = "BENCH_WATCHERS", default_value_t = 1000)]
    pub watchers: usize,
    /// Poll period of a seat-map tab, ms (the frontend's `POLL_MS`; at least 100).
    #[arg(long, env = "BENCH_WATCH_MS", default_value_t = 8000)]
    pub watch_ms: u64,
    /// Seconds each ceiling is measured for.
    #[arg(long, env = "BENCH_CEILING_SECS", default_value_t = 5)]
    pub ceiling_secs: u64,
    /// Spin instances sharing one state (`e2e::App::spawn_instances`: one
    /// redis-server for every KV label, the same SQLite files), requests
    /// round-robin; 1 = one instance, at most 8. More than 1 needs
    /// `--host spin` and means `--kv redis`.
    #[arg(long, env = "BENCH_INSTANCES", default_value_t = 1)]
    pub instances: usize,
    /// file|redis: where the key-value stores live: the runtime config's
    /// SQLite KV files or a private redis-server (Spin only: needs `--host spin`).
    #[arg(long = "kv", env = "BENCH_KV", value_name = "file|redis", default_value = "file", value_parser = file_or_redis, action = clap::ArgAction::Set)]
    pub redis: bool,
}

/// `1|0` flags (also `true|false`, `yes|no`).
fn one_or_zero(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("{v:?} is not 1 or 0")),
    }
}

/// `--kv`: whether the stores are on Redis.
fn file_or_redis(v: &str) -> Result<bool, String> {
    match v {
        "redis" => Ok(true),
        "file" => Ok(false),
        _ => Err(format!("{v:?} is not file or redis")),
    }
}

impl Opts {
    /// Reads the command line (`args`, program name first) over the
    /// `BENCH_*` environment variables over the defaults, then keeps every
    /// size in its range. Help and bad flags are the `Err`.
    pub fn from_args<I, T>(args: I) -> Result<Opts, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut o = <Opts as clap::Parser>::try_parse_from(args)?;
        o.clients = o.clients.max(1);
        o.seats = o.seats.max(25);
        o.ga = o.ga.max(1);
        o.buyers = o.buyers.max(1);
        o.ttl = o.ttl.clamp(1, 900);
        o.tick_ms = o.tick_ms.max(10);
        o.onsale_buyers = o.onsale_buyers.max(1);
        o.watch_ms = o.watch_ms.max(100);
        o.ceiling_secs = o.ceiling_secs.max(1);
        o.instances = o.instances.clamp(1, 8);
        Ok(o)
    }

    /// The host names to run on, in order (`"runner"`, `"spin"`), given
    /// whether a Spin CLI was found; the second value is a note to print
    /// when the choice was not what was asked for or had to be guessed.
    pub fn hosts(&self, spin_found: bool) -> Result<(Vec<&'static str>, Option<String>), String> {
        if (self.instances > 1 || self.redis) && self.host != Some(Hosts::Spin) {
            return Err("--instances above 1 and --kv redis run on real Spin only: add --host spin".to_string());
        }
        match (self.host, spin_found) {
            (Some(Hosts::Runner), _) => Ok((vec!["runner"], None)),
            (Some(Hosts::Spin), true) => Ok((vec!["spin"], None)),
            (Some(Hosts::Both), true) | (None, true) => Ok((vec!["runner", "spin"], None)),
            (Some(Hosts::Spin | Hosts::Both), false) => {
                Err("--host spin/both: no Spin CLI found (set SPIN_BIN or put spin on PATH)".to_string())
            }
            (None, false) => Ok((
                vec!["runner"],
                Some("NO SPIN CLI FOUND (SPIN_BIN unset, no spin on PATH): measuring the local runner only; Spin was NOT measured".to_string()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// clap reads the process environment: the tests set `BENCH_*` one at a time.
    static ENV: Mutex<()> = Mutex::new(());

    /// Parses `args` with the `env` variables set meanwhile.
    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Opts, clap::Error> {
        let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        for (k, v) in env {
            std::env::set_var(k, v);
        }
        let o = Opts::from_args(std::iter::once("bench").chain(args.iter().copied()));
        for (k, _) in env {
            std::env::remove_var(k);
        }
        o
    }

    #[test]
    fn flags_win_over_env_over_defaults() {
        let env = [("BENCH_BUYERS", "4"), ("BENCH_SEATS", "4"), ("BENCH_TICK_MS", "1")];
        let o = parse(&["--seats", "100", "--cold", "0"], &env).unwrap();
        assert_eq!((o.buyers, o.seats, o.cold, o.attempts, o.tick_ms), (4, 100, false, 480, 10));
        let o = parse(&["--seats=10", "--seed", "no"], &[]).unwrap();
        assert_eq!((o.seats, o.seed, o.cold), (25, false, true), "sizes kept in range");
        assert!(parse(&["--nope", "1"], &[]).is_err());
        assert!(parse(&["--buyers"], &[]).is_err());
        assert!(parse(&["--cold", "maybe"], &[]).is_err());
        assert!(parse(&[], &[("BENCH_REQUESTS", "many")]).is_err());
    }

    #[test]
    fn help_lists_every_flag_and_its_variable() {
        let help = parse(&["--help"], &[]).unwrap_err().to_string();
        for flag in ["host", "cold", "gen-events", "onsale-buyers", "watch-ms", "ceiling-secs", "instances", "kv"] {
            let var = format!("BENCH_{}", flag.to_ascii_uppercase().replace('-', "_"));
            assert!(
                help.contains(&format!("--{flag}")) && help.contains(&var),
                "--{flag} / {var} missing from:\n{help}"
            );
        }
    }

    #[test]
    fn host_defaults_to_both_only_when_spin_is_found() {
        let none = parse(&[], &[]).unwrap();
        assert_eq!(none.hosts(true).unwrap(), (vec!["runner", "spin"], None));
        let (hosts, note) = none.hosts(false).unwrap();
        assert_eq!(hosts, vec!["runner"]);
        assert!(note.unwrap().contains("NOT measured"));
        let spin = parse(&["--host", "spin"], &[]).unwrap();
        assert_eq!(spin.hosts(true).unwrap().0, vec!["spin"]);
        assert!(spin.hosts(false).is_err());
        assert_eq!(parse(&[], &[("BENCH_HOST", "runner")]).unwrap().hosts(true).unwrap().0, vec!["runner"]);
        assert!(parse(&["--host", "docker"], &[]).is_err());
    }

    #[test]
    fn several_instances_and_redis_need_spin() {
        let two = parse(&["--instances", "2"], &[]).unwrap();
        assert!(two.hosts(true).is_err(), "not on the runner");
        let two = parse(&["--instances", "2", "--host", "spin"], &[]).unwrap();
        assert_eq!((two.instances, two.hosts(true).unwrap().0), (2, vec!["spin"]));
        let redis = parse(&["--kv", "redis", "--host", "spin"], &[]).unwrap();
        assert!(redis.redis && redis.hosts(true).is_ok());
        assert!(parse(&["--kv", "memcached"], &[]).is_err());
        assert!(parse(&[], &[("BENCH_KV", "redis")]).unwrap().redis);
    }
}
