//! The `bookings` database: its label, booking's and the saga's
//! migrations, `open()`, and [`Sql`] (a connection that knows whether a
//! transaction is open on it).

use platform::db::Migration;
use platform::ApiResult;
use spin_sdk::sqlite3::Connection;

/// SQLite label.
pub const DB: &str = "bookings";

/// Booking's own migrations (`sql/booking/`) and the platform's
/// Idempotency-Key table.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "bookings", sql: include_str!("../../../sql/booking/0001_bookings.sql") },
    Migration { version: 2, name: "inventory", sql: include_str!("../../../sql/booking/0002_inventory.sql") },
    Migration { version: 3, name: "schedule", sql: include_str!("../../../sql/booking/0003_schedule.sql") },
    Migration {
        version: 4,
        name: "cancelled_tickets",
        sql: include_str!("../../../sql/booking/0004_cancelled_tickets.sql"),
    },
    Migration { version: 5, name: "venue", sql: include_str!("../../../sql/booking/0005_venue.sql") },
    platform::idempotency::MIGRATION,
];

/// Opens the database (migrating on first use).
pub fn open() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}

/// A connection, and whether a transaction is already open on it (a
/// saga handler runs inside the inbox's): code that must change several
/// rows together asks [`Sql::atomically`], which opens a transaction
/// only when there is none.
#[derive(Clone, Copy)]
pub struct Sql<'a> {
    /// The connection.
    pub conn: &'a Connection,
    in_tx: bool,
}

impl<'a> Sql<'a> {
    /// `conn` with no transaction open.
    pub fn top(conn: &'a Connection) -> Sql<'a> {
        Sql { conn, in_tx: false }
    }

    /// `conn` inside the caller's transaction.
    pub fn nested(conn: &'a Connection) -> Sql<'a> {
        Sql { conn, in_tx: true }
    }

    /// Runs `f` atomically: in a new `BEGIN IMMEDIATE` transaction, or
    /// in the caller's.
    pub fn atomically<T>(&self, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        if self.in_tx {
            f(self.conn)
        } else {
            platform::db::transaction(self.conn, f)
        }
    }
}
