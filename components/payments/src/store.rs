//! Read models: rows of `orders`, `payments`, `refunds` and their JSON views.

use crate::status::PaymentStatus;
use platform::db::Migration;
use serde_json::{json, Value as Json};
use spin_sdk::sqlite3::{Connection, Row, Value};

/// The SQLite database label of this component.
pub const DB: &str = "payments";

/// Schema migrations, applied on open (the saga tables come from `saga`).
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "payments", sql: include_str!("../../../sql/payments/0001_payments.sql") },
    Migration {
        version: 2,
        name: "confirm_unknown",
        sql: include_str!("../../../sql/payments/0002_confirm_unknown.sql"),
    },
    Migration { version: 3, name: "sales_close", sql: include_str!("../../../sql/payments/0003_sales_close.sql") },
    Migration {
        version: 4,
        name: "provider_refunds",
        sql: include_str!("../../../sql/payments/0004_provider_refunds.sql"),
    },
    Migration {
        version: 5,
        name: "ticket_refunds",
        sql: include_str!("../../../sql/payments/0005_ticket_refunds.sql"),
    },
    Migration {
        version: 6,
        name: "provider_pauses",
        sql: include_str!("../../../sql/payments/0006_provider_pauses.sql"),
    },
    platform::idempotency::MIGRATION,
];

/// Opens the `payments` database with this component's and the saga's migrations.
pub fn open() -> platform::ApiResult<spin_sdk::sqlite3::Connection> {
    Ok(saga::open(DB, MIGRATIONS)?)
}

/// Declines allowed per booking before payments reports `PaymentFailed`.
pub const MAX_DECLINES: i64 = 3;

/// One order (what booking asked us to collect).
#[derive(Debug, Clone)]
pub struct Order {
    pub booking_id: String,
    pub user_id: String,
    /// The booked event (`evt_…`), whose organizer may refund.
    pub event_id: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub hold_expires_ms: i64,
    /// When the event's sales close, Unix ms (`None`: not told).
    pub sales_close_ms: Option<i64>,
    pub attempt: i64,
    pub outcome: Option<String>,
    pub cancelled_ms: Option<i64>,
}

/// One payment attempt.
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: String,
    pub booking_id: String,
    pub attempt: i64,
    pub round: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub intent_id: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub failure_code: Option<String>,
    pub decline_code: Option<String>,
    pub failure_message: Option<String>,
    pub next_action_url: Option<String>,
    pub refund_reserved_minor: i64,
    pub refunded_minor: i64,
    pub checks: i64,
    /// When a confirmation whose answer was lost was sent (outcome unknown
    /// until the provider's intent says; status `processing` meanwhile).
    pub confirm_unknown_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One refund.
#[derive(Debug, Clone)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub status: String,
    pub attempts: i64,
    pub created_ms: i64,
    /// `tkt_…` the refund is for, when one cancelled ticket is refunded.
    pub ticket_id: Option<String>,
}

/// The row's `status`; a name this code does not know (a row written by
/// another version) reads as `processing`, so it is asked of the provider
/// rather than taken as paid or failed.
fn payment_status(r: &Row) -> PaymentStatus {
    let name = r.get::<&str>("status").unwrap_or_default();
    PaymentStatus::parse(name).unwrap_or_else(|| {
        platform::log::error!("payments: unknown payment status {name:?}, read as processing");
        PaymentStatus::Processing
    })
}

fn text(r: &Row, c: &str) -> Option<String> {
    r.get::<&str>(c).map(str::to_string)
}
fn int(r: &Row, c: &str) -> i64 {
    r.get::<i64>(c).unwrap_or(0)
}

impl Order {
    fn from_row(r: &Row) -> Order {
        Order {
            booking_id: text(r, "booking_id").unwrap_or_default(),
            user_id: text(r, "user_id").unwrap_or_default(),
            event_id: text(r, "event_id"),
            amount_minor: int(r, "amount_minor"),
            currency: text(r, "currency").unwrap_or_default(),
            hold_expires_ms: int(r, "hold_expires_ms"),
            sales_close_ms: r.get::<i64>("sales_close_ms"),
            attempt: int(r, "attempt"),
            outcome: text(r, "outcome"),
            cancelled_ms: r.get::<i64>("cancelled_ms"),
        }
    }
}

