//! `files` mounts: what a component sees in its read-only filesystem.
//!
//! The runner does what `spin up` does by default (Spin 4.0.2
//! crates/loader/src/local.rs, `FilesMountStrategy::Copy`): every file a
//! component's `files` entries name is copied into one directory of the
//! component's own (here `<state>/files/<id>`), which is mounted read-only
//! at `/`. Only files are copied (an empty directory is not there), symlinks
//! are followed, and later changes to the sources are not seen.
//!
//! Where each file lands, with Spin's path arithmetic:
//!
//! * a pattern naming an existing file (`"a/b.txt"`) lands at that path;
//! * a pattern naming an existing directory (`"assets"`) copies the files
//!   below it to `assets/<their path from the app directory>`, so
//!   `assets/a.txt` is seen at `/assets/assets/a.txt` (Spin's quirk);
//! * a glob (`"assets/**/*"`) keeps each match's path from the app directory;
//! * `{ source, destination }`: a file lands at `destination`, a directory's
//!   files below `destination` (relative destinations are taken from `/`);
//! * `exclude_files` globs, matched against paths from the app directory,
//!   drop files found through directories and globs.
//!
//! Sources outside the application directory make the app fail to load. As
//! in Spin, "outside" is decided on paths, not on what they resolve to:
//! the joined path must start with the app directory component by component
//! (`Path::strip_prefix`). So an absolute source elsewhere is refused, while
//! a symlink inside the app directory pointing elsewhere is followed, and a
//! relative `..` path is accepted. A file whose place would fall outside the
//! component's directory (`"../x/*"`, whose matches Spin copies next to it)
//! is not visible to the component on Spin; the runner skips it.

use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::manifest::FileMount;

/// A host directory mounted read-only at a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    pub host: PathBuf,
    pub guest: String,
}

/// `path` with `.` and `..` folded away without touching the filesystem
/// (a `..` at the root stays at the root), as Spin's `path-absolutize` does.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Spin 4.0.2 crates/loader/src/local.rs `looks_like_glob_pattern`.
fn looks_like_glob(s: &str) -> bool {
    glob::Pattern::escape(s) != s
}

/// The copies of one component's files.
struct Copier<'a> {
    component: &'a str,
    app_root: &'a Path,
    root: &'a Path,
    exclude: Vec<glob::Pattern>,
}

impl Copier<'_> {
    fn pattern(&self, pattern: &str) -> Result<()> {
        if pattern == ".." || pattern.ends_with("/..") {
            bail!("files pattern {pattern:?} ends in a parent directory path (..): use {{ source, destination }} or a glob ending in **/*");
        }
        if pattern == "." || pattern.ends_with("/.") {
            bail!("files pattern {pattern:?} ends in a current directory path (.): use {{ source, destination }} or a glob ending in **/*");
        }
        let path = self.app_root.join(pattern);
        if path.exists() {
            let dest = self.root.join(pattern);
            if path.is_dir() {
                self.glob(&path.join("**/*"), self.app_root, &dest)
            } else {
                self.single(&path, &dest)
            }
        } else if looks_like_glob(pattern) {
            self.glob(&path, self.app_root, self.root)
        } else {
            bail!("files entry {pattern:?} does not exist and doesn't appear to be a glob pattern")
        }
    }

    fn placement(&self, source: &str, destination: &str) -> Result<()> {
        let src = self.app_root.join(source);
        let dest = self.root.join(destination.trim_start_matches('/'));
        let meta = std::fs::metadata(&src).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow!("files source {source:?} does not exist"),
            _ => anyhow!("files source {source:?}: {e}"),
        })?;
        if meta.is_dir() {
            self.glob(&src.join("**/*"), &src, &dest)
        } else {
            self.single(&src, &dest)
        }
    }

    /// Copy the files `pattern` matches, each to `dest_root` joined with its
    /// path from `src_prefix`.
    fn glob(&self, pattern: &Path, src_prefix: &Path, dest_root: &Path) -> Result<()> {
        let text = pattern.to_str().with_context(|| format!("non-UTF-8 files pattern {}", pattern.display()))?;
        let matches = glob::glob(text).with_context(|| format!("bad files pattern {text:?}"))?;
        for entry in matches {
            let src = entry?;
            if !src.is_file() {
                continue;
            }
            let Ok(from_app) = src.strip_prefix(self.app_root) else {
                bail!("{text} cannot be mapped because it is outside the application directory. Files must be within the application directory.");
            };
            if self.exclude.iter().any(|p| p.matches_path(from_app)) {
                continue;
            }
            let rel = src.strip_prefix(src_prefix)?;
            self.single(&src, &dest_root.join(rel))?;
        }
        Ok(())
    }

    fn single(&self, src: &Path, dest: &Path) -> Result<()> {
        if src.strip_prefix(self.app_root).is_err() {
            bail!(
                "{} cannot be mapped because it is outside the application directory {}. Files must be within the application directory.",
                src.display(),
                self.app_root.display()
            );
        }
        // Spin checks the place against the directory holding every
        // component's copies, by path: an absolute pattern lands outside it.
        let all_components = self.root.parent().unwrap_or(self.root);
        if dest.strip_prefix(all_components).is_err() {
            bail!("{} cannot be copied to {}: it is not below the files directory", src.display(), dest.display());
        }
        let dest = normalize(dest);
        if !dest.starts_with(self.root) {
            eprintln!(
                "warning: component {:?}: {} would be placed outside its files directory; Spin copies it where the component cannot see it, so the runner skips it",
                self.component,
                src.display()
            );
            return Ok(());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(src, &dest).with_context(|| format!("copying {} to {}", src.display(), dest.display()))?;
        Ok(())
    }
}

