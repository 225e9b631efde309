//! The tickets database: migrations, the row type and its JSON view.

use platform::db::Migration;
use serde_json::{json, Value as Json};
use spin_sdk::sqlite3::{Connection, Error, Row, Value};

/// SQLite label.
pub const DB: &str = "tickets";

/// Migrations of `sql/tickets/`.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "tickets", sql: include_str!("../../../sql/tickets/0001_tickets.sql") },
    Migration { version: 2, name: "sequence", sql: include_str!("../../../sql/tickets/0002_sequence.sql") },
    Migration { version: 3, name: "venue", sql: include_str!("../../../sql/tickets/0003_venue.sql") },
];

/// Opens the database with this component's and the saga's tables.
pub fn open() -> platform::ApiResult<Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}

/// Columns of [`Ticket`] in `SELECT`s and `RETURNING`.
pub const COLUMNS: &str =
    "id, booking_id, ordinal, user_id, event_id, event_title, starts_at_ms, timezone, attendee_name, \
     seat_id, tier_id, code, status, void_reason, voided_ms, checked_in_ms, checked_in_by, issued_ms, sequence, venue";

/// One ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub booking_id: String,
    pub ordinal: i64,
    pub user_id: String,
    pub event_id: String,
    pub event_title: String,
    pub starts_at_ms: i64,
    pub timezone: String,
    pub attendee_name: String,
    pub seat_id: Option<String>,
    pub tier_id: String,
    pub code: String,
    /// `valid` or `void`.
    pub status: String,
    pub void_reason: Option<String>,
    pub voided_ms: Option<i64>,
    pub checked_in_ms: Option<i64>,
    pub checked_in_by: Option<String>,
    pub issued_ms: i64,
    /// iCalendar `SEQUENCE`: the event version of its last move (0: never moved).
    pub sequence: i64,
    /// Where the event is, one line (empty on tickets issued before it was kept).
    pub venue: String,
}

fn s(r: &Row<'_>, c: &str) -> String {
    r.get::<&str>(c).unwrap_or_default().to_string()
}

impl Ticket {
    /// Reads a row selected with [`COLUMNS`].
    pub fn from_row(r: &Row<'_>) -> Ticket {
        Ticket {
            id: s(r, "id"),
            booking_id: s(r, "booking_id"),
            ordinal: r.get::<i64>("ordinal").unwrap_or_default(),
            user_id: s(r, "user_id"),
            event_id: s(r, "event_id"),
            event_title: s(r, "event_title"),
            starts_at_ms: r.get::<i64>("starts_at_ms").unwrap_or_default(),
            timezone: s(r, "timezone"),
            attendee_name: s(r, "attendee_name"),
            seat_id: r.get::<&str>("seat_id").map(str::to_string),
            tier_id: s(r, "tier_id"),
            code: s(r, "code"),
            status: s(r, "status"),
            void_reason: r.get::<&str>("void_reason").map(str::to_string),
            voided_ms: r.get::<i64>("voided_ms"),
            checked_in_ms: r.get::<i64>("checked_in_ms"),
            checked_in_by: r.get::<&str>("checked_in_by").map(str::to_string),
            issued_ms: r.get::<i64>("issued_ms").unwrap_or_default(),
            sequence: r.get::<i64>("sequence").unwrap_or_default(),
            venue: s(r, "venue"),
        }
    }

    /// True when voided (cancelled or refunded).
    pub fn is_void(&self) -> bool {
        self.status == "void"
    }

    /// The API view:
    ///
    /// ```json
    /// {"id":"tkt_…","booking_id":"bkg_…","event_id":"evt_…","event_title":"…",
    ///  "starts_at":"2026-05-01T23:00:00Z","timezone":"America/New_York","venue":"Hall, 1 Main St, Lisbon, PT",
    ///  "attendee":"Ada Lovelace","seat_id":"S1-A-12","tier_id":"tier_…","code":"<signed>",
    ///  "status":"valid","void_reason":null,"checked_in_at":null,"issued_at":"…",
    ///  "links":{"self":"/api/tickets/tkt_…","ics":"/api/tickets/tkt_….ics","qr":"/api/tickets/tkt_…/qr.svg"}}
    /// ```
    pub fn view(&self) -> Json {
        json!({
            "id": self.id,
            "booking_id": self.booking_id,
            "event_id": self.event_id,
            "event_title": self.event_title,
            "starts_at": platform::clock::rfc3339(self.starts_at_ms),
            "timezone": self.timezone,
            "venue": self.venue,
            "attendee": self.attendee_name,
            "seat_id": self.seat_id,
            "tier_id": self.tier_id,
            "code": self.code,
            "status": self.status,
            "void_reason": self.void_reason,
            "checked_in_at": self.checked_in_ms.map(platform::clock::rfc3339),
            "issued_at": platform::clock::rfc3339(self.issued_ms),
            "links": {
                "self": format!("/api/tickets/{}", self.id),
                "ics": format!("/api/tickets/{}.ics", self.id),
                "qr": format!("/api/tickets/{}/qr.svg", self.id),
            },
        })
    }
}

const BY_ID: &str = "SELECT id, booking_id, ordinal, user_id, event_id, event_title, starts_at_ms, timezone, attendee_name, \
     seat_id, tier_id, code, status, void_reason, voided_ms, checked_in_ms, checked_in_by, issued_ms, sequence, venue FROM tickets WHERE id = ?";

/// The ticket with `id`, if any.
pub fn by_id(conn: &Connection, id: &str) -> Result<Option<Ticket>, Error> {
    let rs = conn.execute(BY_ID, &[Value::Text(id.to_string())])?;
    let t = rs.rows().next().map(|r| Ticket::from_row(&r));
    Ok(t)
}

/// A text parameter.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}
