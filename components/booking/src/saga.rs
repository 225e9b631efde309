//! What booking does when other components report (`POST /api/bookings/saga`).
//!
//! Every handler runs inside the inbox transaction of [`saga::receive`]
//! and is idempotent on its own too: a key-value step that already
//! happened (the transaction rolled back after it) is recognised on the
//! next delivery (hold records only move forward).

use crate::bookings::{self, Booking, PRODUCER};
use crate::holds::{self, HoldRecord, HoldStatus, Moved};
use crate::kv::Kv;
use crate::locks::{self, Claim, Owner};
use crate::status::BookingStatus;
use crate::store::Sql;
use crate::{inventory, mirror};
use platform::tier::TierKind;
use platform::{ApiError, ApiResult};
use saga::contract::{
    AccountErased, EventCancelled, EventChanged, EventRescheduled, PaymentFailed, PaymentRefunded, PaymentSucceeded,
};
use saga::{types, Event};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

/// `POST /api/bookings/saga` (service chaining only): one delivery through
/// [`saga::receive`], then a refresh of each event copy it found stale.
pub fn inbox(req: Request, _: Params) -> ApiResult {
    let conn = crate::store::open()?;
    let kv = Kv::open()?;
    let stale = std::cell::RefCell::new(Vec::new());
    let answer = saga::receive(&req, &conn, |c, event| handle(&kv, c, event, &mut stale.borrow_mut()))?;
    // After the inbox commit: copy events announced newer than booking's
    // copy (EventChanged), in this delivery (see `inventory`).
    for event_id in stale.into_inner() {
        inventory::refresh_if_stale(&conn, &event_id);
    }
    Ok(answer)
}

/// Dispatches one delivered event. Types booking does not consume are
/// acknowledged and ignored. `stale` collects the events whose copy must
/// be refreshed once the inbox transaction committed (`EventChanged`).
pub fn handle(kv: &Kv, c: &Connection, event: &Event, stale: &mut Vec<String>) -> ApiResult<()> {
    match event.event_type.as_str() {
        types::PAYMENT_SUCCEEDED => payment_succeeded(kv, c, event.decode()?),
        types::PAYMENT_FAILED => payment_failed(kv, c, event.decode()?),
        types::PAYMENT_REFUNDED => payment_refunded(kv, c, event.decode()?),
        types::EVENT_CANCELLED => event_cancelled(kv, c, event.decode()?),
        types::EVENT_CHANGED => event_changed(c, event.decode()?, stale),
        types::EVENT_RESCHEDULED => event_rescheduled(c, event.decode()?),
        types::ACCOUNT_ERASED => bookings::erase_person(c, &event.decode::<AccountErased>()?.user_id),
        other => {
            platform::log::info!("booking: ignoring event type {other} ({})", event.id);
            Ok(())
        }
    }
}

fn booking(c: &Connection, id: &str) -> ApiResult<Option<Booking>> {
    let b = bookings::load(c, id)?;
    if b.is_none() {
        platform::log::warn!("booking: event for unknown booking {id} ignored");
    }
    Ok(b)
}

fn emit<E: saga::Contract>(c: &Connection, payload: &E) -> ApiResult<()> {
    saga::emit(c, PRODUCER, payload)?;
    Ok(())
}

/// `PaymentSucceeded`: confirm — the hold is consumed (seats sold) if it
/// is still ours; if it expired meanwhile the seats are claimed again if
/// still free; otherwise the booking is cancelled with reason
/// `seats_unavailable` and `BookingCancelled` makes payments refund
/// (docs/DESIGN.md §3 step 7).
fn payment_succeeded(kv: &Kv, c: &Connection, p: PaymentSucceeded) -> ApiResult<()> {
    let Some(b) = booking(c, &p.booking_id)? else { return Ok(()) };
    match b.status {
        BookingStatus::Confirmed => Ok(()),
        BookingStatus::Cancelled | BookingStatus::Refunded => emit(c, &b.cancelled_payload("cancelled_before_payment")),
        BookingStatus::PendingPayment | BookingStatus::Expired | BookingStatus::PaymentFailed => {
            confirm(kv, c, &b, &p.payment_id)
        }
    }
}