/// Copy the files of one component into `staging` (emptied first) and
/// return what to mount: nothing when `mounts` is empty, else `staging` at
/// `/`. `app_dir` must be absolute and normalized ([`normalize`]).
///
/// Errors, each making the app fail to load as on Spin: a source outside
/// `app_dir`, a pattern that names nothing and is no glob, a missing
/// `{ source }`, a pattern ending in `.` or `..`, a bad `exclude_files`
/// glob, a copy that fails. Each names the component.
pub fn prepare(
    component: &str,
    mounts: &[FileMount],
    exclude_files: &[String],
    app_dir: &Path,
    staging: &Path,
) -> Result<Vec<Preopen>> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).with_context(|| format!("emptying {}", staging.display()))?;
    }
    if mounts.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(staging).with_context(|| format!("creating {}", staging.display()))?;
    let staging = normalize(&std::path::absolute(staging)?);
    let exclude = exclude_files
        .iter()
        .map(|p| {
            glob::Pattern::new(p).with_context(|| format!("component {component:?}: invalid exclude_files glob {p:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let copier = Copier { component, app_root: app_dir, root: &staging, exclude };
    for m in mounts {
        match m {
            FileMount::Pattern(p) => copier.pattern(p),
            FileMount::Placement { source, destination } => copier.placement(source, destination),
        }
        .with_context(|| format!("component {component:?}: files"))?;
    }
    Ok(vec![Preopen { host: staging, guest: "/".into() }])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `root`, as sorted paths relative to it.
    fn files_under(root: &Path) -> Vec<String> {
        let mut out: Vec<String> = glob::glob(&format!("{}/**/*", root.display()))
            .unwrap()
            .map(|p| p.unwrap())
            .filter(|p| p.is_file())
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        out.sort();
        out
    }

    fn app() -> tempfile::TempDir {
        let app = tempfile::tempdir().unwrap();
        let write = |p: &str| {
            let p = app.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        };
        write("static/index.html");
        write("static/css/a.css");
        write("assets/a.txt");
        write("one.txt");
        std::fs::create_dir_all(app.path().join("assets/empty")).unwrap();
        app
    }

    fn staged(mounts: Vec<FileMount>, exclude: &[&str]) -> Result<Vec<String>> {
        let app = app();
        let stage = tempfile::tempdir().unwrap();
        let staging = stage.path().join("c");
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        let p = prepare("c", &mounts, &exclude, &normalize(app.path()), &staging)?;
        assert_eq!(p, vec![Preopen { host: staging.clone(), guest: "/".into() }]);
        Ok(files_under(&staging))
    }

    fn place(source: &str, destination: &str) -> FileMount {
        FileMount::Placement { source: source.into(), destination: destination.into() }
    }

    #[test]
    fn files_land_where_spin_puts_them() {
        let got = staged(
            vec![
                FileMount::Pattern("static/**/*".into()),
                place("assets", "/assets"),
                place("one.txt", "/etc/one.txt"),
                place("one.txt", "rel.txt"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(got, ["assets/a.txt", "etc/one.txt", "rel.txt", "static/css/a.css", "static/index.html"]);
        // A pattern naming a directory repeats its name, as in Spin.
        assert_eq!(staged(vec![FileMount::Pattern("assets".into())], &[]).unwrap(), ["assets/assets/a.txt"]);
        assert_eq!(staged(vec![FileMount::Pattern("one.txt".into())], &[]).unwrap(), ["one.txt"]);
        let excluded = staged(vec![FileMount::Pattern("static/**/*".into())], &["static/css/*"]).unwrap();
        assert_eq!(excluded, ["static/index.html"]);
        // A glob matching nothing still mounts an empty directory.
        assert!(staged(vec![FileMount::Pattern("nothing/*".into())], &[]).unwrap().is_empty());
    }

    #[test]
    fn sources_outside_the_app_directory_are_refused_by_path() {
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("o.txt"), "o").unwrap();
        let abs = elsewhere.path().display().to_string();
        let e = staged(vec![place(&abs, "/o")], &[]).unwrap_err();
        assert!(format!("{e:#}").contains("outside the application directory"), "{e:#}");
        let e = staged(vec![place(&format!("{abs}/o.txt"), "/o.txt")], &[]).unwrap_err();
        assert!(format!("{e:#}").contains("outside the application directory"), "{e:#}");
        assert!(staged(vec![FileMount::Pattern(format!("{abs}/*"))], &[]).is_err());
        // An absolute pattern naming a file is refused even inside the app
        // directory: Spin would copy it to that absolute path.
        let inside = app();
        let stage = tempfile::tempdir().unwrap();
        let one = FileMount::Pattern(inside.path().join("one.txt").display().to_string());
        assert!(prepare("c", &[one], &[], &normalize(inside.path()), &stage.path().join("c")).is_err());
        // Relative `..` paths start with the app directory: accepted, as in Spin.
        assert!(staged(vec![FileMount::Pattern("../*".into())], &[]).unwrap().is_empty());
    }

    #[test]
    fn missing_sources_and_dot_patterns_are_errors() {
        assert!(staged(vec![FileMount::Pattern("nothing".into())], &[]).is_err());
        assert!(staged(vec![place("nothing", "/n")], &[]).is_err());
        assert!(staged(vec![FileMount::Pattern("assets/..".into())], &[]).is_err());
        assert!(staged(vec![FileMount::Pattern(".".into())], &[]).is_err());
    }

    #[test]
    fn normalize_folds_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), Path::new("/a"));
    }
}
