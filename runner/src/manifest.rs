//! Loading `spin.toml` (manifest version 2) and `runtime-config.toml`.
//!
//! Only what a local `spin up` needs is modelled; `[component.<id>.build]`
//! and other tool sections are accepted and ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// A loaded and validated application.
#[derive(Debug, Clone)]
pub struct App {
    /// Directory holding `spin.toml`; relative paths in it resolve here.
    pub dir: PathBuf,
    pub name: String,
    /// `[application] version`; empty when the manifest has none (Spin
    /// 4.0.2 crates/manifest/src/schema/v2.rs defaults it to "").
    pub version: String,
    pub variables: BTreeMap<String, VariableDecl>,
    pub triggers: Vec<HttpTrigger>,
    pub components: BTreeMap<String, Component>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteConfig {
    /// A public route pattern such as `/api/...`.
    Route(String),
    /// Reachable only by service chaining.
    Private,
}

#[derive(Debug, Clone)]
pub struct HttpTrigger {
    pub route: RouteConfig,
    pub component: String,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    /// Absolute path of the `.wasm` file.
    pub source: PathBuf,
    pub files: Vec<FileMount>,
    /// Globs (matched against paths from the app directory) of files that
    /// directory and glob `files` entries leave out.
    pub exclude_files: Vec<String>,
    pub allowed_outbound_hosts: Vec<String>,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    /// Component variables: name -> template (may reference app variables).
    pub variables: BTreeMap<String, String>,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A glob pattern relative to the app directory; matches keep their relative path.
    Pattern(String),
    /// `{ source, destination }`: a file or directory placed at `destination`.
    Placement { source: String, destination: String },
}

// ---- raw TOML shapes ----

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    trigger: Option<toml::Table>,
    #[serde(flatten)]
    _rest: toml::Table,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: toml::Value,
    #[serde(flatten)]
    _rest: toml::Table,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Route(String),
    Private { private: bool },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    description: Option<String>,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    build: Option<toml::Value>,
    #[serde(default)]
    tool: Option<toml::Value>,
    #[serde(default)]
    dependencies: Option<toml::Table>,
    #[serde(default)]
    dependencies_inherit_configuration: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFile {
    Pattern(String),
    Placement { source: String, destination: String },
}

/// True for names Spin accepts as variable names: lower-case ASCII letters,
/// digits and underscores, starting with a letter.
pub fn is_valid_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_valid_component_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && id
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Parse manifest text. `dir` is where relative paths resolve.
pub fn parse_manifest(text: &str, dir: &Path) -> Result<App> {
    let raw: RawManifest = toml::from_str(text).context("invalid spin.toml")?;
    match raw.spin_manifest_version {
        toml::Value::Integer(2) => {}
        toml::Value::String(ref s) if s == "2" => {}
        other => bail!("unsupported spin_manifest_version {other}: the runner reads manifest version 2"),
    }
    if let Some(t) = &raw.application.trigger {
        if let Some(http) = t.get("http").and_then(|h| h.as_table()) {
            if let Some(base) = http.get("base").and_then(|b| b.as_str()) {
                if !base.trim_end_matches('/').is_empty() {
                    bail!("[application.trigger.http] base {base:?} is not supported by the runner (only \"/\")");
                }
            }
        }
    }
    if let Some(kind) = raw.trigger.other.keys().next() {
        bail!("trigger type {kind:?} is not supported by the runner (only [[trigger.http]])");
    }
    for (name, decl) in &raw.variables {
        if !is_valid_variable_name(name) {
            bail!("invalid variable name {name:?}: use lower-case letters, digits and underscores, starting with a letter");
        }
        if decl.required && decl.default.is_some() {
            bail!("variable {name:?} is both required and has a default");
        }
    }

    let mut components = BTreeMap::new();
    for (id, rc) in raw.component {
        if !is_valid_component_id(&id) {
            bail!("invalid component id {id:?}: use lower-case kebab-case");
        }
        let source = match &rc.source {
            toml::Value::String(s) => dir.join(s),
            _ => bail!("component {id:?}: only a local file `source` is supported by the runner"),
        };
        if !rc.allowed_http_hosts.is_empty() {
            bail!("component {id:?}: `allowed_http_hosts` is not valid in manifest version 2, use `allowed_outbound_hosts`");
        }
        for name in rc.variables.keys() {
            if !is_valid_variable_name(name) {
                bail!("component {id:?}: invalid variable name {name:?}");
            }
        }
        let files = rc
            .files
            .into_iter()
            .map(|f| match f {
                RawFile::Pattern(p) => FileMount::Pattern(p),
                RawFile::Placement { source, destination } => FileMount::Placement { source, destination },
            })
            .collect();
        let _ = (&rc.description, &rc.ai_models, &rc.build, &rc.tool);
        let _ = (&rc.dependencies, &rc.dependencies_inherit_configuration);
        components.insert(
            id.clone(),
            Component {
                id,
                source,
                files,
                exclude_files: rc.exclude_files,
                allowed_outbound_hosts: rc.allowed_outbound_hosts,
                key_value_stores: rc.key_value_stores,
                sqlite_databases: rc.sqlite_databases,
                variables: rc.variables,
                environment: rc.environment,
            },
        );
    }

    let mut triggers = Vec::new();
    for t in raw.trigger.http {
        let component = match t.component {
            toml::Value::String(s) => s,
            _ => bail!(
                "[[trigger.http]]: `component` must name a [component.<id>] (inline components are not supported)"
            ),
        };
        if !components.contains_key(&component) {
            bail!("[[trigger.http]] refers to component {component:?}, which is not defined");
        }
        let route = match t.route {
            RawRoute::Route(r) => RouteConfig::Route(r),
            RawRoute::Private { private: true } => RouteConfig::Private,
            RawRoute::Private { private: false } => {
                bail!("route must be a string pattern or {{ private = true }}: component {component:?} has {{ private = false }}")
            }
        };
        triggers.push(HttpTrigger { route, component });
    }
    Ok(App {
        dir: dir.to_path_buf(),
        name: raw.application.name,
        version: raw.application.version,
        variables: raw.variables,
        triggers,
        components,
    })
}

/// Load and parse the manifest at `path`. The app directory is the
/// manifest's directory made absolute with `.` and `..` folded lexically
/// (symlinks are not resolved), as Spin 4.0.2 crates/loader/src/local.rs
/// `safe_canonicalize` does; `files` sources are judged against it.
pub fn load_manifest(path: &Path) -> Result<App> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read manifest {}", path.display()))?;
    let path = crate::files::normalize(&std::path::absolute(path)?);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    parse_manifest(&text, &dir).with_context(|| format!("manifest {}", path.display()))
}