fn confirm(kv: &Kv, c: &Connection, b: &Booking, payment_id: &str) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    let secured = match holds::transition(
        kv,
        Sql::nested(c),
        &b.hold_id,
        holds::to_status(&[HoldStatus::Booked], HoldStatus::Consumed),
    )? {
        Moved::Yes(..) => Some(b.hold_id.clone()),
        Moved::No(rec) if rec.status == HoldStatus::Consumed && rec.booking_id.as_deref() == Some(&b.id) => {
            Some(b.hold_id.clone())
        }
        _ => rehold(kv, b, now)?,
    };
    c.execute(
        "UPDATE bookings SET payment_id = ? WHERE id = ?",
        &[Value::Text(payment_id.into()), Value::Text(b.id.clone())],
    )?;
    let Some(hold_id) = secured else {
        bookings::cancel_in_tx(c, b, "seats_unavailable")?;
        c.execute("UPDATE bookings SET hold_freed = 1 WHERE id = ?", &[Value::Text(b.id.clone())])?;
        return Ok(());
    };
    // A database that cannot write at all (read-only, full, I/O) is an
    // `Err` here: the inbox transaction rolls back and the delivery comes
    // again (the hold stays consumed for us, see the module docs).
    if let Err(e) = sell(c, b, &hold_id)? {
        // The database refused (a seat sold twice, a tier past capacity):
        // never sell, give our claim back, refund.
        platform::log::error!("booking {}: the database refused the sale: {e}", b.id);
        holds::transition(kv, Sql::nested(c), &hold_id, holds::to_status(&[HoldStatus::Consumed], HoldStatus::Freed))?;
        let b = Booking { hold_id: hold_id.clone(), ..b.clone() };
        bookings::cancel_in_tx(c, &b, "seats_unavailable")?;
        c.execute(
            "UPDATE bookings SET hold_freed = 1, hold_id = ? WHERE id = ?",
            &[Value::Text(hold_id), Value::Text(b.id.clone())],
        )?;
        return Ok(());
    }
    c.execute(
        "UPDATE bookings SET status = 'confirmed', hold_id = ?, updated_ms = ? WHERE id = ? AND status = ?",
        &[Value::Text(hold_id), Value::Integer(now), Value::Text(b.id.clone()), Value::Text(b.status.as_str().into())],
    )?;
    emit(c, &b.confirmed_payload()?)
}

/// Writes the sold rows and marks the seats and places sold in booking's
/// seat states (for the hold `hold_id` that secured them). `Ok(Err(text))`
/// when they are no longer there to sell (a seat sold to another booking,
/// a tier without the places: the sale must not happen); `Err` when it
/// could not write at all
/// ([`ApiError::StorageUnavailable`]: read-only, full, failing I/O — the
/// caller's transaction rolls back and the delivery is retried, rather
/// than refunding a paid booking for a fault that passes).
fn sell(c: &Connection, b: &Booking, hold_id: &str) -> ApiResult<Result<(), String>> {
    let (event, booking) = (Value::Text(b.event_id.clone()), Value::Text(b.id.clone()));
    for seat in &b.seats {
        let args = [event.clone(), Value::Text(seat.clone()), booking.clone()];
        if c.execute(SELL_SEAT, &args)?.rows.is_empty() && c.execute(SOLD_SEAT_OF, &args)?.rows.is_empty() {
            return Ok(Err(format!("seat {seat} is sold to another booking")));
        }
    }
    for t in b.tiers.iter().filter(|t| t.kind == TierKind::GeneralAdmission) {
        let args = [
            booking.clone(),
            event.clone(),
            Value::Text(t.tier_id.clone()),
            Value::Integer(i64::from(t.quantity)),
            Value::Integer(i64::from(t.capacity)),
        ];
        if c.execute(SELL_GA, &args)?.rows.is_empty() && c.execute(SOLD_GA_OF, &args[..3])?.rows.is_empty() {
            return Ok(Err(format!("tier {} has fewer than {} places left", t.tier_id, t.quantity)));
        }
    }
    let mirrored = mirror::sell(c, &b.event_id, hold_id, &b.seats).and_then(|_| {
        b.tiers
            .iter()
            .filter(|t| t.kind == TierKind::GeneralAdmission)
            .try_for_each(|t| mirror::sell_ga(c, &b.event_id, &t.tier_id, i64::from(t.quantity)))
    });
    match mirrored {
        Ok(()) => Ok(Ok(())),
        Err(e @ ApiError::StorageUnavailable { .. }) => Err(e),
        Err(e) => Ok(Err(format!("database error: {e}"))),
    }
}

