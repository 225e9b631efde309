//! Bookings: the SQLite read model and the commands on a booking once it
//! exists (`GET /api/bookings`, `GET /api/bookings/:id`,
//! `POST /api/bookings/:id/cancel`, `…/abandon`); checkout, which makes
//! one, is [`crate::checkout`].
//!
//! States: `pending_payment` → `confirmed` | `payment_failed` | `expired` |
//! `cancelled`; `cancelled` → `refunded`. Every change is one conditional
//! UPDATE on the expected previous state, in the same transaction as the
//! event it emits.

use crate::domain::parse_id;
use crate::holds::{self, HoldRecord, HoldStatus, TierLine};
use crate::kv::Kv;
use crate::mirror;
use crate::status::BookingStatus;
use crate::store::{self, Sql};
use platform::{ApiError, ApiResult};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

/// Producer name of every event booking emits.
pub const PRODUCER: &str = "booking";

/// A booking row.
#[derive(Debug, Clone)]
pub struct Booking {
    /// `bkg_…`
    pub id: String,
    /// Buyer's account.
    pub user_id: String,
    /// Event.
    pub event_id: String,
    /// Hold the seats are claimed by.
    pub hold_id: String,
    pub status: BookingStatus,
    /// Total, minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `{name, email, phone}`.
    pub buyer: Json,
    /// `[{name, seat_id, tier_id}]`.
    pub attendees: Json,
    /// Seat ids.
    pub seats: Vec<String>,
    /// Tickets per tier.
    pub tiers: Vec<TierLine>,
    /// Event title.
    pub event_title: String,
    /// RFC 3339.
    pub starts_at: String,
    /// IANA zone.
    pub timezone: String,
    /// Where the event is, one line (`crate::document::DocVenue::location`;
    /// empty for bookings made before it was kept).
    pub venue: String,
    /// When the hold runs out, ms.
    pub hold_expires_ms: i64,
    /// The succeeded payment.
    pub payment_id: Option<String>,
    /// Money given back so far, minor units.
    pub refunded_minor: i64,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Created, ms.
    pub created_ms: i64,
    /// Last change, ms.
    pub updated_ms: i64,
    /// Tickets cancelled one by one (`crate::cancel_ticket`):
    /// `[{"ticket_id","seat_id","tier_id","price_minor","refund_minor","cancelled_at"}]`.
    pub cancelled_tickets: Vec<Json>,
}

const COLUMNS: &str = "id, user_id, event_id, hold_id, status, amount_minor, currency, buyer, attendees, seats, tiers, \
     event_title, starts_at, timezone, venue, hold_expires_ms, payment_id, refunded_minor, cancel_reason, created_ms, updated_ms, \
     (SELECT json_group_array(json_object('ticket_id', ticket_id, 'seat_id', seat_id, 'tier_id', tier_id, 'price_minor', price_minor, \
        'refund_minor', refund_minor, 'cancelled_ms', cancelled_ms)) FROM cancelled_tickets WHERE booking_id = bookings.id) AS cancelled_tickets";

fn from_row(r: &spin_sdk::sqlite3::Row) -> Option<Booking> {
    let text = |c: &str| r.get::<&str>(c).map(str::to_string);
    Some(Booking {
        id: text("id")?,
        user_id: text("user_id")?,
        event_id: text("event_id")?,
        hold_id: text("hold_id")?,
        status: match BookingStatus::parse(r.get::<&str>("status")?) {
            Some(s) => s,
            None => {
                platform::log::error!(
                    "booking {:?}: unknown status {:?}",
                    r.get::<&str>("id"),
                    r.get::<&str>("status")
                );
                return None;
            }
        },
        amount_minor: r.get::<i64>("amount_minor")?,
        currency: text("currency")?,
        buyer: serde_json::from_str(r.get::<&str>("buyer")?).ok()?,
        attendees: serde_json::from_str(r.get::<&str>("attendees")?).ok()?,
        seats: serde_json::from_str(r.get::<&str>("seats")?).ok()?,
        tiers: serde_json::from_str(r.get::<&str>("tiers")?).ok()?,
        event_title: text("event_title")?,
        starts_at: text("starts_at")?,
        timezone: text("timezone")?,
        venue: text("venue").unwrap_or_default(),
        hold_expires_ms: r.get::<i64>("hold_expires_ms")?,
        payment_id: text("payment_id"),
        refunded_minor: r.get::<i64>("refunded_minor")?,
        cancel_reason: text("cancel_reason"),
        created_ms: r.get::<i64>("created_ms")?,
        updated_ms: r.get::<i64>("updated_ms")?,
        cancelled_tickets: r
            .get::<&str>("cancelled_tickets")
            .and_then(|t| serde_json::from_str::<Vec<Json>>(t).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|mut t| {
                t["cancelled_at"] = json!(t["cancelled_ms"].as_i64().map(platform::clock::rfc3339));
                t.as_object_mut().map(|o| o.remove("cancelled_ms"));
                t
            })
            .collect(),
    })
}

