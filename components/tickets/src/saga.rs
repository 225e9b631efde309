//! `POST /api/tickets/saga`: what tickets does when booking, payments,
//! events and users report (saga catalogue in `crates/saga/README.md`).
//!
//! * `BookingConfirmed` — one ticket per attendee, then `TicketsIssued`
//!   ([`issue::issue`]).
//! * `BookingCancelled`, full `PaymentRefunded` — every ticket of the
//!   booking void ([`issue::void`]); a partial refund keeps them.
//! * `EventRescheduled` — the tickets and their calendar files move.
//! * `AccountErased` — the person's name leaves the tickets.

use crate::issue;
use crate::store::{self, text};
use platform::{ApiError, ApiResult};
use saga::contract::{AccountErased, BookingCancelled, EventRescheduled, PaymentRefunded};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

/// `POST /api/tickets/saga` (service chaining only): applies one event.
pub fn inbox(req: Request, _: Params) -> ApiResult {
    let conn = store::open()?;
    saga::receive(&req, &conn, apply)
}

/// Applies `event` (unknown types are acknowledged and ignored).
pub fn apply(conn: &Connection, event: &saga::Event) -> ApiResult<()> {
    use saga::types::*;
    match event.event_type.as_str() {
        BOOKING_CONFIRMED => issue::issue(conn, event.decode()?),
        BOOKING_CANCELLED => {
            let b: BookingCancelled = event.decode()?;
            issue::void(
                conn,
                &b.booking_id,
                &format!("booking cancelled ({})", b.reason.as_deref().unwrap_or("cancelled")),
            )
        }
        PAYMENT_REFUNDED => {
            let b: PaymentRefunded = event.decode()?;
            if !b.full {
                return Ok(()); // a partial refund keeps the tickets
            }
            issue::void(conn, &b.booking_id, "payment refunded")
        }
        EVENT_RESCHEDULED => {
            // the ticket and its calendar file show the new time; an older
            // move delivered late changes nothing (sequence = its version)
            let r: EventRescheduled = event.decode()?;
            let starts = platform::clock::parse_rfc3339(&r.starts_at)
                .ok_or_else(|| ApiError::field("payload/starts_at", "must be RFC 3339"))?;
            conn.execute(
                "UPDATE tickets SET starts_at_ms = ?, sequence = ? WHERE event_id = ? AND sequence < ?",
                &[Value::Integer(starts), Value::Integer(r.version), text(&r.event_id), Value::Integer(r.version)],
            )?;
            Ok(())
        }
        ACCOUNT_ERASED => {
            // the tickets stay (admissions and voids are accounted for);
            // the person's name on them goes (issue 17, item 9)
            let user = event.decode::<AccountErased>()?.user_id;
            conn.execute("UPDATE tickets SET attendee_name = '' WHERE user_id = ?", &[text(&user)])?;
            Ok(saga::forget_person(conn, &user)?)
        }
        _ => Ok(()),
    }
}