impl Payment {
    /// Reads a `payments` row (`SELECT *` or `RETURNING *`).
    pub fn from_row(r: &Row) -> Payment {
        Payment {
            id: text(r, "id").unwrap_or_default(),
            booking_id: text(r, "booking_id").unwrap_or_default(),
            attempt: int(r, "attempt"),
            round: int(r, "round"),
            amount_minor: int(r, "amount_minor"),
            currency: text(r, "currency").unwrap_or_default(),
            status: payment_status(r),
            intent_id: text(r, "intent_id"),
            card_brand: text(r, "card_brand"),
            card_last4: text(r, "card_last4"),
            failure_code: text(r, "failure_code"),
            decline_code: text(r, "decline_code"),
            failure_message: text(r, "failure_message"),
            next_action_url: text(r, "next_action_url"),
            refund_reserved_minor: int(r, "refund_reserved_minor"),
            refunded_minor: int(r, "refunded_minor"),
            checks: int(r, "checks"),
            confirm_unknown_ms: r.get::<i64>("confirm_unknown_ms"),
            created_ms: int(r, "created_ms"),
            updated_ms: int(r, "updated_ms"),
        }
    }

    /// True while the provider is still to say what a payment came to
    /// (`processing`, `requires_action`): worth asking it.
    pub fn in_flight(&self) -> bool {
        self.intent_id.is_some() && self.status.in_flight()
    }

    /// True once money was taken (whatever was refunded since).
    pub fn is_paid(&self) -> bool {
        self.status.is_paid()
    }

    /// JSON view of one attempt.
    pub fn view(&self) -> Json {
        json!({
            "payment_id": self.id,
            "attempt": self.attempt,
            "status": self.status.as_str(),
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "refunded_minor": self.refunded_minor,
            "card": self.card_last4.as_ref().map(|l| json!({"brand": self.card_brand, "last4": l})),
            "failure": self.failure_code.as_ref().map(|c| json!({"code": c, "decline_code": self.decline_code, "message": self.failure_message})),
            "next_action": (self.status == PaymentStatus::RequiresAction).then(|| self.next_action_url.as_ref().map(|u| json!({"type": "redirect_to_url", "url": u}))).flatten(),
            "provider_reference": self.intent_id,
            "outcome_unknown": self.confirm_unknown_ms.is_some(),
            "created_at": platform::clock::rfc3339(self.created_ms),
            "updated_at": platform::clock::rfc3339(self.updated_ms),
        })
    }
}

impl Refund {
    fn from_row(r: &Row) -> Refund {
        Refund {
            id: text(r, "id").unwrap_or_default(),
            payment_id: text(r, "payment_id").unwrap_or_default(),
            amount_minor: int(r, "amount_minor"),
            reason: text(r, "reason").unwrap_or_default(),
            status: text(r, "status").unwrap_or_default(),
            attempts: int(r, "attempts"),
            created_ms: int(r, "created_ms"),
            ticket_id: text(r, "ticket_id"),
        }
    }

    /// JSON view.
    pub fn view(&self) -> Json {
        json!({
            "refund_id": self.id,
            "payment_id": self.payment_id,
            "amount_minor": self.amount_minor,
            "reason": self.reason,
            "status": self.status,
            "ticket_id": self.ticket_id,
            "created_at": platform::clock::rfc3339(self.created_ms),
        })
    }
}

const ORDER: &str = "SELECT * FROM orders WHERE booking_id = ?";
const PAYMENTS_OF: &str = "SELECT * FROM payments WHERE booking_id = ? ORDER BY attempt";
const PAYMENT_BY_ID: &str = "SELECT * FROM payments WHERE id = ?";
const PAYMENT_BY_INTENT: &str = "SELECT * FROM payments WHERE intent_id = ?";
const REFUNDS_OF: &str =
    "SELECT r.* FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.booking_id = ? ORDER BY r.created_ms, r.id";
