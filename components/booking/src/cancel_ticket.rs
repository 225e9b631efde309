//! `POST /api/bookings/:id/tickets/:ticket_id/cancel`: one ticket of a
//! confirmed multi-ticket order is cancelled (issue 13, item 6) — the
//! ticket is void and refused at the door, its seat or place is on sale
//! again, its price (or an amount the organizer gives) goes back through
//! payments, and the booking lists what was cancelled.
//!
//! The steps, each safe to repeat, so a retry (or a simultaneous duplicate)
//! finishes what a failed one started and does nothing twice:
//!
//! 1. tickets voids the ticket unless it was used at the door (one
//!    conditional UPDATE that check-in races on: exactly one of a cancel and
//!    a scan wins), over service chaining;
//! 2. the hold record loses that seat or place in one change of the record
//!    ([`holds::transition`]: one winner per record version), and the
//!    one request whose change wins gives its KV claim back
//!    ([`locks::release_all`] for that ticket alone), so a later
//!    cancellation of the whole booking releases only what is left;
//! 3. one SQLite transaction records the cancelled ticket (primary key: the
//!    ticket id), takes the seat or place off the sold tables and booking's
//!    seat states, and emits `TicketCancelled` (payments refunds
//!    `refund_minor`, never more than what is left of the payment;
//!    notifications tells the buyer).
//!
//! A request that dies between 2 and 3 leaves a void ticket whose seat is
//! free in the KV store but still sold in SQLite (nobody can buy it, the
//! database refuses a second sale); repeating the request completes it.

use crate::bookings::{self, Booking, PRODUCER};
use crate::holds::{self, HoldStatus, Moved};
use crate::kv::Kv;
use crate::store::{self, Sql};
use crate::{locks, mirror};
use platform::auth::Caller;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Method, Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    /// Minor units to refund instead of the ticket's price (organizer, admin).
    #[serde(default)]
    refund_minor: Option<i64>,
}

/// A ticket as tickets reports it when voiding it.
#[derive(Debug, Deserialize)]
struct VoidedTicket {
    id: String,
    seat_id: Option<String>,
    tier_id: String,
}

/// `POST /api/bookings/:id/tickets/:ticket_id/cancel`, body `{}` or
/// `{"refund_minor": n}` (organizer or admin only; default the ticket's
/// price). Who: the buyer before the event starts; the event's organizer
/// and admins at any time. 200 with the booking (its `cancelled_tickets`
/// list the ticket; also for a ticket already cancelled: nothing twice).
///
/// Errors: 401; 403 `refund_minor` from the buyer; 404 unknown booking or
/// ticket (or someone else's); 409 `not-cancellable` (the booking is not
/// confirmed, or the event started and the caller is the buyer),
/// `checked-in` (the ticket was used at the door), `last-ticket` (cancel
/// the booking instead: `POST /api/bookings/{id}/cancel`); 422 a negative
/// `refund_minor`; 503 when tickets or events cannot answer (nothing
/// changed).
pub fn cancel_ticket(req: Request, params: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let body: Body = if req.body().is_empty() { Body::default() } else { platform::web::read_json(&req)? };
    let (id, ticket_id) = ids(&params)?;
    let conn = store::open()?;
    let b = bookings::load(&conn, &id)?.ok_or_else(|| no_ticket(&id, &ticket_id))?;
    let staff_side = runs_the_event(&caller, &b)?;
    if !staff_side && b.user_id != caller.user_id {
        return Err(no_ticket(&id, &ticket_id));
    }
    if body.refund_minor.is_some() && !staff_side {
        return Err(ApiError::Forbidden("only the event's organizer or an admin sets the amount refunded".into()));
    }
    perform(&conn, &b, &ticket_id, body.refund_minor, staff_side, &caller.user_id)
}

/// The body of the chained route: payments' refund API, whose caller it has
/// already authorised as the event's organizer or an admin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InternalBody {
    /// Minor units to refund; `None`: the ticket's price.
    #[serde(default)]
    refund_minor: Option<i64>,
    /// `usr_…` of the person who asked, recorded as `cancelled_by`.
    cancelled_by: String,
}

/// `POST /api/bookings/internal/:id/tickets/:ticket_id/cancel` (chained,
/// `booking-internal` only) `{"refund_minor"?, "cancelled_by"}`: the same
/// cancellation as [`cancel_ticket`] on the organizer's side (any time,
/// any amount), for a refund of one ticket asked of payments
/// (`POST /api/payments/{booking_id}/refunds` with `ticket_id`). Answers
/// and errors as [`cancel_ticket`], less 401/403.
pub fn cancel_ticket_internal(req: Request, params: Params) -> ApiResult {
    let body: InternalBody = platform::web::read_json(&req)?;
    let (id, ticket_id) = ids(&params)?;
    crate::domain::parse_id("cancelled_by", &body.cancelled_by).map_err(|e| ApiError::Validation(vec![e]))?;
    let conn = store::open()?;
    let b = bookings::load(&conn, &id)?.ok_or_else(|| no_ticket(&id, &ticket_id))?;
    perform(&conn, &b, &ticket_id, body.refund_minor, true, &body.cancelled_by)
}

