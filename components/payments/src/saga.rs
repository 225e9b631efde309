//! `POST /api/payments/saga`: what payments does when booking speaks
//! (chained requests only; idempotent through the saga inbox).
//!
//! * `BookingOrdered` — records the order and its attempt, then (after the
//!   commit) creates the provider PaymentIntent with the Idempotency-Key
//!   `{booking_id}-attempt-{attempt}`. A later attempt number starts a new
//!   payment; the same one is a redelivery.
//! * `BookingCancelled` — refunds everything captured for the booking (none
//!   if nothing was), cancels intents not yet paid; any payment that still
//!   succeeds afterwards is refunded when it arrives.
//! * `TicketCancelled` — refunds `refund_minor` of the booking's paid
//!   payment for that one ticket (at most what is left; once per ticket:
//!   the ticket id is the refund's request key).
//! * `EventRescheduled` — the event's orders take its new sales close (no
//!   payment starts after it).
//! * `AccountErased` — forgets the buyer e-mail of the account's orders.

use crate::followups::Followups;
use crate::store;
use platform::{ApiError, ApiResult, FieldError};
use saga::contract::{
    AccountErased, BookingCancelled, BookingOrdered, EventRescheduled as Rescheduled, TicketCancelled,
};
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

/// `POST /api/payments/saga` (service chaining only).
pub fn inbox(req: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    let mut out = Followups::default();
    let resp = saga::receive(&req, &conn, |c, event| match event.event_type.as_str() {
        saga::types::BOOKING_ORDERED => ordered(c, event.decode()?, &mut out),
        saga::types::BOOKING_CANCELLED => cancelled(c, event.decode()?, &mut out),
        saga::types::EVENT_RESCHEDULED => rescheduled(c, event.decode()?),
        saga::types::TICKET_CANCELLED => ticket_cancelled(c, event.decode()?, &mut out),
        saga::types::ACCOUNT_ERASED => {
            // orders and payments stay (money is accounted for); the
            // buyer's e-mail goes (issue 17, item 9)
            let user = event.decode::<AccountErased>()?.user_id;
            c.execute("UPDATE orders SET buyer_email = '' WHERE user_id = ?", &[Value::Text(user.clone())])?;
            Ok(saga::forget_person(c, &user)?)
        }
        _ => Ok(()),
    })?;
    out.run(&conn);
    Ok(resp)
}

const UPSERT_ORDER: &str = "INSERT INTO orders (booking_id, user_id, event_id, amount_minor, currency, buyer_email, hold_expires_ms, attempt, created_ms, updated_ms, sales_close_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (booking_id) DO UPDATE SET attempt = excluded.attempt, amount_minor = excluded.amount_minor, currency = excluded.currency, \
     hold_expires_ms = excluded.hold_expires_ms, sales_close_ms = excluded.sales_close_ms, outcome = CASE WHEN outcome = 'succeeded' THEN outcome ELSE NULL END, updated_ms = excluded.updated_ms \
     WHERE excluded.attempt > orders.attempt AND orders.cancelled_ms IS NULL";
const INSERT_PAYMENT: &str = "INSERT INTO payments (id, booking_id, attempt, round, amount_minor, currency, status, next_check_ms, created_ms, updated_ms) \
     SELECT ?1, ?2, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM payments WHERE booking_id = ?2), ?3, ?4, ?5, 'pending', ?6, ?7, ?8 \
     WHERE NOT EXISTS (SELECT 1 FROM payments WHERE booking_id = ?2 AND round = ?3) RETURNING id";

