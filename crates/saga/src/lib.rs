//! The saga backbone (docs/DESIGN.md §3): how Boxoffice components tell each other
//! what happened, at least once, without a broker.
//!
//! * **Outbox** — [`emit`] writes an [`Event`] and one delivery row per
//!   subscriber into the producer's own SQLite database, inside the same
//!   transaction as the state change it describes: either both happen or
//!   neither does.
//! * **Relay** — [`relay`] / [`relay_events`] POST each pending delivery as
//!   JSON to `http://<subscriber>.spin.internal<path>` (Spin local service
//!   chaining). A 2xx answer marks it delivered; anything else is retried
//!   with exponential backoff ([`backoff_ms`]) up to [`MAX_ATTEMPTS`]
//!   attempts, then moved to the dead-letter table ([`dead_letters`]), which
//!   an admin can read and [`requeue`]. Components call `relay_events` right
//!   after their state change (the first attempt happens in the same
//!   request, so the flow completes on a plain `spin up`) and `relay` from
//!   their tick route.
//! * **Inbox** — [`receive`] accepts only chained requests, and applies the
//!   component's handler and records the event id in `saga_inbox` in ONE
//!   transaction, so a redelivered event is applied once.
//! * **One trace** — every event carries the id of the request that
//!   emitted it (`request_id`, stored in the outbox); the relay sends it as
//!   `x-request-id` (also when a tick retries), the inbox adopts it, and
//!   the events a handler emits inherit it: one purchase's steps in every
//!   component log under one id ([`platform::log`]).
//! * **Subscribers** are declared in one place: [`SUBSCRIPTIONS`].
//! * **Tick guard** — [`require_tick`] checks `Authorization: Bearer
//!   <tick_token>` on `POST /api/<prefix>/tick`.
//!
//! The event catalogue is [`contract`]: one struct per event type, emitted
//! with [`emit`] and read with [`Event::decode`]; this crate's `README.md`
//! shows the wire shapes and who subscribes to what.
//!
//! Use from a component:
//!
//! ```ignore
//! let conn = platform::db::open("bookings", MIGRATIONS)?;
//! platform::db::migrate(&conn, saga::OUTBOX_MIGRATIONS)?;
//! let event = platform::db::transaction(&conn, |c| {
//!     c.execute("UPDATE bookings SET status = 'confirmed' WHERE id = ?", &[id.clone().into()])?;
//!     let confirmed = saga::contract::BookingConfirmed { booking_id: id.clone(), /* … */ };
//!     saga::emit(c, "booking", &confirmed).map_err(ApiError::from)
//! })?;
//! saga::relay_events(&conn, &[event]);
//! ```

pub mod contract;
mod dead;
mod inbox;
mod outbox;
mod relay;
mod subscribers;
mod tick;

pub use contract::Contract;
pub use dead::{dead_letters, requeue, DeadLetter};
pub use inbox::{parse_event, receive};
pub use outbox::{emit, forget_person};
pub use relay::{
    backoff_ms, relay, relay_events, RelayReport, ANSWER_TIMEOUT_MS, CONNECT_TIMEOUT_MS, LEASE_MS, MAX_ATTEMPTS,
    PASS_BUDGET_MS,
};
pub use subscribers::{
    chaining_host, saga_path, subscribers_of, Subscriber, Subscription, INTERNAL_SUFFIX, SUBSCRIPTIONS,
};
pub use tick::require_tick;

use platform::db::Migration;
use serde::{Deserialize, Serialize};

/// Migrations of the saga tables (`saga_outbox`, `saga_deliveries`,
/// `saga_inbox`, `saga_dead_letters`). Versions are ≥ 1000 so they never
/// collide with a component's own; apply them with
/// `platform::db::migrate(&conn, saga::OUTBOX_MIGRATIONS)` after the
/// component's migrations (or use [`open`]).
pub const OUTBOX_MIGRATIONS: &[Migration] = &[
    Migration { version: 1000, name: "saga_outbox", sql: include_str!("../sql/1000_saga_outbox.sql") },
    Migration { version: 1001, name: "saga_request_id", sql: include_str!("../sql/1001_saga_request_id.sql") },
];

/// Opens database `label` with the component's `migrations` and the saga
/// tables.
pub fn open(label: &str, migrations: &[Migration]) -> Result<spin_sdk::sqlite3::Connection, spin_sdk::sqlite3::Error> {
    let conn = platform::db::open(label, migrations)?;
    platform::db::migrate(&conn, OUTBOX_MIGRATIONS)?;
    Ok(conn)
}

/// One domain event, as stored in the outbox and as POSTed to subscribers.
///
/// ```json
/// {"id":"msg_01…","event_type":"BookingOrdered","version":1,
///  "occurred_at":"2026-03-01T12:00:00Z","producer":"booking",
///  "request_id":"req_01…","payload":{…}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id (`msg_<ulid>`); the inbox key of every consumer.
    pub id: String,
    /// One of [`types`].
    pub event_type: String,
    /// Payload version: the type's [`Contract::VERSION`] at the producer
    /// (how consumers read older and newer ones: [`contract`]).
    pub version: u32,
    /// When the state change happened, RFC 3339 UTC.
    pub occurred_at: String,
    /// Component id of the producer (`booking`, `payments`, `events`).
    pub producer: String,
    /// The id of the request that emitted the event
    /// ([`platform::log::request_id`] at [`emit`]); the relay sends it as
    /// `x-request-id` and [`receive`] adopts it, so every step a request
    /// sets off logs under its id. Absent on events emitted before it was
    /// recorded (and then not sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Type-specific body: one of the [`contract`] structs.
    pub payload: serde_json::Value,
}