const REFUND_BY_ID: &str = "SELECT * FROM refunds WHERE id = ?";
const REFUND_OF_TICKET: &str = "SELECT * FROM refunds WHERE ticket_id = ?";

/// The order of `booking_id`.
pub fn order(c: &Connection, booking_id: &str) -> Result<Option<Order>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(ORDER, &[Value::Text(booking_id.into())])?.rows().next().map(|r| Order::from_row(&r)))
}

/// Every attempt of `booking_id`, oldest first.
pub fn payments_of(c: &Connection, booking_id: &str) -> Result<Vec<Payment>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(PAYMENTS_OF, &[Value::Text(booking_id.into())])?.rows().map(|r| Payment::from_row(&r)).collect())
}

/// One attempt by id.
pub fn payment(c: &Connection, id: &str) -> Result<Option<Payment>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(PAYMENT_BY_ID, &[Value::Text(id.into())])?.rows().next().map(|r| Payment::from_row(&r)))
}

/// The attempt holding provider intent `intent_id`.
pub fn payment_by_intent(c: &Connection, intent_id: &str) -> Result<Option<Payment>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(PAYMENT_BY_INTENT, &[Value::Text(intent_id.into())])?.rows().next().map(|r| Payment::from_row(&r)))
}

/// Every refund of `booking_id`.
pub fn refunds_of(c: &Connection, booking_id: &str) -> Result<Vec<Refund>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(REFUNDS_OF, &[Value::Text(booking_id.into())])?.rows().map(|r| Refund::from_row(&r)).collect())
}

/// The refund of cancelled ticket `ticket_id` (`tkt_…`), if it has one.
pub fn refund_of_ticket(c: &Connection, ticket_id: &str) -> Result<Option<Refund>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(REFUND_OF_TICKET, &[Value::Text(ticket_id.into())])?.rows().next().map(|r| Refund::from_row(&r)))
}

/// One refund by id.
pub fn refund(c: &Connection, id: &str) -> Result<Option<Refund>, spin_sdk::sqlite3::Error> {
    Ok(c.execute(REFUND_BY_ID, &[Value::Text(id.into())])?.rows().next().map(|r| Refund::from_row(&r)))
}

/// The attempt that speaks for the booking: the paid one if any, else the latest.
pub fn primary(payments: &[Payment]) -> Option<&Payment> {
    payments.iter().find(|p| p.is_paid()).or_else(|| payments.last())
}

/// Declined attempts in booking attempt `round` (a new BookingOrdered
/// attempt starts a new count).
pub fn declines(payments: &[Payment], round: i64) -> i64 {
    payments.iter().filter(|p| p.status == PaymentStatus::Failed && p.round == round).count() as i64
}

/// The JSON answer of `GET /api/payments/{booking_id}`.
pub fn booking_view(c: &Connection, order: &Order) -> Result<Json, spin_sdk::sqlite3::Error> {
    let payments = payments_of(c, &order.booking_id)?;
    let refunds = refunds_of(c, &order.booking_id)?;
    let mut view = match primary(&payments) {
        Some(p) => p.view(),
        None => {
            json!({"status": "pending", "amount_minor": order.amount_minor, "currency": order.currency, "refunded_minor": 0})
        }
    };
    view["booking_id"] = json!(order.booking_id);
    view["attempts_left"] = json!((MAX_DECLINES - declines(&payments, order.attempt)).max(0));
    view["hold_expires_at"] = json!(platform::clock::rfc3339(order.hold_expires_ms));
    view["booking_cancelled"] = json!(order.cancelled_ms.is_some());
    view["payments"] = Json::Array(payments.iter().map(Payment::view).collect());
    view["refunds"] = Json::Array(refunds.iter().map(Refund::view).collect());
    Ok(view)
}
