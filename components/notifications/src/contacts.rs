//! Who to tell about a booking: what its `BookingOrdered`,
//! `BookingConfirmed` and `TicketsIssued` said (account, event title,
//! start, zone), kept in `booking_contacts` for the later events that
//! carry only the booking id.

use platform::ApiResult;
use spin_sdk::sqlite3::{Connection, Value};

/// The [`ContactUpdate`] of a payload with the members of one
/// (`BookingOrdered`, `BookingConfirmed`, `TicketsIssued`).
macro_rules! contact_of {
    ($p:expr, $confirmed:expr) => {
        ContactUpdate {
            booking_id: &$p.booking_id,
            user_id: &$p.user_id,
            event_id: &$p.event_id,
            event_title: &$p.event_title,
            starts_at: &$p.starts_at,
            timezone: &$p.timezone,
            confirmed: $confirmed,
        }
    };
}
pub(crate) use contact_of;

/// What a booking's events say about it, kept in `booking_contacts`.
pub struct ContactUpdate<'a> {
    pub booking_id: &'a str,
    pub user_id: &'a str,
    pub event_id: &'a str,
    pub event_title: &'a str,
    pub starts_at: &'a str,
    pub timezone: &'a str,
    pub confirmed: bool,
}

/// What is known about a booking's buyer.
#[derive(Debug, Clone, Default)]
pub struct BookingContact {
    pub booking_id: String,
    pub user_id: String,
    pub event_title: Option<String>,
    pub starts_at: Option<String>,
    pub timezone: Option<String>,
}

pub const UPSERT_CONTACT: &str = "INSERT INTO booking_contacts (booking_id, user_id, event_id, email, name, event_title, starts_at, timezone, confirmed, updated_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(booking_id) DO UPDATE SET \
     event_id = COALESCE(excluded.event_id, event_id), email = COALESCE(excluded.email, email), name = COALESCE(excluded.name, name), \
     event_title = COALESCE(excluded.event_title, event_title), starts_at = COALESCE(excluded.starts_at, starts_at), \
     timezone = COALESCE(excluded.timezone, timezone), confirmed = MAX(confirmed, excluded.confirmed), updated_ms = excluded.updated_ms";

pub const CONTACT: &str =
    "SELECT booking_id, user_id, event_title, starts_at, timezone FROM booking_contacts WHERE booking_id = ?";

pub const CONTACTS_OF_EVENT: &str =
    "SELECT booking_id, user_id, event_title, starts_at, timezone FROM booking_contacts \
     WHERE event_id = ? AND confirmed = 1 ORDER BY booking_id LIMIT 10000";

pub const MOVE_CONTACT: &str = "UPDATE booking_contacts SET starts_at = ?, schedule_version = ?, updated_ms = ? \
     WHERE booking_id = ? AND schedule_version < ? RETURNING booking_id";

pub fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

pub fn o(s: Option<&str>) -> Value {
    s.map(t).unwrap_or(Value::Null)
}

pub fn contacts(conn: &Connection, sql: &str, key: &str) -> Result<Vec<BookingContact>, spin_sdk::sqlite3::Error> {
    let rs = conn.execute(sql, &[t(key)])?;
    let s = |r: &spin_sdk::sqlite3::Row<'_>, c: &str| r.get::<&str>(c).map(str::to_string);
    Ok(rs
        .rows()
        .map(|r| BookingContact {
            booking_id: s(&r, "booking_id").unwrap_or_default(),
            user_id: s(&r, "user_id").unwrap_or_default(),
            event_title: s(&r, "event_title"),
            starts_at: s(&r, "starts_at"),
            timezone: s(&r, "timezone"),
        })
        .collect())
}

pub fn upsert_contact(conn: &Connection, u: &ContactUpdate<'_>) -> ApiResult<()> {
    let some = |v: &str| if v.is_empty() { Value::Null } else { t(v) };
    conn.execute(
        UPSERT_CONTACT,
        &[
            t(u.booking_id),
            t(u.user_id),
            some(u.event_id),
            // the booking's free-text buyer e-mail and name are not kept:
            // mail goes to the account's own address ([`Lookups::email`])
            Value::Null,
            Value::Null,
            some(u.event_title),
            some(u.starts_at),
            some(u.timezone),
            Value::Integer(i64::from(u.confirmed)),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(())
}