/// Loads booking `id`.
pub fn load(conn: &Connection, id: &str) -> ApiResult<Option<Booking>> {
    let r = conn.execute(&format!("SELECT {COLUMNS} FROM bookings WHERE id = ?"), &[Value::Text(id.to_string())])?;
    let b = r.rows().next().and_then(|row| from_row(&row));
    Ok(b)
}

/// Bookings of an event in any of `statuses`.
pub fn of_event(conn: &Connection, event_id: &str, statuses: &[BookingStatus]) -> ApiResult<Vec<Booking>> {
    let marks = vec!["?"; statuses.len()].join(", ");
    let mut params = vec![Value::Text(event_id.to_string())];
    params.extend(statuses.iter().map(|s| Value::Text(s.as_str().to_string())));
    let r =
        conn.execute(&format!("SELECT {COLUMNS} FROM bookings WHERE event_id = ? AND status IN ({marks})"), &params)?;
    let v = r.rows().filter_map(|row| from_row(&row)).collect();
    Ok(v)
}

impl Booking {
    /// The public JSON:
    /// `{"id","event_id","hold_id","status","amount_minor","currency","buyer","attendees","seats","tiers",
    ///   "event_title","starts_at","timezone","venue","hold_expires_at","payment_id","refunded_minor","cancel_reason",
    ///   "created_at","updated_at","cancelled_tickets":[…],"tickets_remaining"}` (tickets cancelled one
    ///   by one, and how many of the order's tickets are left).
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id, "event_id": self.event_id, "hold_id": self.hold_id, "status": self.status.as_str(),
            "amount_minor": self.amount_minor, "currency": self.currency, "buyer": self.buyer,
            "attendees": self.attendees, "seats": self.seats,
            "tiers": self.tiers.iter().map(|t| json!({"tier_id": t.tier_id, "quantity": t.quantity, "price_minor": t.price_minor, "kind": t.kind})).collect::<Vec<_>>(),
            "event_title": self.event_title, "starts_at": self.starts_at, "timezone": self.timezone, "venue": self.venue,
            "hold_expires_at": platform::clock::rfc3339(self.hold_expires_ms),
            "payment_id": self.payment_id, "refunded_minor": self.refunded_minor, "cancel_reason": self.cancel_reason,
            "created_at": platform::clock::rfc3339(self.created_ms), "updated_at": platform::clock::rfc3339(self.updated_ms),
            "cancelled_tickets": self.cancelled_tickets,
            "tickets_remaining": self.attendees.as_array().map_or(0, Vec::len).saturating_sub(self.cancelled_tickets.len()),
        })
    }

    /// The `BookingCancelled` payload.
    pub fn cancelled_payload(&self, reason: &str) -> saga::contract::BookingCancelled {
        saga::contract::BookingCancelled {
            booking_id: self.id.clone(),
            user_id: self.user_id.clone(),
            event_id: self.event_id.clone(),
            reason: Some(reason.to_string()),
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
        }
    }

    /// The `BookingConfirmed` payload.
    ///
    /// Errors: 500 when the stored buyer or attendees are not in the
    /// contract's shape (they are written from it at checkout).
    pub fn confirmed_payload(&self) -> ApiResult<saga::contract::BookingConfirmed> {
        let stored = |e: serde_json::Error| ApiError::Internal(anyhow::anyhow!("booking {}: {e}", self.id));
        Ok(saga::contract::BookingConfirmed {
            booking_id: self.id.clone(),
            user_id: self.user_id.clone(),
            event_id: self.event_id.clone(),
            buyer: serde_json::from_value(self.buyer.clone()).map_err(stored)?,
            attendees: serde_json::from_value(self.attendees.clone()).map_err(stored)?,
            event_title: self.event_title.clone(),
            starts_at: self.starts_at.clone(),
            timezone: self.timezone.clone(),
            venue: self.venue.clone(),
        })
    }
}

