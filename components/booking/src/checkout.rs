//! Checkout: `POST /api/bookings` turns the caller's live hold into a
//! booking awaiting payment and emits `BookingOrdered`, exactly once
//! however many times (and however concurrently) it is asked.

use crate::bookings::{self, PRODUCER};
use crate::domain::{check, parse_id, BuyerInput, PersonName};
use crate::holds::{self, HoldRecord, HoldStatus, Moved};
use crate::inventory;
use crate::kv::Kv;
use crate::store::{self, Sql};
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBooking {
    hold_id: String,
    buyer: BuyerInput,
    attendees: Vec<AttendeeInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendeeInput {
    name: String,
}

/// Ticket slots of a hold in attendee order: seats first, then
/// general-admission places: `(seat_id, tier_id)`.
fn slots(hold: &HoldRecord) -> Vec<(Option<String>, String)> {
    let mut v: Vec<_> = hold.seats.iter().map(|s| (Some(s.id.clone()), s.tier_id.clone())).collect();
    for (tier, q) in hold.ga() {
        v.extend((0..q).map(|_| (None, tier.clone())));
    }
    v
}

const INSERT: &str = "INSERT INTO bookings (id, user_id, event_id, hold_id, status, amount_minor, currency, buyer, attendees, seats, tiers, \
     event_title, starts_at, timezone, hold_expires_ms, created_ms, updated_ms, schedule_version, venue) VALUES (?, ?, ?, ?, 'pending_payment', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT DO NOTHING RETURNING id";

/// `POST /api/bookings` — turns the caller's live hold into a booking
/// awaiting payment and emits `BookingOrdered`. Body:
/// `{"hold_id","buyer":{"name","email","phone"},"attendees":[{"name"}…]}`
/// with one attendee per ticket. 201 with the booking (200 with the same
/// booking when the hold was already checked out by this caller, also by a
/// simultaneous request: exactly one request creates the booking and emits
/// `BookingOrdered`); 404 unknown or foreign hold; 410 expired or released
/// hold; 409 with the sales rule's problem type (`sales-closed`,
/// `event-past`, `event-cancelled`, … see
/// [`inventory::Inventory::check_on_sale`]) when the hold's sales window
/// closed since it was made — the hold is then released, its places on
/// sale again; 409 `hold-checked-out` if the hold's booking id is taken by another
/// hold's booking (never expected); 422 bad input.
/// With an `Idempotency-Key`, [`platform::idempotency::once`] semantics:
/// a retry gets the first answer replayed, a concurrent duplicate 409
/// `idempotency-in-progress`.
pub fn create(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let conn = store::open()?;
    platform::idempotency::once(&conn, &req, &caller.user_id, || checkout(&req, &conn, &caller))
}

fn checkout(req: &Request, conn: &Connection, caller: &platform::auth::Caller) -> ApiResult {
    let body: CreateBooking = platform::web::read_json(req)?;
    let hold_id = parse_id("hold_id", &body.hold_id).map_err(|e| ApiError::Validation(vec![e]))?;
    let mut errors = Vec::new();
    let buyer = body.buyer.parse().map_err(|e| errors.extend(e)).ok();
    let names: Vec<Option<PersonName>> = body
        .attendees
        .iter()
        .enumerate()
        .map(|(i, a)| PersonName::parse(&format!("attendees/{i}/name"), &a.name).map_err(|e| errors.push(e)).ok())
        .collect();
    check(errors)?;
    let kv = Kv::open()?;
    let not_found = || ApiError::NotFound(format!("hold {hold_id} does not exist"));
    let hold = holds::load(&kv, &hold_id)?.ok_or_else(not_found)?;
    if hold.user_id != caller.user_id {
        return Err(not_found());
    }
    let slots = slots(&hold);
    if names.len() != slots.len() {
        return Err(ApiError::field("attendees", format!("name exactly one attendee per ticket ({})", slots.len())));
    }
    let now = platform::clock::now_ms();
    // The sales rules hold at every step, not only when the places were
    // held (issue 13): a hold whose sales window closed meanwhile (sales
    // end, start with no later sales end, cancellation) is not checked
    // out, and its places go back on sale at once.
    // A hold already checked out answers with its booking below.
    let inv = inventory::current(conn, &hold.event_id)?;
    if !matches!(hold.status, HoldStatus::Booked | HoldStatus::Consumed) {
        if let Err(closed) = inv.check_on_sale(now) {
            holds::transition(
                &kv,
                Sql::top(conn),
                &hold_id,
                holds::to_status(&[HoldStatus::Active], HoldStatus::Released),
            )?;
            return Err(closed);
        }
    }
    let sales_close = inv.sales_close_ms().map(platform::clock::rfc3339);
    // Check out the hold: active → booked, atomically (a sweep racing us
    // either expires it first, and we answer 410, or finds it booked).
    let booking_id = match &hold.booking_id {
        Some(id) => id.clone(),
        None => platform::ids::new("bkg"),
    };
    let moved = holds::transition(&kv, Sql::top(conn), &hold_id, |rec| {
        (rec.status == HoldStatus::Active && !rec.is_past(now)).then(|| HoldRecord {
            status: HoldStatus::Booked,
            booking_id: Some(booking_id.clone()),
            ..rec.clone()
        })
    })?;
    let mut booked_here = false;
    let hold = match moved {
        Moved::Yes(_, after) => {
            booked_here = true;
            after
        }
        Moved::No(cur) if cur.status == HoldStatus::Booked && cur.booking_id.is_some() => {
            let id = cur.booking_id.clone().unwrap_or_default();
            if let Some(existing) = bookings::load(conn, &id)? {
                return platform::web::ok(&existing.to_json());
            }
            if cur.is_past(now) {
                holds::expire_if_due(&kv, Sql::top(conn), &cur.id, now)?;
                return Err(ApiError::Gone(format!("hold {hold_id} has expired; hold the seats again")));
            }
            // Booked, row not there (yet): the request that booked it is
            // still on its way to the INSERT below, or failed before it.
            // Write it too; the INSERT is idempotent, one of us creates it.
            cur
        }
        Moved::No(cur) => {
            if cur.is_past(now) {
                holds::expire_if_due(&kv, Sql::top(conn), &cur.id, now)?;
            }
            return Err(ApiError::Gone(format!("hold {hold_id} has expired or was released; hold the seats again")));
        }
        Moved::Missing => return Err(not_found()),
    };
    let booking_id = hold.booking_id.clone().unwrap_or(booking_id);
    let buyer = buyer.expect("checked").to_contract();
    let attendees: Vec<saga::contract::Attendee> = slots
        .iter()
        .zip(names)
        .map(|((seat, tier), name)| saga::contract::Attendee {
            name: name.as_ref().map(|n| n.as_str().to_string()).unwrap_or_default(),
            seat_id: seat.clone(),
            tier_id: tier.clone(),
        })
        .collect();
    let seats = hold.seat_ids();
    let ordered = saga::contract::BookingOrdered {
        booking_id: booking_id.clone(),
        user_id: caller.user_id.clone(),
        event_id: hold.event_id.clone(),
        amount_minor: hold.amount_minor,
        currency: hold.currency.clone(),
        buyer: buyer.clone(),
        seats: seats.clone(),
        tiers: hold
            .tiers
            .iter()
            .map(|t| saga::contract::TierLine {
                tier_id: t.tier_id.clone(),
                quantity: t.quantity,
                price_minor: t.price_minor,
            })
            .collect(),
        hold_expires_at: platform::clock::rfc3339(hold.expires_ms),
        attempt: 1,
        event_title: inv.title.clone(),
        starts_at: inv.starts_at.clone(),
        timezone: inv.timezone.clone(),
        venue: inv.venue.clone(),
        sales_close_at: sales_close,
    };
    let json_text = |v: serde_json::Result<String>| v.map_err(|e| ApiError::Internal(e.into()));
    let params = [
        Value::Text(booking_id.clone()),
        Value::Text(caller.user_id.clone()),
        Value::Text(hold.event_id.clone()),
        Value::Text(hold.id.clone()),
        Value::Integer(hold.amount_minor),
        Value::Text(hold.currency.clone()),
        Value::Text(json_text(serde_json::to_string(&buyer))?),
        Value::Text(json_text(serde_json::to_string(&attendees))?),
        Value::Text(json_text(serde_json::to_string(&seats))?),
        Value::Text(serde_json::to_string(&hold.tiers).unwrap_or_default()),
        // the event as booking sells it now (it may have moved since the hold)
        Value::Text(inv.title.clone()),
        Value::Text(inv.starts_at.clone()),
        Value::Text(inv.timezone.clone()),
        Value::Integer(hold.expires_ms),
        Value::Integer(now),
        Value::Integer(now),
        Value::Integer(inv.version),
        Value::Text(inv.venue.clone()),
    ];
    // Only the request whose INSERT creates the row emits BookingOrdered.
    let written = platform::db::transaction(conn, |c| {
        if c.execute(INSERT, &params)?.rows.is_empty() {
            return Ok::<_, ApiError>(None);
        }
        Ok(Some(saga::emit(c, PRODUCER, &ordered)?))
    });
    let event = match written {
        Ok(event) => event,
        Err(e) => {
            // Nothing was written: a checkout that fails leaves nothing
            // behind (issue 12) — the hold goes back to `active`, so its
            // places are not tied up until it expires, and a retry books
            // it again under the same booking id.
            if booked_here {
                unbook(&kv, conn, &hold_id, &booking_id, now);
            }
            return Err(e);
        }
    };
    // The row exists: a simultaneous checkout of this hold whose INSERT
    // failed may have put the hold back to `active` meanwhile; book it again.
    rebook(&kv, conn, &hold_id, &booking_id, now)?;
    let booking = bookings::load(conn, &booking_id)?;
    match (event, booking) {
        (Some(event), Some(booking)) => {
            saga::relay_events(conn, &[event]);
            platform::web::created(&format!("/api/bookings/{booking_id}"), &booking.to_json())
        }
        (None, Some(booking)) => platform::web::ok(&booking.to_json()),
        (_, None) => {
            Err(ApiError::conflict("hold-checked-out", format!("hold {hold_id} was checked out into another booking")))
        }
    }
}

/// Puts hold `hold_id` back from `booked` (by `booking_id`) to `active`
/// after its booking row could not be written, unless the row exists after
/// all (a simultaneous duplicate wrote it: then the hold is booked again).
///
/// Why this is safe: the request that writes the row reads the hold after
/// its commit ([`rebook`]), and this one reads the row after its swap; of
/// two such write-then-read pairs at least one read sees the other's
/// write, so a booking row never stays with an `active` hold. A hold
/// that cannot be put back (the store fails too) stays `booked` until it
/// expires, as before.
fn unbook(kv: &Kv, conn: &Connection, hold_id: &str, booking_id: &str, now: i64) {
    let back = holds::transition(kv, Sql::top(conn), hold_id, |rec| {
        (rec.status == HoldStatus::Booked && rec.booking_id.as_deref() == Some(booking_id))
            .then(|| HoldRecord { status: HoldStatus::Active, ..rec.clone() })
    });
    match back {
        Ok(Moved::Yes(..)) => match bookings::load(conn, booking_id) {
            Ok(None) => platform::log::warn!("checkout of hold {hold_id} failed; the hold is active again"),
            Ok(Some(_)) | Err(_) => {
                if let Err(e) = rebook(kv, conn, hold_id, booking_id, now) {
                    platform::log::error!("checkout of hold {hold_id}: could not book it again: {e}");
                }
            }
        },
        Ok(_) => {}
        Err(e) => {
            platform::log::error!("checkout of hold {hold_id} failed and the hold stays booked until it expires: {e}")
        }
    }
}

/// Makes hold `hold_id` `booked` by `booking_id` again if it was put back
/// to `active` with that booking id (see [`unbook`]). One KV read when
/// nothing needs doing.
fn rebook(kv: &Kv, conn: &Connection, hold_id: &str, booking_id: &str, now: i64) -> ApiResult<()> {
    let Some(rec) = holds::load(kv, hold_id)? else { return Ok(()) };
    if rec.status == HoldStatus::Active && rec.booking_id.as_deref() == Some(booking_id) {
        holds::transition(kv, Sql::top(conn), hold_id, |rec| {
            (rec.status == HoldStatus::Active && rec.booking_id.as_deref() == Some(booking_id) && !rec.is_past(now))
                .then(|| HoldRecord { status: HoldStatus::Booked, ..rec.clone() })
        })?;
    }
    Ok(())
}
