//! Which hosts and the sizes of every phase: flags `--name value` win over
//! `BENCH_NAME` environment variables, which win over the defaults (sized
//! so the whole bench stays under ~6 minutes for both hosts together on a
//! 2-core machine).

/// The hosts the `--host` flag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// `--host both`: every phase on the runner, then on Spin.
    Both,
    /// `--host runner`: the local runner only.
    Runner,
    /// `--host spin`: a real Spin CLI only.
    Spin,
}

/// What to run and how big.
#[derive(Debug, Clone)]
pub struct Opts {
    /// `--host`; `None` (not given): both when a Spin CLI is found, else the runner.
    pub host: Option<Hosts>,
    /// Measure a cold wasmtime compilation cache (start twice; compiles everything once, ~20 s on 2 cores).
    pub cold: bool,
    /// Concurrent clients of the trivial-route load.
    pub clients: usize,
    /// Requests of the trivial-route load, in total.
    pub requests: usize,
    /// Load the demo catalogue from `../shared/data` when present (else generate one).
    pub seed: bool,
    /// Events generated when the demo catalogue is not loaded.
    pub gen_events: usize,
    /// Search requests, in total.
    pub searches: usize,
    /// Seats of the big venue (the 20,000-seat arena); 0 skips it.
    pub arena_seats: usize,
    /// Seats of the sale-rush event (rounded down to rows of 25).
    pub seats: usize,
    /// General-admission capacity of the sale-rush event.
    pub ga: usize,
    /// Concurrent buyers (threads; each registers and signs in once).
    pub buyers: usize,
    /// Hold attempts in total over all buyers.
    pub attempts: usize,
    /// Time cap of the rush in seconds (attempts not started by then are skipped).
    pub time_cap: u64,
    /// `hold_ttl_seconds` of the expiry phase.
    pub ttl: u64,
    /// Holds that expire in the expiry phase; 0 skips the phase.
    pub expiry_holds: usize,
    /// Reader threads keeping the app busy during the expiry phase.
    pub expiry_load: usize,
    /// Period of the tick calls in the expiry phase, in ms.
    pub tick_ms: u64,
    /// Seats of the on-sale arena; 0 skips the on-sale phase.
    pub onsale_seats: usize,
    /// Seats of the small arena the big one's hold latency is compared with; 0 skips it.
    pub onsale_small: usize,
    /// Concurrent buyers of the on-sale (and clients of its ceilings).
    pub onsale_buyers: usize,
    /// Time cap of one arena's on-sale, seconds.
    pub onsale_cap: u64,
    /// Simulated seat-map tabs polling the status document.
    pub watchers: usize,
    /// Poll period of a seat-map tab, ms (the frontend's `POLL_MS`).
    pub watch_ms: u64,
    /// Seconds each ceiling is measured for.
    pub ceiling_secs: u64,
    /// Spin instances sharing one state (`e2e::App::spawn_instances`: one
    /// redis-server for every KV label, the same SQLite files); 1 = one
    /// instance. More than 1 needs `--host spin`.
    pub instances: usize,
    /// Where the key-value stores live: `file` (the runtime config's SQLite
    /// KV files) or `redis` (a private redis-server, Spin only); more than
    /// one instance is always `redis`.
    pub redis: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            host: None,
            cold: true,
            clients: 8,
            requests: 4000,
            seed: true,
            gen_events: 300,
            searches: 300,
            arena_seats: 20_000,
            seats: 2000,
            ga: 300,
            buyers: 32,
            attempts: 480,
            time_cap: 90,
            ttl: 3,
            expiry_holds: 60,
            expiry_load: 2,
            tick_ms: 250,
            onsale_seats: 20_000,
            onsale_small: 500,
            onsale_buyers: 64,
            onsale_cap: 300,
            watchers: 1000,
            watch_ms: 8000,
            ceiling_secs: 5,
            instances: 1,
            redis: false,
        }
    }
}

/// `(flag, what it sets)`, for `--help`.
pub const FLAGS: &[(&str, &str)] = &[
    ("host", "spin|runner|both (both when a Spin CLI is found, else runner)"),
    ("cold", "1|0: measure a cold compilation cache (default 1)"),
    ("clients", "concurrent clients of the health-route load (8)"),
    ("requests", "requests of that load in total (4000)"),
    ("seed", "1|0: load ../shared/data's demo catalogue when present (1)"),
    ("gen-events", "events generated without the demo catalogue (300)"),
    ("searches", "search requests in total (300)"),
    ("arena-seats", "seats of the big venue, 0 skips it (20000)"),
    ("seats", "seats of the rush event, rows of 25 (2000)"),
    ("ga", "general-admission capacity of the rush event (300)"),
    ("buyers", "concurrent buyers (32)"),
    ("attempts", "hold attempts in total (480)"),
    ("time-cap", "seconds the rush may take (90)"),
    ("ttl", "hold_ttl_seconds of the expiry phase (3)"),
    ("expiry-holds", "holds left to expire, 0 skips the phase (60)"),
    ("expiry-load", "reader threads during expiry (2)"),
    ("tick-ms", "tick period during expiry, ms (250)"),
    ("onsale-seats", "seats of the on-sale arena, 0 skips the phase (20000)"),
    ("onsale-small", "seats of the small arena compared with it, 0 skips (500)"),
    ("onsale-buyers", "concurrent on-sale buyers and ceiling clients (64)"),
    ("onsale-cap", "seconds one arena's on-sale may take (300)"),
    ("watchers", "seat-map tabs polling availability (1000)"),
    ("watch-ms", "poll period of one tab, ms (8000, the frontend's)"),
    ("ceiling-secs", "seconds each ceiling is measured (5)"),
    ("instances", "Spin instances on one state, requests round-robin; >1 needs --host spin and means --kv redis (1)"),
    ("kv", "file|redis: the KV stores in the SQLite KV files or on a private redis-server (file; redis needs --host spin)"),
];