/// `GET /api/bookings?limit=&cursor=` — the caller's bookings, newest
/// first: `{"items":[booking…],"next_cursor":"bkg_…"|null}`.
pub fn list(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let q = platform::web::Query::of(&req);
    let limit = q.limit(20, 100)?;
    let cursor = match q.get("cursor") {
        Some(c) => Value::Text(parse_id("cursor", c).map_err(|e| ApiError::Validation(vec![e]))?),
        None => Value::Null,
    };
    let conn = store::open()?;
    let r = conn.execute(
        &format!("SELECT {COLUMNS} FROM bookings WHERE user_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?"),
        &[Value::Text(caller.user_id), cursor.clone(), cursor, Value::Integer(i64::from(limit) + 1)],
    )?;
    let mut items: Vec<Booking> = r.rows().filter_map(|row| from_row(&row)).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|b| b.id.clone())
    } else {
        None
    };
    platform::web::ok(&json!({"items": items.iter().map(Booking::to_json).collect::<Vec<_>>(), "next_cursor": next}))
}

fn own_booking(conn: &Connection, req: &Request, params: &Params) -> ApiResult<(platform::auth::Caller, Booking)> {
    let caller = platform::auth::require(req)?;
    let id = params.get("id").unwrap_or_default();
    let not_found = || ApiError::NotFound(format!("booking {id} does not exist"));
    parse_id("id", id).map_err(|_| not_found())?;
    let b = load(conn, id)?.ok_or_else(not_found)?;
    if b.user_id != caller.user_id && !caller.is_admin() {
        return Err(not_found());
    }
    Ok((caller, b))
}

/// `GET /api/bookings/:id` — the caller's booking (admins: any). 404
/// otherwise.
pub fn get(req: Request, params: Params) -> ApiResult {
    let conn = store::open()?;
    let (_, b) = own_booking(&conn, &req, &params)?;
    platform::web::ok(&b.to_json())
}

/// `POST /api/bookings/:id/cancel` — cancels a booking that is pending
/// payment or confirmed (before the event starts), gives its seats back and
/// emits `BookingCancelled` (payments refunds what was paid). Cancelling a
/// cancelled or refunded booking answers 200 and changes nothing. 409
/// `not-cancellable` for failed/expired bookings or started events; 409
/// `checked-in` when the buyer cancels a confirmed booking one of whose
/// tickets was admitted at the door ([`checked_in`]: the organizer refunds
/// a used ticket, or an admin cancels it; issue 17, item 5); 503 when
/// tickets cannot say (fail closed).
pub fn cancel(req: Request, params: Params) -> ApiResult {
    let conn = store::open()?;
    let (caller, b) = own_booking(&conn, &req, &params)?;
    match b.status {
        BookingStatus::Cancelled | BookingStatus::Refunded => return platform::web::ok(&b.to_json()),
        BookingStatus::PendingPayment | BookingStatus::Confirmed => {}
        other @ (BookingStatus::PaymentFailed | BookingStatus::Expired) => {
            return Err(ApiError::conflict("not-cancellable", format!("a booking that is {other} cannot be cancelled")))
        }
    }
    if platform::clock::parse_rfc3339(&b.starts_at).is_some_and(|s| s <= platform::clock::now_ms()) {
        return Err(ApiError::conflict("not-cancellable", "the event has started"));
    }
    if b.status == BookingStatus::Confirmed && !caller.is_admin() {
        let admitted = checked_in(&b.id)?;
        if admitted > 0 {
            return Err(ApiError::conflict(
                "checked-in",
                format!("{admitted} ticket(s) of this booking were used at the door; ask the organizer about a refund"),
            ));
        }
    }
    let kv = Kv::open()?;
    let event = platform::db::transaction(&conn, |c| cancel_in_tx(c, &b, "requested_by_customer"))?;
    if event.is_some() {
        free_hold(&kv, Sql::top(&conn), &b)?;
    }
    saga::relay_events(&conn, &event.into_iter().collect::<Vec<_>>());
    let now = load(&conn, &b.id)?.unwrap_or(b);
    platform::web::ok(&now.to_json())
}

