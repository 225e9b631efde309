//! Write side: issuing tickets on `BookingConfirmed` and voiding a
//! booking's tickets (called by [`crate::saga`]).
//!
//! Both run inside the inbox transaction of [`saga::receive`], so
//! a redelivered event changes nothing; on top of that, tickets are keyed
//! by (booking, attendee position), so even a re-emitted confirmation with
//! a new event id issues no second set.

use crate::code::TicketKeys;
use crate::store::text;
use platform::{ApiError, ApiResult};
use saga::contract::{BookingConfirmed, IssuedTicket, TicketsIssued};
use spin_sdk::sqlite3::{Connection, Value};

/// Producer name of this component's events.
pub const PRODUCER: &str = "tickets";
/// Most attendees one booking may carry (a sanity bound on the payload).
const MAX_ATTENDEES: usize = 100;

/// How long after the event starts its e-mailed calendar link keeps
/// working, ms (the file is of no use after the event).
pub const CALENDAR_LINK_AFTER_START_MS: i64 = 2 * 86_400_000;

/// `/api/tickets/{id}.ics?k=…&expires=…&sig=…`: ticket `id`'s calendar
/// file without a sign-in, until [`CALENDAR_LINK_AFTER_START_MS`] after the
/// event starts (at least a day from now).
pub fn calendar_link(keys: &TicketKeys, id: &str, starts_at_ms: i64) -> String {
    let expires = (starts_at_ms + CALENDAR_LINK_AFTER_START_MS).max(platform::clock::now_ms() + 86_400_000) / 1000;
    format!("/api/tickets/{id}.ics?{}", keys.sign_link(id, expires))
}

const INSERT: &str =
    "INSERT INTO tickets (id, booking_id, ordinal, user_id, event_id, event_title, starts_at_ms, timezone, \
     attendee_name, seat_id, tier_id, code, status, void_reason, voided_ms, issued_ms, venue) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(booking_id, ordinal) DO NOTHING";
const COUNT_OF_BOOKING: &str = "SELECT COUNT(*) AS n FROM tickets WHERE booking_id = ?";
const VOID_REASON: &str = "SELECT reason FROM voided_bookings WHERE booking_id = ?";
const REMEMBER_VOID: &str =
    "INSERT INTO voided_bookings (booking_id, reason, voided_ms) VALUES (?, ?, ?) ON CONFLICT(booking_id) DO NOTHING";
const VOID_BOOKING: &str =
    "UPDATE tickets SET status = 'void', void_reason = ?, voided_ms = ? WHERE booking_id = ? AND status = 'valid'";

fn validate(b: &BookingConfirmed) -> ApiResult<i64> {
    if b.booking_id.is_empty() || b.event_id.is_empty() || b.user_id.is_empty() {
        return Err(ApiError::field("booking_id", "booking, user and event ids are required"));
    }
    if b.attendees.is_empty() || b.attendees.len() > MAX_ATTENDEES {
        return Err(ApiError::field("attendees", format!("must hold 1-{MAX_ATTENDEES} attendees")));
    }
    platform::clock::parse_rfc3339(&b.starts_at).ok_or_else(|| ApiError::field("starts_at", "must be RFC 3339"))
}

/// Issues one ticket per attendee and emits `TicketsIssued`. When the
/// booking was already cancelled or refunded, the tickets are issued void
/// and nothing is emitted; when it already has tickets, nothing happens.
pub fn issue(conn: &Connection, b: BookingConfirmed) -> ApiResult<()> {
    let starts_at_ms = validate(&b)?;
    let existing = conn.execute(COUNT_OF_BOOKING, &[text(&b.booking_id)])?;
    if existing.rows().next().and_then(|r| r.get::<i64>("n")).unwrap_or(0) > 0 {
        return Ok(());
    }
    let keys = TicketKeys::required()?;
    let void_reason: Option<String> = conn
        .execute(VOID_REASON, &[text(&b.booking_id)])?
        .rows()
        .next()
        .and_then(|r| r.get::<&str>("reason").map(str::to_string));
    let now = platform::clock::now_ms();
    let mut issued = Vec::with_capacity(b.attendees.len());
    for (i, a) in b.attendees.iter().enumerate() {
        let id = platform::ids::new("tkt");
        let code = keys.sign(&id, &b.event_id);
        let name = if a.name.trim().is_empty() { "Guest" } else { a.name.trim() };
        conn.execute(
            INSERT,
            &[
                text(&id),
                text(&b.booking_id),
                Value::Integer(i as i64),
                text(&b.user_id),
                text(&b.event_id),
                text(&b.event_title),
                Value::Integer(starts_at_ms),
                text(&b.timezone),
                text(name),
                a.seat_id.as_deref().map(text).unwrap_or(Value::Null),
                text(&a.tier_id),
                text(&code),
                text(if void_reason.is_some() { "void" } else { "valid" }),
                void_reason.as_deref().map(text).unwrap_or(Value::Null),
                if void_reason.is_some() { Value::Integer(now) } else { Value::Null },
                Value::Integer(now),
                text(&b.venue),
            ],
        )?;
        let calendar_url = calendar_link(&keys, &id, starts_at_ms);
        issued.push(IssuedTicket {
            ticket_id: id,
            code,
            attendee: name.to_string(),
            seat_id: a.seat_id.clone(),
            tier_id: a.tier_id.clone(),
            calendar_url,
        });
    }
    if void_reason.is_some() {
        return Ok(());
    }
    let payload = TicketsIssued {
        booking_id: b.booking_id,
        user_id: b.user_id,
        event_id: b.event_id,
        buyer: b.buyer,
        event_title: b.event_title,
        starts_at: b.starts_at,
        timezone: b.timezone,
        venue: b.venue,
        tickets: issued,
    };
    saga::emit(conn, PRODUCER, &payload)?;
    Ok(())
}

/// Voids every valid ticket of `booking_id` and remembers the booking as
/// void, so tickets confirmed later are born void.
pub fn void(conn: &Connection, booking_id: &str, reason: &str) -> ApiResult<()> {
    if booking_id.is_empty() {
        return Err(ApiError::field("booking_id", "is required"));
    }
    let now = Value::Integer(platform::clock::now_ms());
    conn.execute(REMEMBER_VOID, &[text(booking_id), text(reason), now.clone()])?;
    conn.execute(VOID_BOOKING, &[text(reason), now, text(booking_id)])?;
    Ok(())
}