// The sales are conditional statements whose rows say whether they
// happened: a refusal is never read from an error's text. A seat already
// sold, or places past a tier's capacity, insert nothing; the `SOLD_*_OF`
// read then tells our own earlier sale (a redelivery: done) from
// another booking's (refused). The primary key of `sold_seats` and the
// `sold_ga_capacity` trigger (`sql/booking/0001_bookings.sql`) stay as the
// database's own guarantee; if one ever fires, it is an error like any
// storage fault and the delivery is retried.

/// `(event_id, seat_id, booking_id)` → a row when the seat is now ours.
const SELL_SEAT: &str =
    "INSERT INTO sold_seats (event_id, seat_id, booking_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING RETURNING seat_id";
/// `(event_id, seat_id, booking_id)` → a row when we had sold it already.
const SOLD_SEAT_OF: &str = "SELECT 1 FROM sold_seats WHERE event_id = ?1 AND seat_id = ?2 AND booking_id = ?3";
/// `(booking_id, event_id, tier_id, quantity, capacity)` → a row when the
/// places fit in what other bookings left of the capacity.
const SELL_GA: &str = "INSERT INTO sold_ga (booking_id, event_id, tier_id, quantity, capacity) SELECT ?1, ?2, ?3, ?4, ?5 \
     WHERE NOT EXISTS (SELECT 1 FROM sold_ga WHERE booking_id = ?1 AND tier_id = ?3) \
     AND (SELECT COALESCE(SUM(quantity), 0) FROM sold_ga WHERE event_id = ?2 AND tier_id = ?3) + ?4 <= ?5 RETURNING booking_id";
/// `(booking_id, event_id, tier_id)` → a row when we had sold them already.
const SOLD_GA_OF: &str = "SELECT 1 FROM sold_ga WHERE booking_id = ?1 AND event_id = ?2 AND tier_id = ?3";

/// The hold expired before the payment arrived: claim the same seats and
/// places again under a re-hold (`rhd_…`, derived from the booking id so a
/// redelivery finds its own claim), already consumed. `None` when someone
/// else has them now.
fn rehold(kv: &Kv, b: &Booking, now: i64) -> ApiResult<Option<String>> {
    let id = format!("rhd_{}", b.id.trim_start_matches("bkg_"));
    if let Some(rec) = holds::load(kv, &id)? {
        return Ok((rec.status == HoldStatus::Consumed).then_some(id));
    }
    let ga: Vec<(String, u32, u32)> = b
        .tiers
        .iter()
        .filter(|t| t.kind == TierKind::GeneralAdmission)
        .map(|t| (t.tier_id.clone(), t.quantity, t.capacity))
        .collect();
    let seats = b
        .seats
        .iter()
        .map(|s| {
            let tier = b.tiers.iter().find(|t| t.kind == TierKind::Seated);
            holds::HeldSeat {
                id: s.clone(),
                tier_id: tier.map(|t| t.tier_id.clone()).unwrap_or_default(),
                price_minor: tier.map(|t| t.price_minor).unwrap_or(0),
            }
        })
        .collect();
    let rec = HoldRecord {
        id: id.clone(),
        user_id: b.user_id.clone(),
        event_id: b.event_id.clone(),
        status: HoldStatus::Consumed,
        seats,
        tiers: b.tiers.clone(),
        amount_minor: b.amount_minor,
        currency: b.currency.clone(),
        created_ms: now,
        expires_ms: now,
        booking_id: Some(b.id.clone()),
        event_title: b.event_title.clone(),
        starts_at: b.starts_at.clone(),
        timezone: b.timezone.clone(),
        version: 0,
        given_back: vec![],
    };
    let bytes = serde_json::to_vec(&rec).map_err(|e| ApiError::Internal(e.into()))?;
    let claim = Claim {
        event: &b.event_id,
        user: &b.user_id,
        user_limit: u32::MAX,
        seats: b.seats.clone(),
        ga,
        owner: Owner { hold_id: id.clone(), expires_ms: i64::MAX / 2 },
    };
    if locks::claim(kv, &claim, true, Some((HoldRecord::key(&id), bytes)))?.is_err() {
        return Ok(None);
    }
    Ok(Some(id))
}

