//! The printed table: every phase is run on each host in turn, each phase
//! filling one [`Section`] per host; at the end [`print_side_by_side`]
//! prints one table per phase with a column per host, then the invariant
//! counts (also per host) and one machine-readable line
//! `BENCH-INVARIANTS host:name=count …` that the smoke test reads.

/// Rows of one phase on one host: `(what, value)`.
#[derive(Debug, Default, Clone)]
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
}

/// One phase's rows on every host: `(what, value per host)`, `None` where a
/// host printed no such row (a count only one host saw, say).
pub type Merged = Vec<(String, Vec<Option<String>>)>;

/// Lines up the same phase's sections of several hosts by row name, keeping
/// each host's order: the n-th row called `what` of one host meets the n-th
/// row called `what` of the others (names like `  throughput` repeat), and
/// a row only some hosts have is placed after the row it followed there.
pub fn merge(sections: &[&Section]) -> Merged {
    let mut out: Merged = Vec::new();
    for (h, sec) in sections.iter().enumerate() {
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut at = 0; // insert position: after the last row this host matched
        for (what, value) in &sec.rows {
            let nth = seen.entry(what.as_str()).or_default();
            let found = out.iter().enumerate().filter(|(_, (w, _))| w == what).map(|(i, _)| i).nth(*nth);
            *nth += 1;
            let i = match found {
                Some(i) => i,
                None => {
                    out.insert(at, (what.clone(), vec![None; sections.len()]));
                    at
                }
            };
            out[i].1[h] = Some(value.clone());
            at = at.max(i + 1);
        }
    }
    out
}

/// Prints the phases, one table per phase with a column per host in
/// `hosts` order: `phases[h]` are host `h`'s sections, phase by phase.
pub fn print_side_by_side(hosts: &[&str], phases: &[Vec<Section>]) {
    let count = phases.iter().map(Vec::len).max().unwrap_or(0);
    for p in 0..count {
        let secs: Vec<&Section> = phases.iter().filter_map(|s| s.get(p)).collect();
        let Some(first) = secs.first() else { continue };
        let rows = merge(&secs);
        print_table(&first.title, hosts, &rows);
    }
}

fn print_table(title: &str, hosts: &[&str], rows: &Merged) {
    let what_w = rows.iter().map(|(w, _)| w.chars().count()).max().unwrap_or(0).clamp(20, 52);
    let widths: Vec<usize> = (0..hosts.len())
        .map(|h| {
            rows.iter()
                .filter_map(|(_, v)| v[h].as_ref())
                .map(|v| v.chars().count())
                .chain([hosts[h].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    println!("\n== {title}");
    let head: Vec<String> = hosts.iter().zip(&widths).map(|(h, w)| format!("{h:<w$}")).collect();
    println!("  {:<what_w$}  {}", "", head.join(" | ").trim_end());
    for (what, values) in rows {
        let cells: Vec<String> =
            values.iter().zip(&widths).map(|(v, w)| format!("{:<w$}", v.as_deref().unwrap_or("—"))).collect();
        println!("  {what:<what_w$}  {}", cells.join(" | ").trim_end());
    }
}

/// Invariant counts over the whole run, per host: every one must be 0.
#[derive(Debug, Default)]
pub struct Invariants(pub Vec<(String, String, u64)>);

impl Invariants {
    /// Records `count` violations of `name` on `host`.
    pub fn count(&mut self, host: &str, name: &str, count: u64) {
        self.0.push((host.into(), name.into(), count));
    }

    /// True when every count is 0.
    pub fn all_zero(&self) -> bool {
        self.0.iter().all(|(_, _, n)| *n == 0)
    }

    /// Prints the counts (a column per host, in `hosts` order) and the
    /// `BENCH-INVARIANTS` line.
    pub fn print(&self, hosts: &[&str]) {
        println!("\n== Invariants (docs/DESIGN.md §4; every count must be 0)");
        let mut names: Vec<&str> = Vec::new();
        for (_, name, _) in &self.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        let head: Vec<String> = hosts.iter().map(|h| format!("{h:>11}")).collect();
        println!("  {:<60} {}", "", head.join(" "));
        for name in names {
            let cells: Vec<String> = hosts
                .iter()
                .map(|h| match self.0.iter().find(|(hh, n, _)| hh == h && n == name) {
                    Some((_, _, 0)) => format!("{:>11}", "0 ok"),
                    Some((_, _, c)) => format!("{:>11}", format!("{c} VIOLATED")),
                    None => format!("{:>11}", "—"),
                })
                .collect();
            println!("  {name:<60} {}", cells.join(" "));
        }
        let line: Vec<String> = self.0.iter().map(|(h, k, n)| format!("{h}:{k}={n}")).collect();
        println!("BENCH-INVARIANTS {}", line.join(" "));
    }
}

/// `n/s` for `n` items in `secs`.
pub fn rate(n: usize, secs: f64) -> String {
    format!("{:.1}/s", n as f64 / secs.max(1e-9))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(rows: &[(&str, &str)]) -> Section {
        let mut s = Section::new("t");
        for (k, v) in rows {
            s.row(*k, *v);
        }
        s
    }

    #[test]
    fn merge_lines_up_repeated_and_one_sided_rows() {
        let a =
            sec(&[("start", "1 s"), ("  throughput", "10/s"), ("only a", "x"), ("  throughput", "20/s"), ("end", "a")]);
        let b =
            sec(&[("start", "2 s"), ("  throughput", "5/s"), ("  throughput", "6/s"), ("only b", "y"), ("end", "b")]);
        let m = merge(&[&a, &b]);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            m,
            vec![
                ("start".to_string(), vec![s("1 s"), s("2 s")]),
                ("  throughput".to_string(), vec![s("10/s"), s("5/s")]),
                ("only a".to_string(), vec![s("x"), None]),
                ("  throughput".to_string(), vec![s("20/s"), s("6/s")]),
                ("only b".to_string(), vec![None, s("y")]),
                ("end".to_string(), vec![s("a"), s("b")]),
            ]
        );
    }

    #[test]
    fn invariants_are_zero_only_when_every_host_counts_zero() {
        let mut inv = Invariants::default();
        inv.count("runner", "rush.x", 0);
        assert!(inv.all_zero());
        inv.count("spin", "rush.x", 2);
        assert!(!inv.all_zero());
    }
}
