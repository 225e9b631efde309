//! The app's components as deployed: cargo's `.wasm` with Binaryen's
//! `wasm-opt -Oz` run over its core modules (issue 18, "small components").
//!
//! LLVM's size-optimized output still carries code that a whole-module
//! WebAssembly optimizer removes: duplicate functions, redundant locals and
//! blocks, dead code after inlining. On events' core module `wasm-opt -Oz`
//! took 1.64 MB to 1.31 MB (README, "Component sizes"). Binaryen reads core
//! modules only, so each core module section of the component is
//! optimized on its own and put back in place; every other section (the
//! component's types, imports, exports and instances, which name the core
//! module's imports and exports, which wasm-opt keeps) is copied as it is.
//! The result is validated before it is written.
//!
//! `target/wasm32-wasip2/wasm/<name>.wasm` (cargo's output, re-linked by
//! every cargo build) → `target/app/<name>.wasm` (what `spin.toml` names),
//! redone only when cargo's file is newer. `wasm-opt` is the npm package
//! `binaryen` pinned in `xtask/wasm-opt/package.json`, installed there with
//! `npm ci` on first use (needs Node.js and npm, as the browser tests do).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where cargo leaves the components (the `wasm` profile).
pub const CARGO_OUT: &str = "target/wasm32-wasip2/wasm";
/// Where the optimized components go: the folder of `spin.toml`'s sources.
pub const APP_OUT: &str = "target/app";

/// Core modules smaller than this are copied as they are: the shims
/// wit-component adds (a few hundred bytes of table and import glue) gain
/// nothing.
const MIN_MODULE_BYTES: usize = 16 * 1024;

