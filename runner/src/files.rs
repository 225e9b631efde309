//! `files` mounts: what a component sees in its read-only filesystem.
//!
//! As in Spin: a `{ source = "dir", destination = "/d" }` placement of a
//! directory mounts that directory at `/d`; glob patterns (and placements of
//! single files) are copied into a staging directory which is mounted at `/`,
//! each file keeping its path relative to the app directory (or its
//! destination).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::manifest::FileMount;

/// A host directory mounted read-only at a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
}

fn copy_into(src: &Path, dest: &Path) -> Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dest)?;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            copy_into(&entry.path(), &dest.join(entry.file_name()))?;
        }
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(src, dest).with_context(|| format!("copying {}", src.display()))?;
    }
    Ok(())
}

/// Prepare the mounts of one component. `staging` is a directory the runner
/// owns for this component (emptied first).
pub fn prepare(component: &str, mounts: &[FileMount], app_dir: &Path, staging: &Path) -> Result<Vec<Preopen>> {
    let mut preopens = Vec::new();
    let mut staged_any = false;
    if staging.exists() {
        std::fs::remove_dir_all(staging)?;
    }
    for m in mounts {
        match m {
            FileMount::Placement { source, destination } => {
                let src = app_dir.join(source);
                if !destination.starts_with('/') {
                    bail!("component {component:?}: files destination {destination:?} must be an absolute path");
                }
                if src.is_dir() {
                    preopens.push(Preopen { host: src, guest: destination.clone() });
                } else if src.is_file() {
                    copy_into(&src, &staging.join(destination.trim_start_matches('/')))?;
                    staged_any = true;
                } else {
                    bail!("component {component:?}: files source {} does not exist", src.display());
                }
            }
            FileMount::Pattern(pattern) => {
                let full = app_dir.join(pattern);
                let full = full.to_str().context("non-UTF-8 path in files")?;
                let matches = glob::glob(full).with_context(|| format!("component {component:?}: bad files pattern {pattern:?}"))?;
                for entry in matches {
                    let path = entry?;
                    let rel = path.strip_prefix(app_dir).unwrap_or(&path).to_path_buf();
                    copy_into(&path, &staging.join(rel))?;
                    staged_any = true;
                }
            }
        }
    }
    if staged_any {
        preopens.insert(0, Preopen { host: staging.to_path_buf(), guest: "/".into() });
    }
    Ok(preopens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_staged_and_dirs_mounted() {
        let app = tempfile::tempdir().unwrap();
        let stage = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(app.path().join("static/css")).unwrap();
        std::fs::write(app.path().join("static/index.html"), "hi").unwrap();
        std::fs::write(app.path().join("static/css/a.css"), "a").unwrap();
        std::fs::create_dir_all(app.path().join("assets")).unwrap();
        std::fs::write(app.path().join("one.txt"), "1").unwrap();
        let mounts = vec![
            FileMount::Pattern("static/**/*".into()),
            FileMount::Placement { source: "assets".into(), destination: "/assets".into() },
            FileMount::Placement { source: "one.txt".into(), destination: "/etc/one.txt".into() },
        ];
        let staging = stage.path().join("c");
        let p = prepare("c", &mounts, app.path(), &staging).unwrap();
        assert_eq!(p[0], Preopen { host: staging.clone(), guest: "/".into() });
        assert_eq!(p[1], Preopen { host: app.path().join("assets"), guest: "/assets".into() });
        assert_eq!(std::fs::read_to_string(staging.join("static/css/a.css")).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(staging.join("etc/one.txt")).unwrap(), "1");
        let missing = vec![FileMount::Placement { source: "nope".into(), destination: "/x".into() }];
        assert!(prepare("c", &missing, app.path(), &staging).is_err());
    }
}
