//! A refund of one ticket through the refund API (issue 13, item 6):
//! `POST /api/payments/{booking_id}/refunds` with a `ticket_id` voids that
//! ticket and refunds it, and the refund names the ticket.
//!
//! Booking owns the cancellation (the ticket voided at tickets, its seat or
//! place on sale again, `TicketCancelled` emitted), so this asks
//! booking-internal for it first and refunds what booking recorded. The
//! refund is recorded once per ticket (`refunds.ticket_id` is unique),
//! whichever comes first: this request, or payments' own consumer of the
//! `TicketCancelled` event it set off (which looks for the ticket's refund
//! before making one). Checks that can refuse the refund run before the
//! ticket is voided, so a refused request changes nothing.

use crate::provider::Provider;
use crate::store::{self, Order, Payment};
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite3::Connection;

/// What the refund API was asked for one ticket.
pub struct TicketRefund<'a> {
    /// `tkt_…`
    pub ticket_id: &'a str,
    /// Minor units; `None`: the ticket's price (as booking recorded it).
    pub amount_minor: Option<i64>,
    /// The refund's reason.
    pub reason: &'a str,
    /// The caller's `Idempotency-Key`, recorded on a refund made here.
    pub request_key: Option<&'a str>,
    /// `usr_…` of the organizer or admin asking.
    pub by: &'a str,
}

/// Voids and refunds one ticket of `order`'s booking, whose paid payment
/// is `paid`. 201 with the refund (`ticket_id` set) once the provider took
/// it, 202 while it is pending, 200 with the ticket's earlier refund when
/// it was refunded already (the same amount, or none given).
///
/// Errors: 404 the booking has no such ticket; 409 `refund-exceeds-payment`
/// (nothing left to refund, or more than is left), `ticket-already-refunded`
/// (refunded before with another amount), `nothing-to-refund` (the ticket
/// was cancelled earlier with no refund and no amount is given),
/// `refund-refused` (the provider said no), and booking's own refusals
/// passed on: `checked-in`, `last-ticket`, `not-cancellable`; 503 when
/// booking or tickets cannot answer (nothing changed).
pub fn refund_ticket(conn: &Connection, order: &Order, paid: &Payment, ask: &TicketRefund) -> ApiResult<Response> {
    let left = paid.amount_minor - paid.refund_reserved_minor;
    if let Some(earlier) = store::refund_of_ticket(conn, ask.ticket_id)? {
        if earlier.payment_id != paid.id {
            return Err(no_ticket(&order.booking_id, ask.ticket_id));
        }
        if ask.amount_minor.is_some_and(|a| a != earlier.amount_minor) {
            return Err(ApiError::conflict(
                "ticket-already-refunded",
                format!("ticket {} was refunded {} {} already", ask.ticket_id, earlier.amount_minor, order.currency),
            ));
        }
        return platform::web::ok(&earlier.view());
    }
    if left <= 0 || ask.amount_minor.is_some_and(|a| a > left) {
        return Err(ApiError::conflict(
            "refund-exceeds-payment",
            format!("at most {left} {} more can be refunded", order.currency),
        ));
    }
    let booking = cancel_at_booking(&order.booking_id, ask)?;
    let recorded = booking["cancelled_tickets"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["ticket_id"] == ask.ticket_id))
        .and_then(|t| t["refund_minor"].as_i64())
        .ok_or_else(|| ApiError::Unavailable("booking did not report the cancelled ticket; try again".into()))?;
    // booking keeps what it recorded first: a ticket cancelled before (or
    // just now, by a request racing this one) keeps the refund it was
    // cancelled with; one cancelled with nothing refunded can be refunded now
    let amount = match (recorded, ask.amount_minor) {
        (0, Some(a)) => a,
        (0, None) => {
            return Err(ApiError::conflict(
                "nothing-to-refund",
                format!(
                    "ticket {} was cancelled with nothing refunded; give amount_minor to refund it now",
                    ask.ticket_id
                ),
            ))
        }
        (r, Some(a)) if a != r => {
            return Err(ApiError::conflict(
                "ticket-already-refunded",
                format!("ticket {} was cancelled with a refund of {r} {} already", ask.ticket_id, order.currency),
            ))
        }
        (r, _) => r,
    };
    let id = platform::db::transaction(conn, |c| {
        if let Some(r) = store::refund_of_ticket(c, ask.ticket_id)? {
            return Ok::<_, ApiError>(Some(r.id));
        }
        let paid =
            store::payment(c, &paid.id)?.ok_or_else(|| ApiError::NotFound("no payment for this booking".into()))?;
        // never more than what is left of the payment (a refund made
        // meanwhile may have taken some)
        let amount = amount.min(paid.amount_minor - paid.refund_reserved_minor);
        if amount <= 0 {
            return Ok(None);
        }
        crate::refunds::reserve_refund(c, &paid.id, Some(amount), ask.reason, ask.request_key, Some(ask.ticket_id))
    })?
    .ok_or_else(|| {
        ApiError::conflict(
            "refund-exceeds-payment",
            format!("ticket {} is cancelled, but nothing is left of the payment to refund", ask.ticket_id),
        )
    })?;
    let provider = Provider::from_config(conn)?;
    if let Err(e) = crate::refunds::send_refund(conn, &provider, &id) {
        platform::log::warn!(
            "payments: refund {id} of ticket {} not sent yet (the tick retries it): {e:?}",
            ask.ticket_id
        );
    }
    let r = store::refund(conn, &id)?.ok_or_else(|| ApiError::NotFound("no such refund".into()))?;
    if r.status == "failed" {
        return Err(ApiError::conflict(
            "refund-refused",
            format!(
                "ticket {} is cancelled, but the payment provider refused its refund; look at the payment's refunds",
                ask.ticket_id
            ),
        ));
    }
    let status = match r.status.as_str() {
        "pending" => 202,
        _ => 201,
    };
    let mut resp = platform::web::json(status, &r.view());
    resp.set_header("location", format!("/api/payments/{}", order.booking_id));
    Ok(resp)
}

