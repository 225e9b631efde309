//! The `users` database: its label, migrations and `open()`.

use platform::db::Migration;

/// The SQLite database label of this component.
pub const DB: &str = "users";

/// Schema migrations, applied on open.
pub const MIGRATIONS: &[Migration] =
    &[Migration { version: 1, name: "profiles", sql: include_str!("../../../sql/users/0001_profiles.sql") }];

/// Opens the `users` database, applying its migrations and the saga
/// outbox tables.
pub fn open() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}
