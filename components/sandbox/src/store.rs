//! The `sandbox` database: its label, migrations and `open()`.

use platform::db::Migration;

/// The SQLite database label of this component.
pub const DB: &str = "sandbox";

/// Schema migrations (later providers add later-numbered files).
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "payments", sql: include_str!("../../../sql/sandbox/0001_payments.sql") },
    Migration { version: 2, name: "webhook_queue", sql: include_str!("../../../sql/sandbox/0002_webhook_queue.sql") },
    Migration {
        version: 3,
        name: "payment_throttle",
        sql: include_str!("../../../sql/sandbox/0003_payment_throttle.sql"),
    },
    Migration { version: 10, name: "email", sql: include_str!("../../../sql/sandbox/0010_email.sql") },
    Migration {
        version: 11,
        name: "email_retry_after",
        sql: include_str!("../../../sql/sandbox/0011_email_retry_after.sql"),
    },
];

/// Opens the sandbox database, applying migrations.
pub fn open() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(platform::db::open(DB, MIGRATIONS)?)
}