/// Reason of the `PaymentFailed` that payments' tick emits when a booking's
/// hold ran out with no payment made or in flight (`crates/saga/README.md`).
const HOLD_EXPIRED: &str = "hold_expired";

/// Reason of the `PaymentFailed` that payments emits when the buyer tries
/// to pay after the booking's sales window closed (`sales_close_at` of
/// `BookingOrdered`; issue 13): nothing was charged.
const SALES_CLOSED: &str = "sales_closed";

/// `PaymentFailed`: the hold is given back and the booking closes —
/// `expired` when the reason is [`HOLD_EXPIRED`] (nobody paid in time: no
/// payment failed, DESIGN issue 5 states), `payment_failed` for a real
/// failure (declined, …; also over an `expired` booking, since a payment
/// was then attempted and refused), `cancelled` with reason
/// [`SALES_CLOSED`] when sales closed before it was paid.
fn payment_failed(kv: &Kv, c: &Connection, p: PaymentFailed) -> ApiResult<()> {
    let Some(b) = booking(c, &p.booking_id)? else { return Ok(()) };
    let to = match p.reason.as_str() {
        HOLD_EXPIRED => BookingStatus::Expired,
        SALES_CLOSED => BookingStatus::Cancelled,
        _ => BookingStatus::PaymentFailed,
    };
    if !matches!(b.status, BookingStatus::PendingPayment | BookingStatus::Expired) {
        return Ok(());
    }
    if to == BookingStatus::Cancelled {
        c.execute(
            "UPDATE bookings SET status = 'cancelled', cancel_reason = ?, updated_ms = ? WHERE id = ? AND status = ?",
            &[
                Value::Text(SALES_CLOSED.into()),
                Value::Integer(platform::clock::now_ms()),
                Value::Text(b.id.clone()),
                Value::Text(b.status.as_str().into()),
            ],
        )?;
        return bookings::free_hold(kv, Sql::nested(c), &b);
    }
    if to == BookingStatus::Expired {
        // Payments may see the expiry before booking's own sweep does: the
        // hold itself ends `expired` too (not `released`).
        holds::expire_if_due(kv, Sql::nested(c), &b.hold_id, platform::clock::now_ms())?;
    }
    c.execute(
        "UPDATE bookings SET status = ?, updated_ms = ? WHERE id = ? AND status = ?",
        &[
            Value::Text(to.as_str().into()),
            Value::Integer(platform::clock::now_ms()),
            Value::Text(b.id.clone()),
            Value::Text(b.status.as_str().into()),
        ],
    )?;
    bookings::free_hold(kv, Sql::nested(c), &b)
}