/// The WebAssembly features rustc enables for `wasm32-wasip2` (the Rust
/// 1.82+ defaults): wasm-opt must accept them and may use no others.
const FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// Writes `target/app/<stem>.wasm` for each of `stems` (file stems of
/// cargo's output, `events` for `events.wasm`) whose optimized file is
/// missing or older than cargo's, two at a time (the CI box has two cores).
///
/// Errors: cargo's file missing, wasm-opt not installable or failing, or
/// an invalid result (nothing is written then).
pub fn optimize_all(root: &Path, stems: &[String]) -> Result<(), String> {
    let stale: Vec<&String> = stems.iter().filter(|s| is_stale(root, s)).collect();
    if stale.is_empty() {
        return Ok(());
    }
    let bin = wasm_opt(root)?;
    std::fs::create_dir_all(root.join(APP_OUT)).map_err(|e| format!("{APP_OUT}: {e}"))?;
    let started = std::time::Instant::now();
    let queue = std::sync::Mutex::new(stale.into_iter());
    let failures = std::sync::Mutex::new(Vec::new());
    // the guard is dropped inside `and_then`: the queue is locked only to take one
    let next = || queue.lock().ok().and_then(|mut q| q.next());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(stem) = next() {
                    if let Err(e) = optimize(root, &bin, stem) {
                        if let Ok(mut f) = failures.lock() {
                            f.push(format!("{stem}: {e}"));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    eprintln!("xtask: wasm-opt -Oz done in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn cargo_file(root: &Path, stem: &str) -> PathBuf {
    root.join(CARGO_OUT).join(format!("{stem}.wasm"))
}

fn app_file(root: &Path, stem: &str) -> PathBuf {
    root.join(APP_OUT).join(format!("{stem}.wasm"))
}

/// Whether `target/app/<stem>.wasm` is missing or older than cargo's file.
fn is_stale(root: &Path, stem: &str) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(cargo_file(root, stem)), modified(app_file(root, stem))) {
        (Some(input), Some(output)) => output <= input,
        _ => true,
    }
}

/// `xtask/wasm-opt/node_modules/.bin/wasm-opt`, installed with `npm ci`
/// when it is missing or not the pinned version.
fn wasm_opt(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("xtask/wasm-opt");
    let bin = dir.join("node_modules/.bin/wasm-opt");
    let text = std::fs::read_to_string(dir.join("package.json")).map_err(|e| format!("xtask/wasm-opt: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("xtask/wasm-opt/package.json: {e}"))?;
    let pinned = doc.pointer("/devDependencies/binaryen").and_then(|v| v.as_str()).unwrap_or_default();
    // `wasm-opt version 132 (version_132)` for binaryen 132.0.0
    let major = pinned.split('.').next().unwrap_or_default();
    let version = Command::new(&bin).arg("--version").output().ok();
    let installed = version.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    if !installed.split_whitespace().any(|w| w == major) {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir).args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        crate::run(&mut npm)
            .map_err(|e| format!("installing binaryen {pinned} into xtask/wasm-opt (needs Node.js and npm): {e}"))?;
    }
    Ok(bin)
}

/// One component: each large core module through `wasm-opt`, the rest
/// copied, the result validated and written.
fn optimize(root: &Path, bin: &Path, stem: &str) -> Result<(), String> {
    let input = cargo_file(root, stem);
    let bytes = std::fs::read(&input).map_err(|e| format!("{}: {e} (build it first)", input.display()))?;
    let scratch = root.join(APP_OUT).join(format!(".{stem}"));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let out = rebuild(&bytes, |i, module| {
        if module.len() < MIN_MODULE_BYTES {
            return Ok(module.to_vec());
        }
        let (from, to) = (scratch.join(format!("{i}.in.wasm")), scratch.join(format!("{i}.out.wasm")));
        std::fs::write(&from, module).map_err(|e| format!("{}: {e}", from.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("-Oz").args(FEATURES).arg(&from).arg("-o").arg(&to);
        if has_names(module) {
            cmd.arg("--debuginfo"); // a build that kept its names keeps them (README, "names stripped")
        }
        let o = cmd.output().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        if !o.status.success() {
            return Err(format!("wasm-opt failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim()));
        }
        std::fs::read(&to).map_err(|e| format!("{}: {e}", to.display()))
    })?;
    let _ = std::fs::remove_dir_all(&scratch);
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .map_err(|e| format!("the optimized component does not validate: {e}"))?;
    let target = app_file(root, stem);
    let tmp = target.with_extension("wasm.tmp");
    std::fs::write(&tmp, &out).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    eprintln!("xtask: {stem}.wasm {} -> {} bytes (wasm-opt -Oz)", bytes.len(), out.len());
    Ok(())
}

/// Whether core module `module` carries a `name` section (a build with
/// `CARGO_PROFILE_WASM_STRIP=debuginfo`, for traps and profiles that name
/// functions): wasm-opt drops it unless told to keep it.
fn has_names(module: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .any(|p| matches!(p, Ok(wasmparser::Payload::CustomSection(c)) if c.name() == "name"))
}

/// `component` with each top-level core module section's module replaced
/// by `module(index, bytes)`, every other section copied byte for byte.
///
/// Errors: a component that does not parse, or `module`'s error.
fn rebuild(
    component: &[u8],
    mut module: impl FnMut(usize, &[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    use wasmparser::{Parser, Payload};
    let mut out = wasm_encoder::Component::new();
    let mut modules = 0;
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        let payload = payload.map_err(|e| format!("not a component: {e}"))?;
        // `parse_all` also walks into nested modules and components: only
        // the top level's sections are copied, each once
        match &payload {
            Payload::Version { .. } => {
                depth += 1;
                continue;
            }
            Payload::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ if depth > 1 => continue,
            _ => {}
        }
        match payload {
            Payload::ModuleSection { unchecked_range, .. } => {
                let optimized = module(modules, &component[unchecked_range])?;
                modules += 1;
                out.section(&wasm_encoder::RawSection {
                    id: wasm_encoder::ComponentSectionId::CoreModule as u8,
                    data: &optimized,
                });
            }
            p => {
                if let Some((id, range)) = p.as_section() {
                    out.section(&wasm_encoder::RawSection { id, data: &component[range] });
                }
            }
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component with one core module and a custom section, as bytes.
    fn sample() -> Vec<u8> {
        let mut core = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        core.section(&types);
        let mut c = wasm_encoder::Component::new();
        c.section(&wasm_encoder::ModuleSection(&core));
        c.section(&wasm_encoder::CustomSection { name: "note".into(), data: b"kept".as_slice().into() });
        c.finish()
    }

    #[test]
    fn rebuilding_with_the_same_modules_is_byte_identical() {
        let bytes = sample();
        let mut seen = 0;
        let out = rebuild(&bytes, |_, m| {
            seen += 1;
            Ok(m.to_vec())
        })
        .unwrap();
        assert_eq!(seen, 1);
        assert_eq!(out, bytes);
    }

    #[test]
    fn a_replaced_module_lands_in_its_section() {
        let bytes = sample();
        let empty = wasm_encoder::Module::new().finish();
        let out = rebuild(&bytes, |_, _| Ok(empty.clone())).unwrap();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all()).validate_all(&out).unwrap();
        assert!(out.len() < bytes.len());
        assert!(out.windows(4).any(|w| w == b"kept"), "the custom section is copied");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(rebuild(b"not wasm", |_, m| Ok(m.to_vec())).is_err());
    }
}
