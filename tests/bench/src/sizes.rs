//! The size of every component of the app (issue 18, "small components"):
//! one budget table, read by the benchmark's phase 1 rows and by the test
//! `tests/sizes.rs`, which fails when a component grows past its budget.
//!
//! Why sizes matter: a host compiles every component before it serves
//! (Spin listens only once all are compiled), so bytes are cold-start time,
//! and at the edge they are also the upload of every deploy. Sizes are the
//! `.wasm` files `spin.toml` names, in `target/app/`: cargo's `wasm`
//! profile build (workspace `Cargo.toml`) after `wasm-opt -Oz`
//! (`xtask/src/wasm_opt.rs`), in bytes; budgets are in decimal megabytes
//! (1 MB = 1,000,000 bytes).

use std::path::{Path, PathBuf};

/// The target for the whole app, bytes (8 MB), printed next to
/// the sizes.
pub const APP_TARGET: u64 = 8_000_000;

/// The target for any one component, bytes (1.5 MB).
pub const COMPONENT_TARGET: u64 = 1_500_000;

/// Budget of the whole app, bytes: the sum of every distinct `.wasm` that
/// `spin.toml` names (a service's `-internal` component shares its file).
/// What the app weighs today (7.07 MB: 6.90 MB before the typed saga
/// contract, 9.49 MB before zone math moved into events alone and
/// `wasm-opt -Oz`; README, "Component sizes") plus about 4 %, and at least
/// the sum of the component budgets; lower it as cuts land.
pub const APP_BUDGET: u64 = 7_370_000;

/// Budget per component, bytes, by `.wasm` file stem (`events` for
/// `events.wasm`). Every `.wasm` `spin.toml` names must have a row; a row
/// is what the component weighs today plus about 4 % (rounded to 10 kB),
/// so growth is a decision: raise one only with the reason in the commit,
/// and lower it when a cut lands. Today's sizes: HS256-only JWT, names
/// stripped, the `wasm` profile (fat LTO, opt-level "z"), zone math in
/// events only, `wasm-opt -Oz` (README, "Component sizes"). Raised once
/// on purpose: the saga contract as types (`saga::contract`, issue 14)
/// costs each consumer the serde code of the events it decodes —
/// notifications (12 types) +0.06 MB, booking +0.05, payments and tickets
/// under 0.01.
pub const BUDGETS: &[(&str, u64)] = &[
    ("auth", 750_000),
    ("booking", 1_100_000),
    ("events", 1_390_000),
    ("notifications", 830_000),
    ("payments", 890_000),
    ("sandbox", 640_000),
    ("tickets", 770_000),
    ("users", 680_000),
    ("web", 320_000),
];

/// One component's file and what it weighs.
#[derive(Debug, Clone)]
pub struct Size {
    /// File stem (`events`).
    pub name: String,
    /// The `source` `spin.toml` gives it (`<root>/target/app/<name>.wasm`).
    pub path: PathBuf,
    /// Bytes, or why the file could not be read (not built).
    pub bytes: Result<u64, String>,
    /// This component's row of [`BUDGETS`], bytes (`None`: no row).
    pub budget: Option<u64>,
}

/// The distinct `.wasm` files `spin.toml` under `root` names as component
/// sources, as (file stem, path under `root`) in manifest order. Panics
/// with the reason when `spin.toml` cannot be read or parsed.
pub fn app_components(root: &Path) -> Vec<(String, PathBuf)> {
    let text =
        std::fs::read_to_string(root.join("spin.toml")).unwrap_or_else(|e| panic!("{}/spin.toml: {e}", root.display()));
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("spin.toml: {e}"));
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let components = doc.get("component").and_then(|c| c.as_table()).into_iter().flatten();
    for (_, c) in components {
        let Some(src) = c.get("source").and_then(|s| s.as_str()) else { continue };
        let Some(stem) = Path::new(src).file_name().and_then(|f| f.to_str()).and_then(|f| f.strip_suffix(".wasm"))
        else {
            continue;
        };
        if !out.iter().any(|(s, _)| s == stem) {
            out.push((stem.to_string(), root.join(src)));
        }
    }
    out
}

