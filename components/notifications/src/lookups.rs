//! What a delivery needs from other services, read before the inbox
//! transaction opens (no network call holds the write lock): the
//! settings and account e-mail of the people concerned (users) and the
//! local times the messages show (events, [`LocalTimes`]).

use crate::contacts::{contacts, BookingContact, CONTACT, CONTACTS_OF_EVENT};
use crate::settings::{self, Contact};
use crate::times::{self, LocalTimes};
use saga::contract::{
    BookingCancelled, BookingConfirmed, BookingOrdered, EmailVerificationRequested, EventCancelled, EventRescheduled,
    PasswordResetRequested, PaymentFailed, PaymentRefunded, TicketCancelled, TicketsIssued,
};
use spin_sdk::sqlite3::Connection;
use std::collections::HashMap;

/// Most users looked up for one event (an event cancellation fans out).
const MAX_PREFETCH: usize = 200;

/// Whom and which times an event concerns, read from its payload before
/// the inbox transaction ([`prefetch`]); empty for a payload that does not
/// fit (the delivery is then refused inside the transaction).
#[derive(Debug, Default)]
struct Concerns {
    booking_id: Option<String>,
    event_id: Option<String>,
    user_id: Option<String>,
    starts_at: Option<String>,
    previous_starts_at: Option<String>,
    timezone: Option<String>,
}

impl Concerns {
    fn of(event: &saga::Event) -> Concerns {
        use saga::types::*;
        let booking = |booking_id: String, user_id: Option<String>| Concerns {
            booking_id: Some(booking_id),
            user_id: user_id.filter(|u| !u.is_empty()),
            ..Concerns::default()
        };
        let at = |booking_id: String, user_id: String, starts_at: String, timezone: String| Concerns {
            starts_at: Some(starts_at),
            timezone: Some(timezone),
            ..booking(booking_id, Some(user_id))
        };
        let read = || -> Option<Concerns> {
            Some(match event.event_type.as_str() {
                BOOKING_ORDERED => {
                    let p: BookingOrdered = event.decode().ok()?;
                    at(p.booking_id, p.user_id, p.starts_at, p.timezone)
                }
                BOOKING_CONFIRMED => {
                    let p: BookingConfirmed = event.decode().ok()?;
                    at(p.booking_id, p.user_id, p.starts_at, p.timezone)
                }
                TICKETS_ISSUED => {
                    let p: TicketsIssued = event.decode().ok()?;
                    at(p.booking_id, p.user_id, p.starts_at, p.timezone)
                }
                BOOKING_CANCELLED => {
                    let p: BookingCancelled = event.decode().ok()?;
                    booking(p.booking_id, Some(p.user_id))
                }
                TICKET_CANCELLED => {
                    let p: TicketCancelled = event.decode().ok()?;
                    booking(p.booking_id, Some(p.user_id))
                }
                PAYMENT_FAILED => booking(event.decode::<PaymentFailed>().ok()?.booking_id, None),
                PAYMENT_REFUNDED => booking(event.decode::<PaymentRefunded>().ok()?.booking_id, None),
                EVENT_CANCELLED => {
                    Concerns { event_id: Some(event.decode::<EventCancelled>().ok()?.event_id), ..Concerns::default() }
                }
                EVENT_RESCHEDULED => {
                    let p: EventRescheduled = event.decode().ok()?;
                    Concerns {
                        event_id: Some(p.event_id),
                        starts_at: Some(p.starts_at),
                        previous_starts_at: p.previous_starts_at,
                        timezone: Some(p.timezone),
                        ..Concerns::default()
                    }
                }
                PASSWORD_RESET_REQUESTED => Concerns {
                    user_id: Some(event.decode::<PasswordResetRequested>().ok()?.user_id),
                    ..Concerns::default()
                },
                EMAIL_VERIFICATION_REQUESTED => Concerns {
                    user_id: Some(event.decode::<EmailVerificationRequested>().ok()?.user_id),
                    ..Concerns::default()
                },
                _ => return None,
            })
        };
        read().unwrap_or_default()
    }
}

/// What [`apply`] needs from other services, read before the inbox
/// transaction: the settings and account e-mail of the users concerned
/// (users) and the local start times its messages show (events, through
/// [`LocalTimes`]).
#[derive(Debug, Default)]
pub struct Lookups {
    users: HashMap<String, Contact>,
    times: LocalTimes,
}

impl Lookups {
    pub fn allows(&self, user: &str, kind: &str, channel: &str) -> bool {
        self.users.get(user).map(|c| c.allows(kind, channel)).unwrap_or(true)
    }

    pub fn email(&self, user: &str) -> Option<String> {
        self.users.get(user).and_then(|c| c.email.clone())
    }

    /// `at` in `timezone` for people (UTC when events could not say).
    pub fn when(&self, at: &str, timezone: &str) -> String {
        self.times.text(at, timezone)
    }
}

/// The users concerned by `event` with their settings, and the local times
/// its messages may show (outside any transaction).
pub fn prefetch(conn: &Connection, event: &saga::Event) -> Lookups {
    let p = Concerns::of(event);
    let mut known: Vec<BookingContact> = Vec::new();
    if let Some(b) = p.booking_id.as_deref() {
        known.extend(contacts(conn, CONTACT, b).unwrap_or_default());
    } else if let Some(e) = p.event_id.as_deref() {
        known.extend(contacts(conn, CONTACTS_OF_EVENT, e).unwrap_or_default());
    }
    let mut users: Vec<String> = match p.user_id.clone() {
        Some(u) => vec![u],
        None => known.iter().map(|c| c.user_id.clone()).collect(),
    };
    users.sort();
    users.dedup();
    // every (instant, zone) a message of this event may name: the payload's
    // own times and the known bookings' (a move shows old and new start)
    let (at, was) = (p.starts_at.as_deref(), p.previous_starts_at.as_deref());
    let mut asks = vec![times::ask(at, p.timezone.as_deref()), times::ask(was, p.timezone.as_deref())];
    for c in &known {
        let tz = c.timezone.as_deref();
        asks.extend([times::ask(c.starts_at.as_deref(), tz), times::ask(at, tz), times::ask(was, tz)]);
    }
    Lookups {
        users: users.into_iter().take(MAX_PREFETCH).filter_map(|u| settings::fetch(&u).map(|c| (u, c))).collect(),
        times: LocalTimes::fetch(conn, asks.into_iter().flatten()),
    }
}
