//! `GET <prefix>/health` (docs/DESIGN.md §6): 200 when every dependency answers,
//! 503 otherwise, with what was checked:
//!
//! ```json
//! {"status":"ok","component":"booking","checks":[{"name":"sqlite:bookings","ok":true},{"name":"kv:holds","ok":true}]}
//! ```

use serde::Serialize;
use spin_sdk::http::Response;

/// Result of checking one dependency.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `sqlite:<label>`, `kv:<label>`, `variable:<name>`...
    pub name: String,
    /// Whether it answered.
    pub ok: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks SQLite database `label` by opening it and running `SELECT 1`.
pub fn sqlite(label: &str) -> Check {
    let result = spin_sdk::sqlite3::Connection::open(label).and_then(|c| c.execute("SELECT 1", &[]).map(|_| ()));
    Check { name: format!("sqlite:{label}"), ok: result.is_ok(), error: result.err().map(|e| format!("{e:?}")) }
}

/// Checks key-value store `label` by opening it and probing a key.
pub fn kv(label: &str) -> Check {
    let result = spin_sdk::key_value::Store::open(label).and_then(|s| s.exists("health:probe").map(|_| ()));
    Check { name: format!("kv:{label}"), ok: result.is_ok(), error: result.err().map(|e| format!("{e:?}")) }
}

/// Checks SQLite database `label` as [`sqlite`] does and, when it answers,
/// that the component's migrations apply: `open` is the component's own
/// open-and-migrate function, its error text reported as check
/// `migrations`. Returns one check, or two when the migrations fail.
pub fn sqlite_migrated<T>(label: &str, open: impl FnOnce() -> Result<T, String>) -> Vec<Check> {
    let mut checks = vec![sqlite(label)];
    if checks[0].ok {
        if let Err(e) = open() {
            checks.push(Check { name: "migrations".into(), ok: false, error: Some(e) });
        }
    }
    checks
}

/// The health answer for `component` given its checks.
pub fn respond(component: &str, checks: Vec<Check>) -> Response {
    let all_ok = checks.iter().all(|c| c.ok);
    let body = serde_json::json!({
        "status": if all_ok { "ok" } else { "degraded" },
        "component": component,
        "checks": checks,
    });
    crate::web::json(if all_ok { 200 } else { 503 }, &body)
}
