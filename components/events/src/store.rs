//! The `events` database: connection, migrations, and small helpers to bind
//! and read values.

use platform::db::Migration;
use spin_sdk::sqlite3::{Connection, Value};

/// SQLite label of the catalogue (spin.toml `sqlite_databases`).
pub const DB: &str = "events";

/// Migrations of the catalogue, in order (`sql/events/`), and the
/// platform's Idempotency-Key table.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "catalogue", sql: include_str!("../../../sql/events/0001_catalogue.sql") },
    Migration {
        version: 2,
        name: "venues_by_owner",
        sql: include_str!("../../../sql/events/0002_venues_by_owner.sql"),
    },
    Migration {
        version: 3,
        name: "venues_external_by_owner",
        sql: include_str!("../../../sql/events/0003_venues_external_by_owner.sql"),
    },
    Migration { version: 4, name: "event_staff", sql: include_str!("../../../sql/events/0004_event_staff.sql") },
    Migration { version: 5, name: "stage_label", sql: include_str!("../../../sql/events/0005_stage_label.sql") },
    platform::idempotency::MIGRATION,
];

/// Opens the catalogue database, applying pending migrations (the
/// catalogue's, then the saga outbox tables).
pub fn open() -> Result<Connection, platform::ApiError> {
    Ok(saga::open(DB, MIGRATIONS)?)
}

/// A text parameter.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// An integer parameter.
pub fn int(n: i64) -> Value {
    Value::Integer(n)
}

/// A nullable integer parameter.
pub fn opt_int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, Value::Integer)
}

/// A nullable text parameter.
pub fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::Text(s.to_string()))
}

/// A nullable real parameter.
pub fn opt_real(f: Option<f64>) -> Value {
    f.map_or(Value::Null, Value::Real)
}

/// Reads column `name` of `row` as owned text ("" when NULL).
pub fn s(row: &spin_sdk::sqlite3::Row<'_>, name: &str) -> String {
    row.get::<&str>(name).unwrap_or_default().to_string()
}

/// Reads column `name` as optional text.
pub fn os(row: &spin_sdk::sqlite3::Row<'_>, name: &str) -> Option<String> {
    row.get::<&str>(name).map(str::to_string)
}

/// Reads column `name` as an integer (0 when NULL).
pub fn i(row: &spin_sdk::sqlite3::Row<'_>, name: &str) -> i64 {
    row.get::<i64>(name).unwrap_or_default()
}

/// Reads column `name` as an optional integer.
pub fn oi(row: &spin_sdk::sqlite3::Row<'_>, name: &str) -> Option<i64> {
    row.get::<i64>(name)
}

/// Reads column `name` as an optional real (integers widen).
pub fn of(row: &spin_sdk::sqlite3::Row<'_>, name: &str) -> Option<f64> {
    row.get::<f64>(name).or_else(|| row.get::<i64>(name).map(|n| n as f64))
}
