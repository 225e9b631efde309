//! The saga's event catalogue as types: one struct per event type, the
//! payload every producer emits ([`crate::emit`]) and every consumer reads
//! ([`crate::Event::decode`]). A member renamed or left out on either side
//! is a compile error; the wire shapes are listed in this crate's
//! `README.md` ("Catalogue").
//!
//! # Versions
//!
//! An event carries the payload version it was written with
//! ([`crate::Event::version`], each type's [`Contract::VERSION`] at the
//! producer). The rules:
//!
//! * **Adding a member** that consumers can do without is not a new
//!   version: the member is `#[serde(default)]` (or an `Option`), and an
//!   event written before it existed reads as the default — as `venue` was
//!   added to `BookingOrdered`.
//! * **Renaming, removing or changing the meaning** of a member is a new
//!   version: the type's `VERSION` goes up and its [`Contract::upgrade`]
//!   rewrites an older payload into the current shape, so a consumer reads
//!   every version up to its own (events still in an outbox or a dead-letter
//!   table are old ones).
//! * A version **newer than the consumer knows** (its producer was deployed
//!   first) is answered 503: the relay keeps redelivering with backoff until
//!   the consumer is deployed too, and a delivery that ran out of attempts
//!   waits in the dead letters for a requeue. Nothing is dropped.
//!
//! Money is integer minor units with an ISO 4217 code; times are RFC 3339
//! UTC strings, as on the wire.

use crate::types;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One event type of the catalogue: its payload struct, its type name and
/// the payload version producers write now.
pub trait Contract: Serialize + DeserializeOwned {
    /// The envelope's `event_type` (one of [`crate::types`]).
    const TYPE: &'static str;
    /// The payload version [`crate::emit`] writes.
    const VERSION: u32 = 1;

    /// Rewrites the payload of version `from` (older than
    /// [`Contract::VERSION`]) into the current shape. Version 1 of every
    /// type is current, so the default has nothing to rewrite.
    ///
    /// Errors: why the old payload cannot be read (the delivery is then
    /// answered 422 and dead-lettered).
    fn upgrade(from: u32, payload: Json) -> Result<Json, String> {
        let _ = from;
        Ok(payload)
    }

    /// Rules serde's shape cannot say, checked by [`crate::Event::decode`].
    ///
    /// Errors: a 422 naming the member (`payload/…`).
    fn check(&self) -> platform::ApiResult<()> {
        Ok(())
    }
}

macro_rules! contract {
    ($ty:ident, $name:expr) => {
        impl Contract for $ty {
            const TYPE: &'static str = $name;
        }
    };
}

/// A person's member that erasure blanked (`null`) reads as empty.
fn erasable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The buyer a booking was made for, as typed at checkout (never used as a
/// mail address: notifications mails the account's own address). Every
/// member is empty once the account was erased.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Buyer {
    #[serde(default, deserialize_with = "erasable")]
    pub name: String,
    #[serde(default, deserialize_with = "erasable")]
    pub email: String,
    /// E.164 (`+14155550100`).
    #[serde(default, deserialize_with = "erasable")]
    pub phone: String,
}

/// The places of one price tier in a `BookingOrdered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierLine {
    pub tier_id: String,
    pub quantity: u32,
    /// Price of one place, minor units of the booking's currency.
    pub price_minor: i64,
}

/// booking → payments, notifications: a booking awaits payment.
///
/// Payments derives the provider's Idempotency-Key from `booking_id` and
/// `attempt`, and starts no payment after `sales_close_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingOrdered {
    pub booking_id: String,
    pub user_id: String,
    pub event_id: String,
    /// What the buyer pays in all, minor units.
    pub amount_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub buyer: Buyer,
    /// Seat ids (`S1-A-12`); empty for general admission.
    #[serde(default)]
    pub seats: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<TierLine>,
    /// When the hold behind the booking runs out (payments refuses an
    /// order without it; notifications does not need it).
    #[serde(default)]
    pub hold_expires_at: String,
    /// 1 for the first checkout of the booking, +1 for each new attempt.
    #[serde(default = "first_attempt")]
    pub attempt: i64,
    #[serde(default)]
    pub event_title: String,
    #[serde(default)]
    pub starts_at: String,
    /// IANA zone of the venue.
    #[serde(default)]
    pub timezone: String,
    /// Where the event is, one line (empty when booking's copy predates it).
    #[serde(default)]
    pub venue: String,
    /// The event's `sales_end`, else its start; `None` when unknown.
    #[serde(default)]
    pub sales_close_at: Option<String>,
}
contract!(BookingOrdered, types::BOOKING_ORDERED);