/// `POST /api/bookings/:id/abandon` — the buyer leaves checkout on the
/// payment step: a booking still awaiting payment is cancelled (reason
/// `abandoned`), its places are on sale again at once, and
/// `BookingCancelled` makes payments cancel the open PaymentIntent at the
/// provider. A payment already in flight there (a bank still processing,
/// or a confirmation racing this request) is refunded in full if it
/// succeeds after all, by the cancelled-booking rule of payments. 200 with
/// the booking (also when it was already cancelled, expired or failed:
/// nothing to do); 409 `booking-paid` when it was paid meanwhile (it stays
/// confirmed: cancelling a paid booking is `POST …/cancel`, a different
/// decision); 401; 404 unknown or another buyer's.
///
/// Why not `DELETE /api/holds/:id`: once checked out, the hold belongs to
/// the booking (409 `hold-in-checkout`); the booking is what the buyer
/// gives up, and the hold goes with it.
pub fn abandon(req: Request, params: Params) -> ApiResult {
    let conn = store::open()?;
    let (_, b) = own_booking(&conn, &req, &params)?;
    match b.status {
        BookingStatus::PendingPayment => {}
        BookingStatus::Confirmed => {
            return Err(ApiError::conflict("booking-paid", "the booking was paid meanwhile; it stays confirmed"))
        }
        _ => return platform::web::ok(&b.to_json()),
    }
    let kv = Kv::open()?;
    // One conditional UPDATE on `pending_payment`: a payment confirmed in
    // between wins, and this answers as the booking then is.
    let event = platform::db::transaction(&conn, |c| cancel_in_tx(c, &b, ABANDONED))?;
    if event.is_some() {
        free_hold(&kv, Sql::top(&conn), &b)?;
    }
    saga::relay_events(&conn, &event.into_iter().collect::<Vec<_>>());
    let now = load(&conn, &b.id)?.unwrap_or(b);
    if now.status == BookingStatus::Confirmed {
        return Err(ApiError::conflict("booking-paid", "the booking was paid meanwhile; it stays confirmed"));
    }
    platform::web::ok(&now.to_json())
}

/// `cancel_reason` of a booking its buyer abandoned on the payment step.
pub const ABANDONED: &str = "abandoned";

/// How many tickets of booking `booking_id` were checked in, asked of
/// tickets at cancel time over service chaining (`GET
/// http://tickets-internal.spin.internal/api/tickets/bookings/{id}/check-ins`).
///
/// Why ask rather than be told: check-in state lives in tickets and
/// changes at the door; a saga event would reach booking only after
/// delivery, so a buyer cancelling right after the scan would still be
/// refunded. One chained read on the (rare) cancel path is current.
/// Errors: 503 when tickets does not answer or answers nonsense (the
/// cancellation waits rather than refund a ticket that may be used).
/// `GET /api/bookings/internal/:id/state` (private component only):
/// `200 {"booking_id", "user_id", "status"}`, 404 for an unknown id. Payments
/// asks it when a buyer pays a booking whose `BookingOrdered` has not
/// reached payments yet (the first delivery failed under load and waits
/// for its retry), to tell "not ready, retry" from "no such booking".
pub fn state(_: Request, params: Params) -> ApiResult {
    let id = parse_id("id", params.get("id").unwrap_or_default()).map_err(|e| ApiError::Validation(vec![e]))?;
    let conn = store::open()?;
    let b = load(&conn, &id)?.ok_or_else(|| ApiError::NotFound(format!("booking {id} does not exist")))?;
    platform::web::ok(&json!({"booking_id": b.id, "user_id": b.user_id, "status": b.status.as_str()}))
}

fn checked_in(booking_id: &str) -> ApiResult<i64> {
    let url = format!("http://{}/api/tickets/bookings/{booking_id}/check-ins", saga::chaining_host("tickets"));
    let req = Request::builder().method(spin_sdk::http::Method::Get).uri(url).build();
    let unavailable = |why: String| {
        platform::log::warn!("booking: check-ins of {booking_id}: {why}");
        ApiError::Unavailable("tickets cannot tell whether this booking was used; try again".into())
    };
    let resp: spin_sdk::http::Response = platform::web::send(req).map_err(|e| unavailable(e.to_string()))?;
    if *resp.status() != 200 {
        return Err(unavailable(format!("tickets answered {}", resp.status())));
    }
    let v: Json = serde_json::from_slice(resp.body()).map_err(|e| unavailable(e.to_string()))?;
    v["checked_in"].as_i64().ok_or_else(|| unavailable(format!("no checked_in in {v}")))
}