/// Every app component's [`Size`] (workspace root `root`).
pub fn measure(root: &Path) -> Vec<Size> {
    app_components(root)
        .into_iter()
        .map(|(name, path)| {
            let bytes = std::fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|e| format!("{}: {e} (not built? run `cargo xtask build`)", path.display()));
            let budget = BUDGETS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b);
            Size { name, path, bytes, budget }
        })
        .collect()
}

/// Everything wrong with `sizes`, one line each: a file not built, a
/// component without a budget row or over its budget, the total over
/// [`APP_BUDGET`]. Empty when all is within budget.
pub fn problems(sizes: &[Size]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sizes {
        match (&s.bytes, s.budget) {
            (Err(e), _) => out.push(format!("{}: cannot be measured: {e}", s.name)),
            (Ok(_), None) => out.push(format!("{}: no row in bench::sizes::BUDGETS", s.name)),
            (Ok(b), Some(budget)) if *b > budget => {
                out.push(format!("{}: {} is over its budget of {}", s.name, mb(*b), mb(budget)))
            }
            _ => {}
        }
    }
    let total: u64 = sizes.iter().filter_map(|s| s.bytes.as_ref().ok()).sum();
    if total > APP_BUDGET {
        out.push(format!("the app: {} is over its budget of {}", mb(total), mb(APP_BUDGET)));
    }
    out
}

/// `bytes` as decimal megabytes, `1.23 MB`.
pub fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// Phase 1's size rows: the total and one per component, largest first,
/// each as `size (budget; target)` with `OVER` past its budget.
pub fn rows(root: &Path, sec: &mut crate::report::Section) {
    let mut sizes = measure(root);
    sizes.sort_by_key(|s| std::cmp::Reverse(*s.bytes.as_ref().unwrap_or(&0)));
    let total: u64 = sizes.iter().filter_map(|s| s.bytes.as_ref().ok()).sum();
    sec.row(
        "app size, every .wasm (budget; target)",
        format!("{} ({}; {})", mb(total), mb(APP_BUDGET), mb(APP_TARGET)),
    );
    for s in &sizes {
        let value = match (&s.bytes, s.budget) {
            (Ok(b), Some(budget)) => {
                format!(
                    "{} ({}; {}){}",
                    mb(*b),
                    mb(budget),
                    mb(COMPONENT_TARGET),
                    if *b > budget { " OVER" } else { "" }
                )
            }
            (Ok(b), None) => format!("{} (no budget)", mb(*b)),
            (Err(_), _) => "not built".to_string(),
        };
        sec.row(format!("  {}.wasm", s.name), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(name: &str, bytes: Result<u64, String>, budget: Option<u64>) -> Size {
        Size { name: name.into(), path: PathBuf::from(format!("{name}.wasm")), bytes, budget }
    }

    #[test]
    fn problems_name_missing_files_missing_rows_and_overruns() {
        assert!(problems(&[size("a", Ok(1_000_000), Some(1_200_000))]).is_empty());
        let p = problems(&[
            size("missing", Err("not built".into()), Some(1_000_000)),
            size("no_row", Ok(10), None),
            size("big", Ok(1_300_000), Some(1_200_000)),
        ]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].starts_with("missing: cannot be measured"), "{p:?}");
        assert!(p[1].starts_with("no_row: no row"), "{p:?}");
        assert!(p[2].contains("1.30 MB is over its budget of 1.20 MB"), "{p:?}");
        let many: Vec<Size> = (0..7).map(|i| size(&format!("c{i}"), Ok(2_100_000), Some(2_500_000))).collect();
        assert_eq!(
            problems(&many),
            vec![format!("the app: 14.70 MB is over its budget of {:.2} MB", APP_BUDGET as f64 / 1e6)]
        );
    }

    #[test]
    fn budgets_add_up_to_at_most_the_app_budget() {
        assert!(BUDGETS.iter().map(|(_, b)| b).sum::<u64>() <= APP_BUDGET);
    }

    #[test]
    fn every_app_component_has_a_budget_row() {
        let root = e2e::workspace_root();
        let names = app_components(&root);
        assert!(names.len() >= 9 && names.iter().any(|(n, _)| n == "events"), "{names:?}");
        for (n, path) in &names {
            assert!(BUDGETS.iter().any(|(b, _)| b == n), "{n} has no row in BUDGETS");
            // what is deployed: wasm-opt's output, not cargo's
            assert!(path.starts_with(root.join("target/app")), "{n}: {}", path.display());
        }
    }
}