fn first_attempt() -> i64 {
    1
}

/// One ticket-to-be of a `BookingConfirmed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attendee {
    /// Name printed on the ticket (may be empty: the ticket says "Guest").
    #[serde(default, deserialize_with = "erasable")]
    pub name: String,
    /// `None` for general admission.
    #[serde(default)]
    pub seat_id: Option<String>,
    pub tier_id: String,
}

/// booking → tickets, notifications: paid; one ticket per attendee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingConfirmed {
    pub booking_id: String,
    pub user_id: String,
    pub event_id: String,
    #[serde(default)]
    pub buyer: Buyer,
    pub attendees: Vec<Attendee>,
    #[serde(default)]
    pub event_title: String,
    pub starts_at: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub venue: String,
}
contract!(BookingConfirmed, types::BOOKING_CONFIRMED);

/// booking → payments, tickets, notifications: the booking is cancelled;
/// whatever was captured goes back.
///
/// `reason`: `requested_by_customer`, `abandoned` (given up on the payment
/// step), `event_cancelled`, `seats_unavailable` (the payment came after
/// the hold ran out and the seats were sold), `cancelled_before_payment`,
/// `sales_closed`, `hold_expired`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingCancelled {
    pub booking_id: String,
    /// Empty on events from before it was sent (consumers know the booking).
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub event_id: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// What the booking cost (not what was refunded), minor units.
    #[serde(default)]
    pub amount_minor: i64,
    #[serde(default)]
    pub currency: String,
}
contract!(BookingCancelled, types::BOOKING_CANCELLED);

/// booking → payments, notifications: one ticket of a confirmed booking was
/// cancelled (already void at tickets, its place on sale again); payments
/// refunds `refund_minor` once per ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCancelled {
    pub booking_id: String,
    pub user_id: String,
    pub event_id: String,
    pub ticket_id: String,
    /// `None` for general admission.
    #[serde(default)]
    pub seat_id: Option<String>,
    pub tier_id: String,
    pub price_minor: i64,
    /// At most what is left of the payment.
    pub refund_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub event_title: String,
}
contract!(TicketCancelled, types::TICKET_CANCELLED);

/// payments → booking: the booking's payment was captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub booking_id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    pub currency: String,
}
contract!(PaymentSucceeded, types::PAYMENT_SUCCEEDED);

/// payments → booking, notifications: no payment will come for this
/// booking attempt.
///
/// `reason`: the last allowed decline's code, `hold_expired` (nothing paid
/// or in flight when the hold ran out) or `sales_closed` (the buyer tried
/// to pay after the sales closed; nothing charged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub booking_id: String,
    /// The last attempt's payment, `None` when none was started.
    #[serde(default)]
    pub payment_id: Option<String>,
    pub reason: String,
}
contract!(PaymentFailed, types::PAYMENT_FAILED);

/// payments → booking, tickets, notifications: money went back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub booking_id: String,
    #[serde(default)]
    pub payment_id: String,
    #[serde(default)]
    pub refund_id: String,
    /// This refund, minor units.
    pub amount_minor: i64,
    pub currency: String,
    /// Whether the whole payment has now gone back.
    pub full: bool,
    /// Everything refunded of the payment so far, minor units.
    #[serde(default)]
    pub refunded_total_minor: i64,
    #[serde(default)]
    pub reason: String,
}
contract!(PaymentRefunded, types::PAYMENT_REFUNDED);

/// events → booking, notifications: the organizer cancelled the event;
/// booking cancels every booking of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCancelled {
    pub event_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub cancelled_at: Option<String>,
}
contract!(EventCancelled, types::EVENT_CANCELLED);

/// events → booking: what an event sells changed (published, edited while
/// not a draft, updated by an import, cancelled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventChanged {
    pub event_id: String,
    /// The event's inventory version after the change.
    pub version: i64,
    /// The event's status after the change.
    pub status: platform::event_status::EventStatus,
}
contract!(EventChanged, types::EVENT_CHANGED);