/// `AccountErased`: blanks the personal data of `user_id`'s bookings — the
/// buyer's name, e-mail and phone, and every attendee's name — keeping the
/// anonymous rows (amounts, seats, states) that payments and the sold
/// tables account for, and the same data in booking's saga outbox
/// ([`saga::forget_person`]) (issue 17, item 9).
pub fn erase_person(c: &Connection, user_id: &str) -> ApiResult<()> {
    c.execute(
        "UPDATE bookings SET buyer = json_object('name', NULL, 'email', NULL, 'phone', NULL), \
         attendees = (SELECT json_group_array(json_set(value, '$.name', NULL)) FROM json_each(bookings.attendees)) \
         WHERE user_id = ?",
        &[Value::Text(user_id.to_string())],
    )?;
    saga::forget_person(c, user_id)?;
    Ok(())
}

/// Inside a transaction: moves `b` from its current (pending or confirmed
/// or expired) state to `cancelled` with `reason`, takes its seats off the
/// sold tables and emits `BookingCancelled`. `None` when another request
/// changed the booking first (nothing done).
pub fn cancel_in_tx(c: &Connection, b: &Booking, reason: &str) -> ApiResult<Option<saga::Event>> {
    let now = platform::clock::now_ms();
    let changed = c.execute(
        "UPDATE bookings SET status = 'cancelled', cancel_reason = ?, updated_ms = ? WHERE id = ? AND status = ? RETURNING id",
        &[Value::Text(reason.to_string()), Value::Integer(now), Value::Text(b.id.clone()), Value::Text(b.status.as_str().into())],
    )?;
    if changed.rows.is_empty() {
        return Ok(None);
    }
    unsell(c, b)?;
    Ok(Some(saga::emit(c, PRODUCER, &b.cancelled_payload(reason))?))
}

/// Removes a booking's rows from the sold tables, and puts its seats and
/// places back on sale in booking's seat states (same transaction).
pub fn unsell(c: &Connection, b: &Booking) -> ApiResult<()> {
    let id = Value::Text(b.id.clone());
    let seats: Vec<String> = c
        .execute("DELETE FROM sold_seats WHERE booking_id = ? RETURNING seat_id", std::slice::from_ref(&id))?
        .rows()
        .filter_map(|r| r.get::<&str>("seat_id").map(str::to_string))
        .collect();
    let ga: Vec<(String, i64)> = c
        .execute("DELETE FROM sold_ga WHERE booking_id = ? RETURNING tier_id, quantity", &[id])?
        .rows()
        .filter_map(|r| Some((r.get::<&str>("tier_id")?.to_string(), r.get::<i64>("quantity")?)))
        .collect();
    mirror::unsell(c, &b.event_id, &seats)?;
    for (tier, q) in ga {
        mirror::sell_ga(c, &b.event_id, &tier, -q)?;
    }
    Ok(())
}

/// Gives a booking's hold back (seats on sale again), exactly once however
/// often it is called, and records that it was done.
pub fn free_hold(kv: &Kv, sql: Sql, b: &Booking) -> ApiResult<()> {
    holds::transition(kv, sql, &b.hold_id, |rec| match rec.status {
        HoldStatus::Consumed => Some(HoldRecord { status: HoldStatus::Freed, ..rec.clone() }),
        HoldStatus::Active | HoldStatus::Booked => Some(HoldRecord { status: HoldStatus::Released, ..rec.clone() }),
        _ => None,
    })?;
    sql.conn.execute("UPDATE bookings SET hold_freed = 1 WHERE id = ?", &[Value::Text(b.id.clone())])?;
    Ok(())
}

/// Bookings whose hold still has to be given back (a crash between the
/// state change and the KV release); the tick finishes them.
pub fn unfreed(conn: &Connection) -> ApiResult<Vec<Booking>> {
    let r = conn.execute(
        &format!("SELECT {COLUMNS} FROM bookings WHERE hold_freed = 0 AND status IN ('cancelled', 'refunded', 'payment_failed') LIMIT 200"),
        &[],
    )?;
    let v = r.rows().filter_map(|row| from_row(&row)).collect();
    Ok(v)
}