impl Opts {
    /// Reads `args` (`--name value`, `--help`) over `env(BENCH_NAME)`
    /// over the defaults. Errors name the bad flag or value.
    pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Opts, String> {
        let mut o = Opts::default();
        for (flag, _) in FLAGS {
            if let Some(v) = env(&format!("BENCH_{}", flag.to_ascii_uppercase().replace('-', "_"))) {
                o.set(flag, &v)?;
            }
        }
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let flag = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            if flag == "help" {
                return Err(Self::usage());
            }
            let value = it.next().ok_or_else(|| format!("--{flag} needs a value"))?;
            o.set(flag, value)?;
        }
        Ok(o)
    }

    /// The usage text.
    pub fn usage() -> String {
        let mut s = String::from("usage: bench [--FLAG VALUE]... (or BENCH_FLAG=VALUE)\n");
        for (f, what) in FLAGS {
            s.push_str(&format!("  --{f:<13} {what}\n"));
        }
        s
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

    fn set(&mut self, flag: &str, v: &str) -> Result<(), String> {
        let n = || v.parse::<usize>().map_err(|_| format!("--{flag}: {v:?} is not a count"));
        let b = || match v {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(format!("--{flag}: {v:?} is not 1 or 0")),
        };
        match flag {
            "host" => {
                self.host = Some(match v {
                    "both" => Hosts::Both,
                    "runner" => Hosts::Runner,
                    "spin" => Hosts::Spin,
                    _ => return Err(format!("--host: {v:?} is not spin, runner or both")),
                })
            }
            "cold" => self.cold = b()?,
            "clients" => self.clients = n()?.max(1),
            "requests" => self.requests = n()?,
            "seed" => self.seed = b()?,
            "gen-events" => self.gen_events = n()?,
            "searches" => self.searches = n()?,
            "arena-seats" => self.arena_seats = n()?,
            "seats" => self.seats = n()?.max(25),
            "ga" => self.ga = n()?.max(1),
            "buyers" => self.buyers = n()?.max(1),
            "attempts" => self.attempts = n()?,
            "time-cap" => self.time_cap = n()? as u64,
            "ttl" => self.ttl = (n()? as u64).clamp(1, 900),
            "expiry-holds" => self.expiry_holds = n()?,
            "expiry-load" => self.expiry_load = n()?,
            "tick-ms" => self.tick_ms = (n()? as u64).max(10),
            "onsale-seats" => self.onsale_seats = n()?,
            "onsale-small" => self.onsale_small = n()?,
            "onsale-buyers" => self.onsale_buyers = n()?.max(1),
            "onsale-cap" => self.onsale_cap = n()? as u64,
            "watchers" => self.watchers = n()?,
            "watch-ms" => self.watch_ms = (n()? as u64).max(100),
            "ceiling-secs" => self.ceiling_secs = (n()? as u64).max(1),
            "instances" => self.instances = n()?.clamp(1, 8),
            "kv" => {
                self.redis = match v {
                    "redis" => true,
                    "file" => false,
                    _ => return Err(format!("--kv: {v:?} is not file or redis")),
                }
            }
            _ => return Err(format!("unknown flag --{flag}\n{}", Self::usage())),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_env_over_defaults() {
        let env = |k: &str| (k == "BENCH_BUYERS" || k == "BENCH_SEATS").then(|| "4".to_string());
        let o = Opts::parse(&["--seats".into(), "100".into(), "--cold".into(), "0".into()], env).unwrap();
        assert_eq!((o.buyers, o.seats, o.cold, o.attempts), (4, 100, false, 480));
        assert!(Opts::parse(&["--nope".into(), "1".into()], |_| None).is_err());
        assert!(Opts::parse(&["--buyers".into()], |_| None).is_err());
    }

    #[test]
    fn host_defaults_to_both_only_when_spin_is_found() {
        let none = Opts::parse(&[], |_| None).unwrap();
        assert_eq!(none.hosts(true).unwrap(), (vec!["runner", "spin"], None));
        let (hosts, note) = none.hosts(false).unwrap();
        assert_eq!(hosts, vec!["runner"]);
        assert!(note.unwrap().contains("NOT measured"));
        let spin = Opts::parse(&["--host".into(), "spin".into()], |_| None).unwrap();
        assert_eq!(spin.hosts(true).unwrap().0, vec!["spin"]);
        assert!(spin.hosts(false).is_err());
        let env = |k: &str| (k == "BENCH_HOST").then(|| "runner".to_string());
        assert_eq!(Opts::parse(&[], env).unwrap().hosts(true).unwrap().0, vec!["runner"]);
        assert!(Opts::parse(&["--host".into(), "docker".into()], |_| None).is_err());
    }

    #[test]
    fn several_instances_and_redis_need_spin() {
        let two = Opts::parse(&["--instances".into(), "2".into()], |_| None).unwrap();
        assert!(two.hosts(true).is_err(), "not on the runner");
        let two = Opts::parse(&["--instances".into(), "2".into(), "--host".into(), "spin".into()], |_| None).unwrap();
        assert_eq!((two.instances, two.hosts(true).unwrap().0), (2, vec!["spin"]));
        let redis = Opts::parse(&["--kv".into(), "redis".into(), "--host".into(), "spin".into()], |_| None).unwrap();
        assert!(redis.redis && redis.hosts(true).is_ok());
        assert!(Opts::parse(&["--kv".into(), "memcached".into()], |_| None).is_err());
    }
}
