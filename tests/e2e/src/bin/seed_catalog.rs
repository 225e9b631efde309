//! `seed_catalog [BASE_URL]`: loads the demo catalogue (see
//! `e2e::catalog::seed_demo`) into the app at BASE_URL (default
//! `http://127.0.0.1:3000`), waiting up to two minutes for it to answer.
//! Run by `cargo xtask up`; safe to repeat.

use e2e::catalog::{data_dir, seed_demo, Api, Remote};

/// The command line.
#[derive(clap::Parser)]
#[command(name = "seed_catalog", about = "Loads the demo catalogue into a running Boxoffice app (idempotent)")]
struct Cli {
    /// The app's address.
    #[arg(value_name = "BASE_URL", default_value = "http://127.0.0.1:3000")]
    base: String,
}

fn main() {
    let base = <Cli as clap::Parser>::parse().base;
    // Without the shared data folder only the self-made demo venues and
    // events are seeded.
    let data = data_dir();
    let api = Remote::new(&base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while api.send("GET", "/api/events/health", None, None).0 != 200 {
        if std::time::Instant::now() > deadline {
            eprintln!("seed_catalog: {base} did not answer /api/events/health");
            std::process::exit(1);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    match seed_demo(&api, data.as_deref()) {
        Ok(r) => {
            for failure in &r.failures {
                eprintln!("seed_catalog: not imported: {failure}");
            }
            eprintln!(
                "seed_catalog: the demo catalogue is ready — imported {} new, {} updated, {} unchanged, {} failed records; {} demo events; try {base}/api/events?q=arena (Arena Rock Night, 20,000 seats)",
                r.created, r.updated, r.unchanged, r.failed, r.demo_events
            )
        }
        Err(e) => {
            eprintln!("seed_catalog: {e}");
            std::process::exit(1);
        }
    }
}