/// Check that every component's `.wasm` exists.
pub fn check_sources(app: &App) -> Result<()> {
    for c in app.components.values() {
        if !c.source.is_file() {
            bail!(
                "component {:?}: source {} does not exist; build the app first (for example `cargo xtask build` or `spin build`)",
                c.id,
                c.source.display()
            );
        }
    }
    Ok(())
}

/// Where a labelled store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    InMemory,
    Path(PathBuf),
}

/// Resolved `runtime-config.toml` plus the defaults Spin adds.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub key_value: BTreeMap<String, StoreLocation>,
    pub sqlite: BTreeMap<String, StoreLocation>,
    pub state_dir: PathBuf,
}

#[derive(Deserialize)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    path: Option<PathBuf>,
    #[serde(flatten)]
    _rest: toml::Table,
}

/// Resolve runtime config the way Spin does:
/// - key-value `path`s relative to the runtime config file's directory,
/// - SQLite `path`s relative to the current working directory,
/// - a missing `path` means an in-memory store,
/// - `default` stores live in the state directory unless configured.
pub fn resolve_runtime_config(
    text: Option<&str>,
    config_path: Option<&Path>,
    state_dir: Option<&Path>,
    app_dir: &Path,
) -> Result<RuntimeConfig> {
    let table: toml::Table = match text {
        Some(t) => toml::from_str(t).context("invalid runtime config")?,
        None => toml::Table::new(),
    };
    let state_dir = match (state_dir, table.get("state_dir").and_then(|v| v.as_str())) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(d)) => app_dir.join(d),
        (None, None) => app_dir.join(".spin"),
    };
    let config_dir = config_path.and_then(Path::parent).map(Path::to_path_buf);
    let cwd = std::env::current_dir()?;
    let mut key_value = BTreeMap::new();
    let mut sqlite = BTreeMap::new();
    for (section, value) in &table {
        match section.as_str() {
            "key_value_store" | "sqlite_database" => {
                let stores: BTreeMap<String, RawStore> =
                    value.clone().try_into().with_context(|| format!("invalid [{section}.<label>] table"))?;
                for (label, store) in stores {
                    if store.kind != "spin" {
                        bail!(
                            "[{section}.{label}]: type {:?} is not supported by the runner (only \"spin\")",
                            store.kind
                        );
                    }
                    let base = if section == "key_value_store" { config_dir.clone() } else { Some(cwd.clone()) };
                    let loc = match (store.path, base) {
                        (Some(p), _) if p.is_absolute() => StoreLocation::Path(p),
                        (Some(p), Some(b)) => StoreLocation::Path(b.join(p)),
                        (Some(p), None) => StoreLocation::Path(p),
                        (None, _) => StoreLocation::InMemory,
                    };
                    if section == "key_value_store" {
                        key_value.insert(label, loc)
                    } else {
                        sqlite.insert(label, loc)
                    };
                }
            }
            "state_dir" | "log_dir" => {}
            other => bail!("runtime config section [{other}] is not supported by the runner"),
        }
    }
    key_value
        .entry("default".to_string())
        .or_insert_with(|| StoreLocation::Path(state_dir.join("sqlite_key_value.db")));
    sqlite.entry("default".to_string()).or_insert_with(|| StoreLocation::Path(state_dir.join("sqlite_db.db")));
    Ok(RuntimeConfig { key_value, sqlite, state_dir })
}