fn ordered(c: &Connection, e: BookingOrdered, out: &mut Followups) -> ApiResult<()> {
    let mut errors = Vec::new();
    if e.amount_minor <= 0 {
        errors.push(FieldError::new("payload/amount_minor", "must be positive"));
    }
    let currency = crate::domain::Currency::parse(&e.currency);
    if currency.is_none() {
        errors.push(FieldError::new("payload/currency", "must be an ISO 4217 code"));
    }
    let expires = platform::clock::parse_rfc3339(&e.hold_expires_at);
    if expires.is_none() {
        errors.push(FieldError::new("payload/hold_expires_at", "must be RFC 3339"));
    }
    let sales_close = e.sales_close_at.as_deref().map(platform::clock::parse_rfc3339);
    if sales_close.is_some_and(|c| c.is_none()) {
        errors.push(FieldError::new("payload/sales_close_at", "must be RFC 3339"));
    }
    if e.booking_id.is_empty() || e.attempt < 1 {
        errors.push(FieldError::new("payload/booking_id", "booking id and attempt >= 1 are required"));
    }
    let (Some(currency), Some(expires), true) = (currency, expires, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let now = platform::clock::now_ms();
    let email = e.buyer.email;
    c.execute(
        UPSERT_ORDER,
        &[
            Value::Text(e.booking_id.clone()),
            Value::Text(e.user_id),
            Value::Text(e.event_id),
            Value::Integer(e.amount_minor),
            Value::Text(currency.as_str().into()),
            Value::Text(email),
            Value::Integer(expires),
            Value::Integer(e.attempt),
            Value::Integer(now),
            Value::Integer(now),
            sales_close.flatten().map_or(Value::Null, Value::Integer),
        ],
    )?;
    let Some(order) = store::order(c, &e.booking_id)? else { return Ok(()) };
    if order.cancelled_ms.is_some() || order.outcome.as_deref() == Some("succeeded") || order.attempt != e.attempt {
        return Ok(());
    }
    let inserted = c.execute(
        INSERT_PAYMENT,
        &[
            Value::Text(platform::ids::new("pay")),
            Value::Text(order.booking_id.clone()),
            Value::Integer(order.attempt),
            Value::Integer(order.amount_minor),
            Value::Text(order.currency.clone()),
            Value::Integer(now),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )?;
    if let Some(id) = inserted.rows().next().and_then(|r| r.get::<&str>("id").map(str::to_string)) {
        out.create.push(id);
    }
    Ok(())
}

const CANCEL_ORDER: &str =
    "UPDATE orders SET cancelled_ms = ?, cancel_reason = ?, updated_ms = ? WHERE booking_id = ? AND cancelled_ms IS NULL";

fn cancelled(c: &Connection, e: BookingCancelled, out: &mut Followups) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    let reason = e.reason.unwrap_or_else(|| "booking_cancelled".into());
    c.execute(
        CANCEL_ORDER,
        &[Value::Integer(now), Value::Text(reason.clone()), Value::Integer(now), Value::Text(e.booking_id.clone())],
    )?;
    for p in store::payments_of(c, &e.booking_id)? {
        if p.is_paid() {
            if let Some(id) = crate::refunds::reserve_refund(c, &p.id, None, &reason, None, None)? {
                out.refunds.push(id);
            }
        }
    }
    out.cancel.extend(crate::flow::cancel_open(c, &e.booking_id, now)?);
    Ok(())
}

fn rescheduled(c: &Connection, e: Rescheduled) -> ApiResult<()> {
    let close = platform::clock::parse_rfc3339(&e.sales_close_at)
        .ok_or_else(|| ApiError::Validation(vec![FieldError::new("payload/sales_close_at", "must be RFC 3339")]))?;
    // an older move delivered late changes nothing
    c.execute(
        "UPDATE orders SET sales_close_ms = ?, schedule_version = ? WHERE event_id = ? AND schedule_version < ?",
        &[Value::Integer(close), Value::Integer(e.version), Value::Text(e.event_id), Value::Integer(e.version)],
    )?;
    Ok(())
}

/// `reason` of the refund of one cancelled ticket.
const TICKET_REFUND: &str = "ticket_cancelled";

fn ticket_cancelled(c: &Connection, e: TicketCancelled, out: &mut Followups) -> ApiResult<()> {
    if e.refund_minor <= 0 {
        return Ok(());
    }
    let Some(paid) = store::payments_of(c, &e.booking_id)?.into_iter().find(|p| p.is_paid()) else {
        platform::log::warn!("payments: ticket {} of {} cancelled, but nothing was paid", e.ticket_id, e.booking_id);
        return Ok(());
    };
    // the refund API may have refunded it already (`api::refund` with a ticket_id)
    if store::refund_of_ticket(c, &e.ticket_id)?.is_some() {
        return Ok(());
    }
    // never more than what is left of the payment
    let amount = e.refund_minor.min(paid.amount_minor - paid.refund_reserved_minor);
    if amount <= 0 {
        return Ok(());
    }
    if let Some(id) =
        crate::refunds::reserve_refund(c, &paid.id, Some(amount), TICKET_REFUND, None, Some(&e.ticket_id))?
    {
        out.refunds.push(id);
    }
    Ok(())
}
