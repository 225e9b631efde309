//! The notifications database.

use platform::db::Migration;
use spin_sdk::sqlite3::Connection;

/// SQLite label.
pub const DB: &str = "notifications";

/// Migrations of `sql/notifications/`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "notifications",
        sql: include_str!("../../../sql/notifications/0001_notifications.sql"),
    },
    Migration { version: 2, name: "schedule", sql: include_str!("../../../sql/notifications/0002_schedule.sql") },
    Migration { version: 3, name: "local_times", sql: include_str!("../../../sql/notifications/0003_local_times.sql") },
];

/// Opens the database with this component's and the saga's tables.
pub fn open() -> platform::ApiResult<Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}