/// events → booking, payments, tickets, notifications: a published event's
/// start or end moved. Consumers keep the `version` they last applied and
/// ignore an older move delivered late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRescheduled {
    pub event_id: String,
    /// The event's version after the move.
    pub version: i64,
    #[serde(default)]
    pub title: String,
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub previous_starts_at: Option<String>,
    #[serde(default)]
    pub previous_ends_at: Option<String>,
    #[serde(default)]
    pub timezone: String,
    /// The event's `sales_end`, else its new start.
    pub sales_close_at: String,
}
contract!(EventRescheduled, types::EVENT_RESCHEDULED);

/// One ticket of a `TicketsIssued`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub ticket_id: String,
    /// The signed code of the ticket's QR.
    pub code: String,
    pub attendee: String,
    #[serde(default)]
    pub seat_id: Option<String>,
    pub tier_id: String,
    /// A signed link (path and query) to the ticket's calendar file that
    /// needs no sign-in, for the e-mail.
    #[serde(default)]
    pub calendar_url: String,
}

/// tickets → notifications: a confirmed booking's tickets exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsIssued {
    pub booking_id: String,
    pub user_id: String,
    pub event_id: String,
    #[serde(default)]
    pub buyer: Buyer,
    #[serde(default)]
    pub event_title: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub venue: String,
    pub tickets: Vec<IssuedTicket>,
}
contract!(TicketsIssued, types::TICKETS_ISSUED);

/// auth → notifications: e-mail this single-use password-reset link
/// (auth keeps only its SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: String,
    pub email: String,
    /// `{public_base_url}/#/reset-password/{token}`.
    pub reset_url: String,
    pub expires_at: String,
}
contract!(PasswordResetRequested, types::PASSWORD_RESET_REQUESTED);

/// auth → notifications: e-mail the link that confirms this address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailVerificationRequested {
    pub user_id: String,
    pub email: String,
    /// `{public_base_url}/#/verify-email/{token}`.
    pub verify_url: String,
    pub expires_at: String,
}
contract!(EmailVerificationRequested, types::EMAIL_VERIFICATION_REQUESTED);

/// users → booking, payments, tickets, notifications: the account was
/// erased; each scrubs the person's data it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountErased {
    /// `usr_…` ([`crate::Event::decode`] checks it is an account id).
    pub user_id: String,
    #[serde(default)]
    pub erased_at: Option<String>,
}

impl Contract for AccountErased {
    const TYPE: &'static str = types::ACCOUNT_ERASED;

