//! Every component of the app within its size budget (issue 18): reads the
//! built `.wasm` files that `spin.toml` names and fails on any line of
//! [`bench::sizes::problems`] — a file that is not built (run `cargo xtask
//! build` first; `cargo xtask test` does) fails too, it never passes
//! silently. The budgets are one table, `bench::sizes::BUDGETS`.

#[test]
fn every_component_is_within_its_size_budget() {
    let root = e2e::workspace_root();
    let sizes = bench::sizes::measure(&root);
    for s in &sizes {
        match &s.bytes {
            Ok(b) => eprintln!("{:<16} {:>12} bytes  budget {:?}", s.name, b, s.budget),
            Err(e) => eprintln!("{:<16} {e}", s.name),
        }
    }
    let problems = bench::sizes::problems(&sizes);
    assert!(
        problems.is_empty(),
        "component sizes over budget (tests/bench/src/sizes.rs):\n  {}",
        problems.join("\n  ")
    );
}
