//! The `auth` database: its label, migrations and `open()`.

use platform::db::Migration;

/// The SQLite database label of this component.
pub const DB: &str = "auth";

/// Schema migrations, applied on open.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "accounts", sql: include_str!("../../../sql/auth/0001_accounts.sql") },
    Migration { version: 2, name: "admin_bootstrap", sql: include_str!("../../../sql/auth/0002_admin_bootstrap.sql") },
    Migration { version: 3, name: "password_resets", sql: include_str!("../../../sql/auth/0003_password_resets.sql") },
    Migration {
        version: 4,
        name: "email_verification",
        sql: include_str!("../../../sql/auth/0004_email_verification.sql"),
    },
];

/// Opens the `auth` database, applying migrations (auth's and the saga
/// outbox's: password-reset and verification e-mails leave as saga events).
pub fn open() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}