fn no_ticket(booking_id: &str, ticket_id: &str) -> ApiError {
    ApiError::NotFound(format!("booking {booking_id} has no ticket {ticket_id}"))
}

/// `POST http://booking-internal.spin.internal/api/bookings/internal/{b}/tickets/{t}/cancel`:
/// the booking's JSON once the ticket is cancelled; booking's 404/409/422
/// problems come back as they are.
fn cancel_at_booking(booking_id: &str, ask: &TicketRefund) -> ApiResult<Json> {
    let url = format!(
        "http://{}/api/bookings/internal/{booking_id}/tickets/{}/cancel",
        saga::chaining_host("booking"),
        ask.ticket_id
    );
    let body = json!({"refund_minor": ask.amount_minor, "cancelled_by": ask.by});
    let out = Request::builder()
        .method(Method::Post)
        .uri(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build();
    let unavailable = |why: String| {
        platform::log::warn!("payments: cancelling ticket {} at booking: {why}", ask.ticket_id);
        ApiError::Unavailable("booking cannot cancel the ticket now; nothing was changed, try again".into())
    };
    let resp: Response = platform::web::send(out).map_err(|e| unavailable(e.to_string()))?;
    let answer: Json = serde_json::from_slice(resp.body()).unwrap_or(Json::Null);
    match *resp.status() {
        200 => Ok(answer),
        404 => Err(no_ticket(booking_id, ask.ticket_id)),
        409 => {
            let kind = match answer["type"].as_str() {
                Some("/problems/checked-in") => "checked-in",
                Some("/problems/last-ticket") => "last-ticket",
                _ => "not-cancellable",
            };
            Err(ApiError::conflict(
                kind,
                answer["detail"].as_str().unwrap_or("booking refused to cancel the ticket").to_string(),
            ))
        }
        other => Err(unavailable(format!("booking answered {other}"))),
    }
}
