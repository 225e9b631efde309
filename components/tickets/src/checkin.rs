//! Check-in at the door: `POST /api/tickets/check-in`.
//!
//! The admission itself is ONE conditional UPDATE (`… WHERE status =
//! 'valid' AND checked_in_ms IS NULL`), so of any number of simultaneous
//! scans of one ticket exactly one changes the row and admits; the others
//! find it already checked in.

use crate::code::TicketKeys;
use crate::store::{self, text, Ticket, COLUMNS};
use platform::auth::Role;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::Value;

/// The scan.
#[derive(Debug, Deserialize)]
pub struct Scan {
    /// The code read from the QR (or typed).
    pub code: String,
    /// The event this door admits to.
    pub event_id: String,
}

/// An RFC 9457 refusal with extension members (`extra` is merged in).
fn refusal(status: u16, kind: &str, title: &str, detail: String, extra: Json) -> Response {
    let mut body = json!({"type": format!("/problems/{kind}"), "title": title, "status": status, "detail": detail, "result": kind});
    if let (Some(b), Json::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    Response::builder()
        .status(status)
        .header("content-type", platform::problem::PROBLEM_JSON)
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .build()
}

const ADMIT: &str = "UPDATE tickets SET checked_in_ms = ?, checked_in_by = ? \
     WHERE id = ? AND event_id = ? AND status = 'valid' AND checked_in_ms IS NULL RETURNING ";

/// `POST /api/tickets/check-in` `{"code":"…","event_id":"evt_…"}`, by
/// admins, the organizer of `event_id`, or staff that organizer assigned
/// to the event (`PUT /api/events/{id}/staff/{user_id}`), as events'
/// private component says ([`platform::event_access`]; issue 17, item 7).
///
/// | outcome | status | body |
/// |---|---|---|
/// | admitted | 200 | `{"result":"admitted","checked_in_at":…,"ticket":{…}}` |
/// | already checked in | 409 | problem `already-checked-in` with `checked_in_at` (the first scan) and `ticket_id` |
/// | void ticket | 410 | problem `ticket-void` |
/// | code for another event | 409 | problem `wrong-event` |
/// | forged, altered or unknown code | 422 | problem `ticket-invalid` |
///
/// Errors also: 401 signed out; 403 customers, other organizers and
/// unassigned staff; 404 unknown event; 422 missing fields; 503 events
/// unreachable.
pub fn check_in(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[Role::Staff, Role::Organizer])?;
    let scan: Scan = platform::web::read_json(&req)?;
    if scan.event_id.trim().is_empty() {
        return Err(ApiError::field("event_id", "is required"));
    }
    if scan.code.trim().is_empty() {
        return Err(ApiError::field("code", "is required"));
    }
    if !caller.is_admin() {
        let Some(access) = platform::event_access::lookup(&scan.event_id, &caller.user_id)? else {
            return Err(ApiError::NotFound(format!("no event {}", scan.event_id)));
        };
        let allowed = match caller.role {
            Role::Organizer => access.organizer_id == caller.user_id,
            _ => access.staff,
        };
        if !allowed {
            return Err(ApiError::Forbidden(
                "only this event's organizer, or staff it assigned to the door, check tickets in".into(),
            ));
        }
    }
    let keys = TicketKeys::required()?;
    let verified = match keys.verify(&scan.code) {
        Ok(v) => v,
        Err(e) => return Ok(refusal(422, "ticket-invalid", "Ticket refused", e.to_string(), json!({}))),
    };
    if verified.event_id != scan.event_id {
        return Ok(refusal(
            409,
            "wrong-event",
            "Ticket is for another event",
            format!("this ticket admits to {}, not {}", verified.event_id, scan.event_id),
            json!({"ticket_id": verified.ticket_id, "ticket_event_id": verified.event_id}),
        ));
    }
    let conn = store::open()?;
    let now = platform::clock::now_ms();
    let admitted = conn.execute(
        &format!("{ADMIT}{COLUMNS}"),
        &[Value::Integer(now), text(&caller.user_id), text(&verified.ticket_id), text(&scan.event_id)],
    )?;
    if let Some(row) = admitted.rows().next() {
        let t = Ticket::from_row(&row);
        return platform::web::ok(
            &json!({"result": "admitted", "checked_in_at": platform::clock::rfc3339(now), "ticket": t.view()}),
        );
    }
    // Not admitted: say why.
    let Some(t) = store::by_id(&conn, &verified.ticket_id)? else {
        return Ok(refusal(422, "ticket-invalid", "Ticket refused", "no such ticket was issued".into(), json!({})));
    };
    if t.is_void() {
        return Ok(refusal(
            410,
            "ticket-void",
            "Ticket is void",
            format!("ticket {} is void ({})", t.id, t.void_reason.as_deref().unwrap_or("cancelled")),
            json!({"ticket_id": t.id}),
        ));
    }
    let first = t.checked_in_ms.map(platform::clock::rfc3339);
    Ok(refusal(
        409,
        "already-checked-in",
        "Already checked in",
        format!("ticket {} was already checked in at {}", t.id, first.as_deref().unwrap_or("an earlier scan")),
        json!({"ticket_id": t.id, "checked_in_at": first, "attendee": t.attendee_name, "seat_id": t.seat_id}),
    ))
}