/// `PaymentRefunded`: money went back. A cancelled booking becomes
/// `refunded` (when the refund is full); a confirmed one refunded in full
/// (by payments or an admin) is cancelled and its seats go back on sale; a
/// partial refund is only added up.
fn payment_refunded(kv: &Kv, c: &Connection, p: PaymentRefunded) -> ApiResult<()> {
    let Some(b) = booking(c, &p.booking_id)? else { return Ok(()) };
    let amount = p.amount_minor.max(0);
    let full = p.full || b.refunded_minor + amount >= b.amount_minor;
    let now = platform::clock::now_ms();
    c.execute(
        "UPDATE bookings SET refunded_minor = MIN(amount_minor, refunded_minor + ?), updated_ms = ? WHERE id = ?",
        &[Value::Integer(amount), Value::Integer(now), Value::Text(b.id.clone())],
    )?;
    if !full {
        return Ok(());
    }
    match b.status {
        BookingStatus::Cancelled => {
            c.execute(
                "UPDATE bookings SET status = 'refunded' WHERE id = ? AND status = 'cancelled'",
                &[Value::Text(b.id.clone())],
            )?;
        }
        BookingStatus::Confirmed => {
            c.execute(
                "UPDATE bookings SET status = 'refunded', cancel_reason = COALESCE(cancel_reason, 'refunded') WHERE id = ? AND status = 'confirmed'",
                &[Value::Text(b.id.clone())],
            )?;
            bookings::unsell(c, &b)?;
            bookings::free_hold(kv, Sql::nested(c), &b)?;
        }
        // nothing was sold: the refund is only added up
        BookingStatus::PendingPayment
        | BookingStatus::PaymentFailed
        | BookingStatus::Expired
        | BookingStatus::Refunded => {}
    }
    Ok(())
}

/// `EventCancelled`: booking's copy of the event reads as cancelled (no
/// more holds), every pending, expired or confirmed booking of the event is
/// cancelled (`event_cancelled`; payments refunds), and its open holds are
/// released.
fn event_cancelled(kv: &Kv, c: &Connection, p: EventCancelled) -> ApiResult<()> {
    let event_id = p.event_id.as_str();
    inventory::mark_cancelled(c, event_id)?;
    for b in bookings::of_event(
        c,
        event_id,
        &[BookingStatus::PendingPayment, BookingStatus::Confirmed, BookingStatus::Expired],
    )? {
        if bookings::cancel_in_tx(c, &b, "event_cancelled")?.is_some() {
            bookings::free_hold(kv, Sql::nested(c), &b)?;
        }
    }
    for id in holds::open_of_event(c, event_id)? {
        holds::transition(kv, Sql::nested(c), &id, holds::to_status(&[HoldStatus::Active], HoldStatus::Released))?;
    }
    Ok(())
}

/// `EventChanged` `{"event_id","version"}`: records the announced version
/// ([`inventory::announce`]); when booking holds an older copy, the event
/// is refreshed right after this delivery's commit (see [`inventory`]).
fn event_changed(c: &Connection, p: EventChanged, stale: &mut Vec<String>) -> ApiResult<()> {
    let event_id =
        crate::domain::parse_id("payload/event_id", &p.event_id).map_err(|e| ApiError::Validation(vec![e]))?;
    if inventory::announce(c, &event_id, p.version)? {
        stale.push(event_id);
    }
    Ok(())
}

/// `EventRescheduled` `{"event_id","version","starts_at",…}`: the event's
/// bookings show the new start (an older move delivered late changes
/// nothing: `schedule_version`). What booking sells from is refreshed by
/// the `EventChanged` of the same edit.
fn event_rescheduled(c: &Connection, p: EventRescheduled) -> ApiResult<()> {
    let (event_id, version, starts) = (p.event_id.as_str(), p.version, p.starts_at.as_str());
    if platform::clock::parse_rfc3339(starts).is_none() {
        return Err(ApiError::field("payload/starts_at", "must be RFC 3339"));
    }
    c.execute(
        "UPDATE bookings SET starts_at = ?, schedule_version = ?, updated_ms = ? WHERE event_id = ? AND schedule_version < ?",
        &[Value::Text(starts.into()), Value::Integer(version), Value::Integer(platform::clock::now_ms()), Value::Text(event_id.into()), Value::Integer(version)],
    )?;
    Ok(())
}