/// Every label a component asks for must be backed by a store.
pub fn check_labels(app: &App, rc: &RuntimeConfig) -> Result<()> {
    for c in app.components.values() {
        for label in &c.key_value_stores {
            if !rc.key_value.contains_key(label) {
                bail!(
                    "component {:?} uses key-value store {label:?}, which is not `default` and not defined in the runtime config ([key_value_store.{label}])",
                    c.id
                );
            }
        }
        for label in &c.sqlite_databases {
            if !rc.sqlite.contains_key(label) {
                bail!(
                    "component {:?} uses SQLite database {label:?}, which is not `default` and not defined in the runtime config ([sqlite_database.{label}])",
                    c.id
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = { private = true }
component = "worker"
[component.api]
source = "target/api.wasm"
files = ["static/**/*", { source = "assets", destination = "/assets" }]
allowed_outbound_hosts = ["http://worker.spin.internal"]
key_value_stores = ["default"]
[component.api.variables]
message = "{{ greeting }} there"
[component.api.build]
command = "cargo build"
[component.worker]
source = "target/worker.wasm"
"#;

    #[test]
    fn parses_a_full_manifest() {
        let app = parse_manifest(GOOD, Path::new("/app")).unwrap();
        assert_eq!(app.name, "demo");
        assert_eq!(app.triggers.len(), 2);
        assert_eq!(app.triggers[1].route, RouteConfig::Private);
        let api = &app.components["api"];
        assert_eq!(api.source, Path::new("/app/target/api.wasm"));
        assert_eq!(api.files.len(), 2);
        assert_eq!(api.variables["message"], "{{ greeting }} there");
        assert!(app.variables["token"].secret);
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse_manifest(text, Path::new("/app")).unwrap_err())
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(err("spin_manifest_version = 1\n[application]\nname='x'").contains("version"));
        assert!(err("this is not toml").contains("invalid spin.toml"));
        let unknown =
            "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.http]]\nroute='/'\ncomponent='nope'";
        assert!(err(unknown).contains("not defined"));
        let bad_var = "spin_manifest_version = 2\n[application]\nname='x'\n[variables]\nBad = { default = 'x' }";
        assert!(err(bad_var).contains("invalid variable name"));
        let both =
            "spin_manifest_version = 2\n[application]\nname='x'\n[variables]\nv = { default = 'x', required = true }";
        assert!(err(both).contains("both required"));
        let not_private = "spin_manifest_version = 2\n[application]\nname='x'\n[[trigger.http]]\nroute={ private = false }\ncomponent='a'\n[component.a]\nsource='a.wasm'";
        assert!(err(not_private).contains("private = true"));
        let unknown_field =
            "spin_manifest_version = 2\n[application]\nname='x'\n[component.a]\nsource='a.wasm'\nsqlite_database=['x']";
        assert!(err(unknown_field).contains("unknown field"));
    }

    #[test]
    fn missing_wasm_names_the_path() {
        let app = parse_manifest(GOOD, Path::new("/nonexistent-dir")).unwrap();
        let e = check_sources(&app).unwrap_err().to_string();
        assert!(e.contains("/nonexistent-dir/target/"), "{e}");
        assert!(e.contains("build"), "{e}");
    }

    #[test]
    fn runtime_config_paths_resolve_like_spin() {
        let text = "[key_value_store.holds]\ntype='spin'\npath='kv/holds.db'\n[sqlite_database.bookings]\ntype='spin'\npath='db/b.db'\n[key_value_store.mem]\ntype='spin'";
        let rc = resolve_runtime_config(Some(text), Some(Path::new("/cfg/rc.toml")), None, Path::new("/app")).unwrap();
        assert_eq!(rc.key_value["holds"], StoreLocation::Path("/cfg/kv/holds.db".into()));
        assert_eq!(rc.key_value["mem"], StoreLocation::InMemory);
        assert_eq!(rc.key_value["default"], StoreLocation::Path("/app/.spin/sqlite_key_value.db".into()));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(rc.sqlite["bookings"], StoreLocation::Path(cwd.join("db/b.db")));
        assert_eq!(rc.sqlite["default"], StoreLocation::Path("/app/.spin/sqlite_db.db".into()));
        let rc = resolve_runtime_config(None, None, Some(Path::new("/state")), Path::new("/app")).unwrap();
        assert_eq!(rc.sqlite["default"], StoreLocation::Path("/state/sqlite_db.db".into()));
        assert!(resolve_runtime_config(Some("[key_value_store.x]\ntype='redis'"), None, None, Path::new("/a")).is_err());
    }

    #[test]
    fn unknown_labels_are_startup_errors() {
        let mut app = parse_manifest(GOOD, Path::new("/app")).unwrap();
        let rc = resolve_runtime_config(None, None, None, Path::new("/app")).unwrap();
        check_labels(&app, &rc).unwrap();
        app.components.get_mut("api").unwrap().sqlite_databases.push("bookings".into());
        let e = check_labels(&app, &rc).unwrap_err().to_string();
        assert!(e.contains("\"bookings\""), "{e}");
    }
}