    fn check(&self) -> platform::ApiResult<()> {
        if platform::ids::is_valid("usr", &self.user_id) {
            Ok(())
        } else {
            Err(platform::ApiError::field("payload/user_id", "must be an account id (usr_…)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use serde_json::json;

    fn event(event_type: &str, version: u32, payload: Json) -> Event {
        Event {
            id: "msg_test".into(),
            event_type: event_type.into(),
            version,
            occurred_at: "2026-03-01T12:00:00Z".into(),
            producer: "test".into(),
            request_id: None,
            payload,
        }
    }

    fn status(e: platform::ApiError) -> (u16, String) {
        let at = match &e {
            platform::ApiError::Validation(f) => f.iter().map(|f| f.field.clone()).collect::<Vec<_>>().join(","),
            _ => String::new(),
        };
        (e.status(), at)
    }

    /// A contract at version 2: v1 called the amount `total`.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        booking_id: String,
        amount_minor: i64,
    }

    impl Contract for Sample {
        const TYPE: &'static str = "Sample";
        const VERSION: u32 = 2;

        fn upgrade(from: u32, mut payload: Json) -> Result<Json, String> {
            match from {
                1 => {
                    let total = payload.get_mut("total").map(Json::take).ok_or("v1 has no total")?;
                    payload["amount_minor"] = total;
                    Ok(payload)
                }
                other => Err(format!("no version {other} was ever written")),
            }
        }
    }

    #[test]
    fn a_consumer_reads_every_version_up_to_its_own_and_waits_for_newer_ones() {
        let v1 = event("Sample", 1, json!({"booking_id": "bkg_1", "total": 900}));
        let v2 = event("Sample", 2, json!({"booking_id": "bkg_1", "amount_minor": 900}));
        let want = Sample { booking_id: "bkg_1".into(), amount_minor: 900 };
        assert_eq!(v1.decode::<Sample>().unwrap(), want);
        assert_eq!(v2.decode::<Sample>().unwrap(), want);
        let v3 = event("Sample", 3, json!({"booking_id": "bkg_1", "amount": {"minor": 900}}));
        assert_eq!(status(v3.decode::<Sample>().unwrap_err()).0, 503, "redelivered, not dropped");
        let v0 = event("Sample", 0, json!({}));
        assert_eq!(status(v0.decode::<Sample>().unwrap_err()), (422, "payload".into()));
        let broken_v1 = event("Sample", 1, json!({"booking_id": "bkg_1"}));
        assert_eq!(status(broken_v1.decode::<Sample>().unwrap_err()), (422, "payload".into()));
    }

    #[test]
    fn a_member_added_within_a_version_reads_as_its_default_on_older_events() {
        // BookingOrdered as booking wrote it before `venue` and `sales_close_at`
        let e = event(
            types::BOOKING_ORDERED,
            1,
            json!({"booking_id": "bkg_1", "user_id": "usr_1", "event_id": "evt_1", "amount_minor": 9000, "currency": "USD",
                   "buyer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+14155550100"},
                   "seats": ["S1-A-12"], "tiers": [{"tier_id": "tier_1", "quantity": 1, "price_minor": 9000}],
                   "hold_expires_at": "2026-03-01T12:15:00Z", "event_title": "Night", "starts_at": "2026-05-01T19:00:00Z",
                   "timezone": "America/New_York"}),
        );
        let o = e.decode::<BookingOrdered>().unwrap();
        assert_eq!((o.venue.as_str(), o.sales_close_at, o.attempt), ("", None, 1));
        assert_eq!(o.buyer.phone, "+14155550100");
    }

    #[test]
    fn a_payload_that_does_not_fit_names_the_member() {
        let e = event(
            types::PAYMENT_SUCCEEDED,
            1,
            json!({"booking_id": "bkg_1", "payment_id": "pay_1", "currency": "USD"}),
        );
        let (code, at) = status(e.decode::<PaymentSucceeded>().unwrap_err());
        assert_eq!(code, 422);
        assert!(at.starts_with("payload"), "{at}");
        let e = event(
            types::BOOKING_CONFIRMED,
            1,
            json!({"booking_id": "bkg_1", "user_id": "usr_1", "event_id": "evt_1", "starts_at": "2026-05-01T19:00:00Z",
                   "attendees": [{"name": "Ada", "seat_id": null, "tier_id": 7}]}),
        );
        assert_eq!(status(e.decode::<BookingConfirmed>().unwrap_err()), (422, "payload/attendees[0]/tier_id".into()));
    }

    #[test]
    fn an_event_read_as_another_type_is_a_bug_not_a_bad_payload() {
        let e = event(types::PAYMENT_FAILED, 1, json!({"booking_id": "bkg_1", "reason": "card_declined"}));
        assert_eq!(status(e.decode::<PaymentSucceeded>().unwrap_err()).0, 500);
        let failed = e.decode::<PaymentFailed>().unwrap();
        assert_eq!((failed.payment_id, failed.reason.as_str()), (None, "card_declined"));
    }

    #[test]
    fn an_erased_account_must_be_named_by_its_id() {
        let ok = event(types::ACCOUNT_ERASED, 1, json!({"user_id": platform::ids::new("usr")}));
        assert!(ok.decode::<AccountErased>().is_ok());
        let bad = event(types::ACCOUNT_ERASED, 1, json!({"user_id": "ada@example.com"}));
        assert_eq!(status(bad.decode::<AccountErased>().unwrap_err()), (422, "payload/user_id".into()));
    }

    #[test]
    fn what_a_producer_emits_is_what_its_consumers_read() {
        let confirmed = BookingConfirmed {
            booking_id: "bkg_1".into(),
            user_id: "usr_1".into(),
            event_id: "evt_1".into(),
            buyer: Buyer { name: "Ada".into(), email: "ada@example.com".into(), phone: String::new() },
            attendees: vec![Attendee { name: "Ada".into(), seat_id: None, tier_id: "tier_1".into() }],
            event_title: "Night".into(),
            starts_at: "2026-05-01T19:00:00Z".into(),
            timezone: "Europe/London".into(),
            venue: "Hall".into(),
        };
        let wire = serde_json::to_value(&confirmed).unwrap();
        assert_eq!(wire["attendees"][0]["seat_id"], Json::Null, "general admission is an explicit null");
        let e = event(BookingConfirmed::TYPE, BookingConfirmed::VERSION, wire);
        assert_eq!(e.decode::<BookingConfirmed>().unwrap(), confirmed);
    }
}
