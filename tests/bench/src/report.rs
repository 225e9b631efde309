//! The printed table: one section per phase (printed as soon as the phase
//! ends), then the invariant counts and one machine-readable line
//! `BENCH-INVARIANTS name=count …` that the smoke test reads.

/// Rows of one section: `(what, value)`.
#[derive(Debug, Default)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// `(what, value)` rows.
    pub rows: Vec<(String, String)>,
}

impl Section {
    /// An empty section titled `title`.
    pub fn new(title: &str) -> Section {
        Section { title: title.into(), rows: Vec::new() }
    }

    /// Adds a row.
    pub fn row(&mut self, what: impl Into<String>, value: impl Into<String>) {
        self.rows.push((what.into(), value.into()));
    }

    /// Prints the section to stdout.
    pub fn print(&self) {
        println!("\n== {} ", self.title);
        for (k, v) in &self.rows {
            println!("  {k:<46} {v}");
        }
    }
}

/// Invariant counts over the whole run: every one must be 0.
#[derive(Debug, Default)]
pub struct Invariants(pub Vec<(String, u64)>);

impl Invariants {
    /// Records `count` violations of `name`.
    pub fn count(&mut self, name: &str, count: u64) {
        self.0.push((name.into(), count));
    }

    /// True when every count is 0.
    pub fn all_zero(&self) -> bool {
        self.0.iter().all(|(_, n)| *n == 0)
    }

    /// Prints the counts and the `BENCH-INVARIANTS` line.
    pub fn print(&self) {
        println!("\n== Invariants (DESIGN §4; every count must be 0)");
        for (k, n) in &self.0 {
            println!("  {k:<60} {n:>4}  {}", if *n == 0 { "ok" } else { "VIOLATED" });
        }
        let line: Vec<String> = self.0.iter().map(|(k, n)| format!("{k}={n}")).collect();
        println!("BENCH-INVARIANTS {}", line.join(" "));
    }
}

/// `n/s` for `n` items in `secs`.
pub fn rate(n: usize, secs: f64) -> String {
    format!("{:.1}/s", n as f64 / secs.max(1e-9))
}