fn no_ticket(id: &str, ticket_id: &str) -> ApiError {
    ApiError::NotFound(format!("booking {id} has no ticket {ticket_id}"))
}

/// The booking id and ticket id of the path; 404 when either is not an id.
fn ids(params: &Params) -> ApiResult<(String, String)> {
    let id = params.get("id").unwrap_or_default().to_string();
    let ticket_id = params.get("ticket_id").unwrap_or_default().to_string();
    crate::domain::parse_id("id", &id).map_err(|_| no_ticket(&id, &ticket_id))?;
    crate::domain::parse_id("ticket_id", &ticket_id).map_err(|_| no_ticket(&id, &ticket_id))?;
    Ok((id, ticket_id))
}

/// The three steps of the module doc for an authorised caller
/// (`staff_side`: the event's organizer or an admin, who may cancel after
/// the start and set `refund_minor`).
fn perform(
    conn: &Connection,
    b: &Booking,
    ticket_id: &str,
    refund_minor: Option<i64>,
    staff_side: bool,
    by: &str,
) -> ApiResult {
    if refund_minor.is_some_and(|r| r < 0) {
        return Err(ApiError::field("refund_minor", "must be zero or a positive number of minor units"));
    }
    if already(conn, ticket_id)?.is_some() {
        return done(conn, &b.id);
    }
    if b.status != crate::status::BookingStatus::Confirmed {
        return Err(ApiError::conflict(
            "not-cancellable",
            format!("a booking that is {} has no tickets to cancel one by one", b.status),
        ));
    }
    if !staff_side && platform::clock::parse_rfc3339(&b.starts_at).is_some_and(|s| s <= platform::clock::now_ms()) {
        return Err(ApiError::conflict("not-cancellable", "the event has started; ask the organizer"));
    }
    let cancelled = count(conn, &b.id)?;
    if cancelled + 1 >= b.attendees.as_array().map_or(0, Vec::len) as i64 {
        return Err(ApiError::conflict("last-ticket", "this is the booking's last ticket: cancel the booking instead"));
    }
    let t = void_at_tickets(&b.id, ticket_id)?;
    let price = b.tiers.iter().find(|l| l.tier_id == t.tier_id).map_or(0, |l| l.price_minor);
    let refund = refund_minor.unwrap_or(price);
    let kv = Kv::open()?;
    give_back(&kv, conn, b, &t)?;
    let event = platform::db::transaction(conn, |c| record(c, b, &t, price, refund, by))?;
    saga::relay_events(conn, &event.into_iter().collect::<Vec<_>>());
    done(conn, &b.id)
}

/// The organizer of the booking's event (asked of events) or an admin.
fn runs_the_event(caller: &Caller, b: &Booking) -> ApiResult<bool> {
    if caller.is_admin() {
        return Ok(true);
    }
    if caller.role != platform::auth::Role::Organizer {
        return Ok(false);
    }
    let access = platform::event_access::lookup(&b.event_id, &caller.user_id)?;
    Ok(access.is_some_and(|a| a.organizer_id == caller.user_id))
}

fn already(conn: &Connection, ticket_id: &str) -> ApiResult<Option<String>> {
    let r =
        conn.execute("SELECT booking_id FROM cancelled_tickets WHERE ticket_id = ?", &[Value::Text(ticket_id.into())])?;
    let found = r.rows().next().and_then(|row| row.get::<&str>("booking_id").map(str::to_string));
    Ok(found)
}

fn count(conn: &Connection, booking_id: &str) -> ApiResult<i64> {
    let r = conn.execute(
        "SELECT COUNT(*) AS n FROM cancelled_tickets WHERE booking_id = ?",
        &[Value::Text(booking_id.into())],
    )?;
    let n = r.rows().next().and_then(|row| row.get::<i64>("n")).unwrap_or(0);
    Ok(n)
}

fn done(conn: &Connection, booking_id: &str) -> ApiResult {
    let b = bookings::load(conn, booking_id)?
        .ok_or_else(|| ApiError::NotFound(format!("booking {booking_id} does not exist")))?;
    platform::web::ok(&b.to_json())
}