impl Event {
    /// The payload as `E`, upgraded from an older version
    /// ([`Contract::upgrade`]) and checked ([`Contract::check`]).
    ///
    /// Errors: 500 when the event is not of type `E::TYPE` (a consumer's
    /// dispatch bug); 503 `unavailable` when its version is newer than `E`
    /// knows (the relay redelivers until this consumer is deployed too);
    /// 422 naming the member (`payload/…`) when the payload does not fit
    /// (the relay dead-letters it).
    pub fn decode<E: Contract>(&self) -> platform::ApiResult<E> {
        use platform::ApiError;
        if self.event_type != E::TYPE {
            return Err(ApiError::Internal(anyhow::anyhow!("{} {} read as {}", self.event_type, self.id, E::TYPE)));
        }
        if self.version > E::VERSION {
            return Err(ApiError::Unavailable(format!(
                "{} version {} is newer than this component reads ({}); redeliver once it is upgraded",
                E::TYPE,
                self.version,
                E::VERSION
            )));
        }
        let payload = if self.version < E::VERSION {
            E::upgrade(self.version, self.payload.clone()).map_err(|why| ApiError::field("payload", why))?
        } else {
            self.payload.clone()
        };
        let decoded: E = serde_path_to_error::deserialize(&payload).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." { "payload".to_string() } else { format!("payload/{}", path.replace('.', "/")) };
            ApiError::Validation(vec![platform::FieldError::new(at, e.into_inner().to_string())])
        })?;
        decoded.check()?;
        Ok(decoded)
    }
}

/// Event type names (the catalogue is in `README.md`).
pub mod types {
    /// booking → payments: a booking awaits payment.
    pub const BOOKING_ORDERED: &str = "BookingOrdered";
    /// booking → tickets, notifications: a booking is paid; issue tickets.
    pub const BOOKING_CONFIRMED: &str = "BookingConfirmed";
    /// booking → payments, notifications: a booking is cancelled; refund any money.
    pub const BOOKING_CANCELLED: &str = "BookingCancelled";
    /// payments → booking: the payment succeeded.
    pub const PAYMENT_SUCCEEDED: &str = "PaymentSucceeded";
    /// payments → booking: the payment failed.
    pub const PAYMENT_FAILED: &str = "PaymentFailed";
    /// payments → booking, tickets, notifications: money went back.
    pub const PAYMENT_REFUNDED: &str = "PaymentRefunded";
    /// events → booking, notifications: the organizer cancelled an event.
    pub const EVENT_CANCELLED: &str = "EventCancelled";
    /// events → booking: what an event sells changed (published, edited,
    /// cancelled); the payload names the new inventory `version`.
    pub const EVENT_CHANGED: &str = "EventChanged";
    /// events → booking, payments, tickets, notifications: a published
    /// event's start or end moved; buyers are told, tickets and calendar
    /// files show the new time.
    pub const EVENT_RESCHEDULED: &str = "EventRescheduled";
    /// booking → payments, notifications: one ticket of a confirmed booking
    /// was cancelled (void at tickets, its place on sale again); refund
    /// `refund_minor`.
    pub const TICKET_CANCELLED: &str = "TicketCancelled";
    /// auth → notifications: someone asked to reset an account's password;
    /// e-mail it the single-use link.
    pub const PASSWORD_RESET_REQUESTED: &str = "PasswordResetRequested";
    /// auth → notifications: an account was registered (or asked for a new
    /// link); e-mail it the link that confirms its address.
    pub const EMAIL_VERIFICATION_REQUESTED: &str = "EmailVerificationRequested";
    /// tickets → notifications: a confirmed booking's tickets exist (codes included).
    pub const TICKETS_ISSUED: &str = "TicketsIssued";
    /// users → booking, payments, tickets, notifications: an account was
    /// erased; each scrubs the person's data it holds.
    pub const ACCOUNT_ERASED: &str = "AccountErased";
}

/// Errors of [`emit`] and friends.
#[derive(Debug)]
pub enum Error {
    /// The database refused a statement.
    Db(spin_sdk::sqlite3::Error),
    /// The event type is not in [`SUBSCRIPTIONS`] (a contract no one
    /// subscribed to would otherwise silently reach nobody).
    UnknownEventType(String),
    /// The payload could not be serialised.
    Json(serde_json::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Db(e) => write!(f, "saga database error: {e:?}"),
            Error::UnknownEventType(t) => write!(f, "event type `{t}` has no entry in saga::SUBSCRIPTIONS"),
            Error::Json(e) => write!(f, "event payload is not serialisable: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<spin_sdk::sqlite3::Error> for Error {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        Error::Db(e)
    }
}

impl From<Error> for platform::ApiError {
    /// Database failures are 503 (retryable); the others are bugs (500).
    fn from(e: Error) -> Self {
        match e {
            Error::Db(e) => e.into(),
            other => platform::ApiError::Internal(anyhow::anyhow!(other.to_string())),
        }
    }
}