/// `GET /api/tickets/bookings/:booking_id/check-ins` — internal (the
/// private `tickets-internal` component only): how many of a booking's
/// tickets exist and how many were admitted,
/// `{"booking_id":"bkg_…","tickets":n,"checked_in":k}` (zeros for a
/// booking without tickets).
///
/// Booking asks this when a buyer cancels a paid booking: a ticket used at
/// the door is not the buyer's to refund (issue 17, item 5; the organizer
/// or an admin decides).
pub fn check_ins(_: Request, params: Params) -> ApiResult {
    let booking_id = params.get("booking_id").unwrap_or_default();
    let conn = store::open()?;
    let r = conn.execute(
        "SELECT COUNT(*) AS n, COUNT(checked_in_ms) AS k FROM tickets WHERE booking_id = ?",
        &[text(booking_id)],
    )?;
    let (n, k) = r
        .rows()
        .next()
        .map(|row| (row.get::<i64>("n").unwrap_or(0), row.get::<i64>("k").unwrap_or(0)))
        .unwrap_or((0, 0));
    platform::web::ok(&json!({"booking_id": booking_id, "tickets": n, "checked_in": k}))
}

const VOID_ONE: &str = "UPDATE tickets SET status = 'void', void_reason = ?, voided_ms = ? \
     WHERE id = ? AND booking_id = ? AND status = 'valid' AND checked_in_ms IS NULL RETURNING id";

/// `POST /api/tickets/bookings/{booking_id}/tickets/{id}/void` (private
/// component: booking asks it when one ticket of an order is cancelled,
/// issue 13 item 6) `{"reason"}`: voids the ticket unless it was used at
/// the door — one conditional UPDATE, the same row check-in's own
/// conditional UPDATE ([`check_in`]) races on, so of a cancel and a scan at
/// the same moment exactly one wins. 200 `{"voided": true|false, "ticket":
/// {…view}}` (`false`: it was void already — a retry); 409 `checked-in`
/// (with `checked_in_at`); 404 when the booking has no such ticket; 422
/// without a reason.
pub fn void_one(req: Request, params: Params) -> ApiResult {
    #[derive(Deserialize)]
    struct Body {
        reason: String,
    }
    let body: Body = platform::web::read_json(&req)?;
    if body.reason.trim().is_empty() || body.reason.len() > 200 {
        return Err(ApiError::field("reason", "must be 1-200 characters"));
    }
    let (booking_id, id) = (params.get("booking_id").unwrap_or_default(), params.get("id").unwrap_or_default());
    let conn = store::open()?;
    let now = platform::clock::now_ms();
    let voided = !conn
        .execute(VOID_ONE, &[text(&body.reason), Value::Integer(now), text(id), text(booking_id)])?
        .rows
        .is_empty();
    let t = store::by_id(&conn, id)?
        .filter(|t| t.booking_id == booking_id)
        .ok_or_else(|| ApiError::NotFound(format!("booking {booking_id} has no ticket {id}")))?;
    if t.status != "void" {
        let at = t.checked_in_ms.map(platform::clock::rfc3339).unwrap_or_default();
        return Err(ApiError::conflict(
            "checked-in",
            format!("ticket {id} was used at the door at {at}; it cannot be cancelled"),
        ));
    }
    platform::web::ok(&json!({"voided": voided, "ticket": t.view()}))
}