/// Step 1: tickets voids the ticket (`POST http://tickets-internal.spin.internal/api/tickets/bookings/{b}/tickets/{t}/void`).
fn void_at_tickets(booking_id: &str, ticket_id: &str) -> ApiResult<VoidedTicket> {
    let url =
        format!("http://{}/api/tickets/bookings/{booking_id}/tickets/{ticket_id}/void", saga::chaining_host("tickets"));
    let req = Request::builder()
        .method(Method::Post)
        .uri(url)
        .header("content-type", "application/json")
        .body(json!({"reason": "ticket cancelled"}).to_string())
        .build();
    let unavailable = |why: String| {
        platform::log::warn!("booking: voiding ticket {ticket_id}: {why}");
        ApiError::Unavailable("tickets cannot void the ticket now; nothing was changed, try again".into())
    };
    let resp: spin_sdk::http::Response = platform::web::send(req).map_err(|e| unavailable(e.to_string()))?;
    match *resp.status() {
        200 => {
            let v: Json = serde_json::from_slice(resp.body()).map_err(|e| unavailable(e.to_string()))?;
            serde_json::from_value(v["ticket"].clone()).map_err(|e| unavailable(e.to_string()))
        }
        404 => Err(ApiError::NotFound(format!("booking {booking_id} has no ticket {ticket_id}"))),
        409 => Err(ApiError::conflict(
            "checked-in",
            format!("ticket {ticket_id} was used at the door; it cannot be cancelled"),
        )),
        other => Err(unavailable(format!("tickets answered {other}"))),
    }
}

/// Step 2: the hold record loses the ticket's seat (or one place of its
/// tier); the request whose change of the record wins gives that one
/// claim back.
fn give_back(kv: &Kv, conn: &Connection, b: &Booking, t: &VoidedTicket) -> ApiResult<()> {
    let moved = holds::transition(kv, Sql::top(conn), &b.hold_id, |rec| {
        if rec.status != HoldStatus::Consumed || rec.given_back.contains(&t.id) {
            return None;
        }
        let mut next = rec.clone();
        if let Some(s) = &t.seat_id {
            next.seats.retain(|h| &h.id != s);
        }
        let line = next.tiers.iter_mut().find(|l| l.tier_id == t.tier_id)?;
        line.quantity = line.quantity.checked_sub(1)?;
        next.tiers.retain(|l| l.quantity > 0);
        next.amount_minor = next.tiers.iter().map(|l| l.price_minor * i64::from(l.quantity)).sum();
        next.given_back.push(t.id.clone());
        Some(next)
    })?;
    if let Moved::Yes(..) = moved {
        let seats: Vec<String> = t.seat_id.clone().into_iter().collect();
        let ga: Vec<(String, u32)> = if seats.is_empty() { vec![(t.tier_id.clone(), 1)] } else { vec![] };
        locks::release_all(kv, &b.event_id, &b.user_id, &b.hold_id, &seats, &ga)?;
    }
    Ok(())
}

/// Step 3, inside a transaction: records the ticket once, takes its seat or
/// place off the sold tables and the seat states, emits `TicketCancelled`.
/// `None` when it was recorded already.
fn record(
    c: &Connection,
    b: &Booking,
    t: &VoidedTicket,
    price: i64,
    refund: i64,
    by: &str,
) -> ApiResult<Option<saga::Event>> {
    let now = platform::clock::now_ms();
    let inserted = c.execute(
        "INSERT INTO cancelled_tickets (ticket_id, booking_id, seat_id, tier_id, price_minor, refund_minor, cancelled_by, cancelled_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id",
        &[
            Value::Text(t.id.clone()),
            Value::Text(b.id.clone()),
            t.seat_id.clone().map_or(Value::Null, Value::Text),
            Value::Text(t.tier_id.clone()),
            Value::Integer(price),
            Value::Integer(refund),
            Value::Text(by.into()),
            Value::Integer(now),
        ],
    )?;
    if inserted.rows.is_empty() {
        return Ok(None);
    }
    match &t.seat_id {
        Some(seat) => {
            c.execute(
                "DELETE FROM sold_seats WHERE booking_id = ? AND seat_id = ?",
                &[Value::Text(b.id.clone()), Value::Text(seat.clone())],
            )?;
            mirror::unsell(c, &b.event_id, std::slice::from_ref(seat))?;
        }
        None => {
            let key = [Value::Text(b.id.clone()), Value::Text(t.tier_id.clone())];
            let left = c.execute("UPDATE sold_ga SET quantity = quantity - 1 WHERE booking_id = ? AND tier_id = ? AND quantity > 1 RETURNING quantity", &key)?;
            if left.rows.is_empty() {
                c.execute("DELETE FROM sold_ga WHERE booking_id = ? AND tier_id = ?", &key)?;
            }
            mirror::sell_ga(c, &b.event_id, &t.tier_id, -1)?;
        }
    }
    c.execute("UPDATE bookings SET updated_ms = ? WHERE id = ?", &[Value::Integer(now), Value::Text(b.id.clone())])?;
    let payload = saga::contract::TicketCancelled {
        booking_id: b.id.clone(),
        user_id: b.user_id.clone(),
        event_id: b.event_id.clone(),
        ticket_id: t.id.clone(),
        seat_id: t.seat_id.clone(),
        tier_id: t.tier_id.clone(),
        price_minor: price,
        refund_minor: refund,
        currency: b.currency.clone(),
        event_title: b.event_title.clone(),
    };
    Ok(Some(saga::emit(c, PRODUCER, &payload)?))
}
