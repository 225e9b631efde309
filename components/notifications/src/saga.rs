//! Saga consumer: `POST /api/notifications/saga` (service chaining only).
//!
//! | event | what the buyer gets | dedupe key |
//! |---|---|---|
//! | `BookingOrdered` | nothing (remembers who to tell) | — |
//! | `BookingConfirmed` | in-site "booking confirmed" | `confirmed:<booking>` |
//! | `TicketsIssued` | ONE email with every ticket of the booking (transactional) | `tickets:<booking>` |
//! | `PaymentFailed` | in-site + email: "hold expired, nothing charged" (`hold_expired`), "sales closed, nothing charged" (`sales_closed`) or "payment failed" | `payment-failed:<payment>` |
//! | `BookingCancelled` | in-site + email "cancelled" | `closed:<booking>` |
//! | `PaymentRefunded` (full) | same notice as the cancellation (whichever arrives first) | `closed:<booking>` |
//! | `PaymentRefunded` (partial) | in-site + email "refund" | `refund:<event id>` |
//! | `EventCancelled` | per confirmed booking of the event: the cancellation notice | `closed:<booking>` |
//! | `PasswordResetRequested` | ONE email with the reset link (transactional) | `password-reset:<event id>` |
//! | `EmailVerificationRequested` | ONE email with the link that confirms the address (transactional) | `email-verification:<event id>` |
//! | `AccountErased` | nothing; the person's messages, contacts and mail bodies are erased | — |
//!
//! A cancellation produces several saga events (event cancelled → booking
//! cancelled → payment refunded) in no guaranteed order; they share the
//! `closed:<booking>` key, so the buyer hears about it exactly once. Who
//! to tell is remembered from `BookingOrdered`/`BookingConfirmed`/
//! `TicketsIssued` (later events carry only the booking id); settings are
//! read from `users` before the inbox transaction opens (no network call
//! holds the write lock).
//!
//! Mail goes only to the account's own address, the one `auth` holds for
//! the booking's `user_id` (read through `users`' contact endpoint), never
//! to the free-text `buyer.email` of a booking: anyone could type any
//! address there and have the platform mail it (issue 17, item 6). No
//! account address known (users unreachable, account erased): in-site only.

use crate::compose::{self, Message};
use crate::jobs::{self, NewJob};
use crate::settings::{self, Contact};
use crate::times::{self, LocalTimes};
use platform::{ApiError, ApiResult};
use saga::contract::{
    AccountErased, BookingCancelled, BookingConfirmed, BookingOrdered, EmailVerificationRequested, EventCancelled,
    EventRescheduled, PasswordResetRequested, PaymentFailed, PaymentRefunded, TicketCancelled, TicketsIssued,
};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};
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

/// The [`ContactUpdate`] of a payload with the members of one
/// (`BookingOrdered`, `BookingConfirmed`, `TicketsIssued`).
macro_rules! contact_of {
    ($p:expr, $confirmed:expr) => {
        ContactUpdate {
            booking_id: &$p.booking_id,
            user_id: &$p.user_id,
            event_id: &$p.event_id,
            event_title: &$p.event_title,
            starts_at: &$p.starts_at,
            timezone: &$p.timezone,
            confirmed: $confirmed,
        }
    };
}

/// What a booking's events say about it, kept in `booking_contacts`.
struct ContactUpdate<'a> {
    booking_id: &'a str,
    user_id: &'a str,
    event_id: &'a str,
    event_title: &'a str,
    starts_at: &'a str,
    timezone: &'a str,
    confirmed: bool,
}

/// What is known about a booking's buyer.
#[derive(Debug, Clone, Default)]
struct BookingContact {
    booking_id: String,
    user_id: String,
    event_title: Option<String>,
    starts_at: Option<String>,
    timezone: Option<String>,
}

const UPSERT_CONTACT: &str = "INSERT INTO booking_contacts (booking_id, user_id, event_id, email, name, event_title, starts_at, timezone, confirmed, updated_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(booking_id) DO UPDATE SET \
     event_id = COALESCE(excluded.event_id, event_id), email = COALESCE(excluded.email, email), name = COALESCE(excluded.name, name), \
     event_title = COALESCE(excluded.event_title, event_title), starts_at = COALESCE(excluded.starts_at, starts_at), \
     timezone = COALESCE(excluded.timezone, timezone), confirmed = MAX(confirmed, excluded.confirmed), updated_ms = excluded.updated_ms";
const CONTACT: &str =
    "SELECT booking_id, user_id, event_title, starts_at, timezone FROM booking_contacts WHERE booking_id = ?";
const CONTACTS_OF_EVENT: &str = "SELECT booking_id, user_id, event_title, starts_at, timezone FROM booking_contacts \
     WHERE event_id = ? AND confirmed = 1 ORDER BY booking_id LIMIT 10000";
const MOVE_CONTACT: &str = "UPDATE booking_contacts SET starts_at = ?, schedule_version = ?, updated_ms = ? \
     WHERE booking_id = ? AND schedule_version < ? RETURNING booking_id";
const INSERT_MESSAGE: &str =
    "INSERT INTO messages (id, user_id, dedupe_key, kind, title, body, link, booking_id, created_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING";

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn o(s: Option<&str>) -> Value {
    s.map(t).unwrap_or(Value::Null)
}

fn contacts(conn: &Connection, sql: &str, key: &str) -> Result<Vec<BookingContact>, spin_sdk::sqlite3::Error> {
    let rs = conn.execute(sql, &[t(key)])?;
    let s = |r: &spin_sdk::sqlite3::Row<'_>, c: &str| r.get::<&str>(c).map(str::to_string);
    Ok(rs
        .rows()
        .map(|r| BookingContact {
            booking_id: s(&r, "booking_id").unwrap_or_default(),
            user_id: s(&r, "user_id").unwrap_or_default(),
            event_title: s(&r, "event_title"),
            starts_at: s(&r, "starts_at"),
            timezone: s(&r, "timezone"),
        })
        .collect())
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
    fn allows(&self, user: &str, kind: &str, channel: &str) -> bool {
        self.users.get(user).map(|c| c.allows(kind, channel)).unwrap_or(true)
    }

    fn email(&self, user: &str) -> Option<String> {
        self.users.get(user).and_then(|c| c.email.clone())
    }

    /// `at` in `timezone` for people (UTC when events could not say).
    fn when(&self, at: &str, timezone: &str) -> String {
        self.times.text(at, timezone)
    }
}

/// The users concerned by `event` with their settings, and the local times
/// its messages may show (outside any transaction).
fn prefetch(conn: &Connection, event: &saga::Event) -> Lookups {
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

/// `POST /api/notifications/saga`: applies one event (idempotent through
/// the saga inbox), then sends the emails that are due.
pub fn inbox(req: Request, _: Params) -> ApiResult {
    let conn = crate::store::open()?;
    let ctx = saga::parse_event(&req).map(|e| prefetch(&conn, &e)).unwrap_or_default();
    let resp = saga::receive(&req, &conn, |c, e| apply(c, e, &ctx))?;
    let report = jobs::deliver_due(&conn, 20);
    if report != jobs::DeliveryReport::default() {
        platform::log::info!("notifications: delivered after saga: {report:?}");
    }
    Ok(resp)
}

/// Enqueues auth's single-use-link `email` (kind `kind`, one of
/// [`jobs::TRANSACTIONAL`]: sent whatever the user's settings say) to
/// `to` (the address the link is for), once per `key`.
fn account_link_email(
    conn: &Connection,
    (user_id, to): (&str, &str),
    key: String,
    kind: &str,
    email: compose::Email,
) -> ApiResult<()> {
    if to.is_empty() {
        return Err(ApiError::field("payload/email", "is required"));
    }
    jobs::enqueue(
        conn,
        &NewJob { dedupe_key: key, kind, user_id: Some(user_id), booking_id: None, to_email: to, to_name: None, email },
    )?;
    Ok(())
}

fn upsert_contact(conn: &Connection, u: &ContactUpdate<'_>) -> ApiResult<()> {
    let some = |v: &str| if v.is_empty() { Value::Null } else { t(v) };
    conn.execute(
        UPSERT_CONTACT,
        &[
            t(u.booking_id),
            t(u.user_id),
            some(u.event_id),
            // the booking's free-text buyer e-mail and name are not kept:
            // mail goes to the account's own address ([`Lookups::email`])
            Value::Null,
            Value::Null,
            some(u.event_title),
            some(u.starts_at),
            some(u.timezone),
            Value::Integer(i64::from(u.confirmed)),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(())
}

fn message(conn: &Connection, user: &str, key: &str, kind: &str, booking: Option<&str>, m: &Message) -> ApiResult<()> {
    conn.execute(
        INSERT_MESSAGE,
        &[
            t(&platform::ids::new("ntf")),
            t(user),
            t(key),
            t(kind),
            t(&m.title),
            t(&m.body),
            o(m.link.as_deref()),
            o(booking),
            Value::Integer(platform::clock::now_ms()),
        ],
    )?;
    Ok(())
}

/// One notice about booking `c` through both channels, as `user`'s
/// settings allow (settings kind `booking`): an in-site message titled
/// `title` and an email with `subject`, both saying `body`, deduplicated by
/// `key`. Without any known address it is in-site only.
struct Notice<'a> {
    key: String,
    kind: &'a str,
    title: String,
    subject: String,
    body: String,
}

fn notify(conn: &Connection, ctx: &Lookups, c: &BookingContact, user: &str, n: Notice<'_>) -> ApiResult<()> {
    if ctx.allows(user, "booking", "in_app") {
        let m = Message { title: n.title, body: n.body.clone(), link: Some("/bookings".into()) };
        message(conn, user, &n.key, n.kind, Some(&c.booking_id), &m)?;
    }
    let Some(to) = ctx.email(user) else {
        platform::log::warn!("notifications: no account e-mail address for {user} ({}); in-site only", n.key);
        return Ok(());
    };
    let email = compose::simple_email(&n.subject, &[n.body]);
    let job = NewJob {
        dedupe_key: n.key,
        kind: n.kind,
        user_id: Some(user),
        booking_id: Some(&c.booking_id),
        to_email: &to,
        to_name: None,
        email,
    };
    jobs::enqueue(conn, &job)?;
    Ok(())
}

/// Applies `event` inside the inbox transaction.
pub fn apply(conn: &Connection, event: &saga::Event, ctx: &Lookups) -> ApiResult<()> {
    use saga::types::*;
    let base = platform::config::get("public_base_url").unwrap_or_default();
    let or_your_event = |title: &str| if title.is_empty() { "your event".to_string() } else { title.to_string() };
    match event.event_type.as_str() {
        BOOKING_ORDERED => {
            let p: BookingOrdered = event.decode()?;
            upsert_contact(conn, &contact_of!(p, false))
        }
        BOOKING_CONFIRMED => {
            let p: BookingConfirmed = event.decode()?;
            upsert_contact(conn, &contact_of!(p, true))?;
            let (b, u) = (p.booking_id.as_str(), p.user_id.as_str());
            if ctx.allows(u, "booking", "in_app") {
                let title = or_your_event(&p.event_title);
                let when = ctx.when(&p.starts_at, &p.timezone);
                let m = Message {
                    title: format!("Booking confirmed: {title}"),
                    body: format!("Your booking {b} for {title} on {when} is confirmed. Your tickets are in My tickets and on their way by email."),
                    link: Some(format!("/tickets?booking_id={b}")),
                };
                message(conn, u, &format!("confirmed:{b}"), "booking_confirmed", Some(b), &m)?;
            }
            Ok(())
        }
        TICKETS_ISSUED => {
            let p: TicketsIssued = event.decode()?;
            upsert_contact(conn, &contact_of!(p, true))?;
            let (b, u) = (p.booking_id.as_str(), p.user_id.as_str());
            if p.tickets.is_empty() {
                return Err(ApiError::field("payload/tickets", "must list the booking's tickets"));
            }
            let Some(to) = ctx.email(u) else {
                platform::log::warn!("notifications: tickets of {b}: no account e-mail address for {u}; in-site only");
                return Ok(());
            };
            let title = or_your_event(&p.event_title);
            let when = ctx.when(&p.starts_at, &p.timezone);
            let email = compose::tickets_email(&title, &when, &p.venue, b, &p.tickets, &base);
            jobs::enqueue(
                conn,
                &NewJob {
                    dedupe_key: format!("tickets:{b}"),
                    kind: "tickets",
                    user_id: Some(u),
                    booking_id: Some(b),
                    to_email: &to,
                    to_name: None,
                    email,
                },
            )?;
            Ok(())
        }
        PAYMENT_FAILED => {
            let p: PaymentFailed = event.decode()?;
            let Some(c) = contacts(conn, CONTACT, &p.booking_id)?.into_iter().next() else {
                return Ok(()); // nobody known to tell (the booking was never ordered here)
            };
            let when = c.starts_at.as_deref().zip(c.timezone.as_deref()).map(|(at, tz)| ctx.when(at, tz));
            let n = compose::unpaid_notice(&c.booking_id, c.event_title.as_deref(), when.as_deref(), Some(&p.reason));
            let key = format!("payment-failed:{}", p.payment_id.as_deref().unwrap_or(&event.id));
            notify(
                conn,
                ctx,
                &c,
                &c.user_id,
                Notice { key, kind: n.kind, title: n.title, subject: n.subject, body: n.body },
            )
        }
        BOOKING_CANCELLED => {
            let p: BookingCancelled = event.decode()?;
            let b = p.booking_id.as_str();
            let known = contacts(conn, CONTACT, b)?.into_iter().next();
            let user = Some(p.user_id.clone())
                .filter(|u| !u.is_empty())
                .or_else(|| known.as_ref().map(|c| c.user_id.clone()))
                .unwrap_or_default();
            if user.is_empty() {
                return Err(ApiError::field("payload/user_id", "is required"));
            }
            let c =
                known.unwrap_or(BookingContact { booking_id: b.into(), user_id: user.clone(), ..Default::default() });
            let refund = match (
                Some(p.amount_minor),
                Some(p.currency.as_str()).filter(|c| !c.is_empty()),
                p.reason.as_deref(),
            ) {
                // an unpaid booking given up on the payment step; a payment
                // still on its way is refunded and reported as a refund
                (_, _, Some("abandoned")) => {
                    " Nothing is charged for it: a payment still on its way when you left is refunded in full."
                        .to_string()
                }
                (Some(a), Some(cur), _) if a > 0 => {
                    format!(" Any payment ({}) is refunded to your card.", compose::money(a, cur))
                }
                _ => String::new(),
            };
            let why = match p.reason.as_deref() {
                Some("requested_by_customer") | None => "as you asked".to_string(),
                Some("abandoned") => "before it was paid, as you asked".to_string(),
                Some("event_cancelled") => "because the event was cancelled".to_string(),
                Some("seats_unavailable") => {
                    "because your seats were no longer available when the payment arrived".to_string()
                }
                Some(other) => format!("({})", other.replace('_', " ")),
            };
            closed(conn, ctx, &c, &user, format!("was cancelled {why}.{refund}"))
        }
        PAYMENT_REFUNDED => {
            let p: PaymentRefunded = event.decode()?;
            let Some(c) = contacts(conn, CONTACT, &p.booking_id)?.into_iter().next() else {
                return Ok(());
            };
            let amount = compose::money(p.amount_minor, &p.currency);
            if p.full {
                return closed(
                    conn,
                    ctx,
                    &c,
                    &c.user_id.clone(),
                    format!("was cancelled and {amount} is refunded to your card."),
                );
            }
            let title = c.event_title.clone().unwrap_or_else(|| "your booking".into());
            let body = format!("{amount} of booking {} ({title}) is refunded to your card.", c.booking_id);
            let subject = format!("Refund for {title}");
            notify(
                conn,
                ctx,
                &c,
                &c.user_id,
                Notice {
                    key: format!("refund:{}", event.id),
                    kind: "refund",
                    title: "Refund issued".into(),
                    subject,
                    body,
                },
            )
        }
        PASSWORD_RESET_REQUESTED => {
            let p: PasswordResetRequested = event.decode()?;
            account_link_email(
                conn,
                (&p.user_id, &p.email),
                format!("password-reset:{}", event.id),
                "password_reset",
                compose::password_reset_email(&p.reset_url),
            )
        }
        EMAIL_VERIFICATION_REQUESTED => {
            let p: EmailVerificationRequested = event.decode()?;
            account_link_email(
                conn,
                (&p.user_id, &p.email),
                format!("email-verification:{}", event.id),
                "email_verification",
                compose::email_verification_email(&p.verify_url),
            )
        }
        TICKET_CANCELLED => {
            let p: TicketCancelled = event.decode()?;
            let (b, ticket) = (p.booking_id.as_str(), p.ticket_id.as_str());
            let Some(c) = contacts(conn, CONTACT, b)?.into_iter().next() else { return Ok(()) };
            let title = c.event_title.clone().unwrap_or_else(|| or_your_event(&p.event_title));
            let place = p.seat_id.as_deref().map(|s| format!("seat {s}")).unwrap_or_else(|| "general admission".into());
            let refund = if p.refund_minor > 0 {
                format!(" {} is being refunded to your card.", compose::money(p.refund_minor, &p.currency))
            } else {
                " Nothing is refunded for it.".into()
            };
            let body = format!("One ticket of booking {b} for {title} ({place}) was cancelled and no longer admits anyone.{refund} The other tickets of the booking stay valid.");
            let n = Notice {
                key: format!("ticket-cancelled:{ticket}"),
                kind: "ticket_cancelled",
                title: format!("Ticket cancelled: {title}"),
                subject: format!("A ticket for {title} was cancelled"),
                body,
            };
            notify(conn, ctx, &c, &c.user_id.clone(), n)
        }
        EVENT_RESCHEDULED => {
            let p: EventRescheduled = event.decode()?;
            let (e, version, starts) = (p.event_id.as_str(), p.version, p.starts_at.as_str());
            for c in contacts(conn, CONTACTS_OF_EVENT, e)? {
                // once per buyer and move; a move older than the one shown is not news
                let moved = conn.execute(
                    MOVE_CONTACT,
                    &[
                        t(starts),
                        Value::Integer(version),
                        Value::Integer(platform::clock::now_ms()),
                        t(&c.booking_id),
                        Value::Integer(version),
                    ],
                )?;
                if moved.rows.is_empty() {
                    continue;
                }
                let tz = c.timezone.clone().unwrap_or_else(|| p.timezone.clone());
                let title = c.event_title.clone().unwrap_or_else(|| or_your_event(&p.title));
                let was = p.previous_starts_at.as_deref().or(c.starts_at.as_deref()).map(|at| ctx.when(at, &tz));
                let n = compose::rescheduled_notice(&title, &c.booking_id, &ctx.when(starts, &tz), was.as_deref());
                let key = format!("rescheduled:{}:{version}", c.booking_id);
                notify(
                    conn,
                    ctx,
                    &c,
                    &c.user_id.clone(),
                    Notice { key, kind: "event_rescheduled", title: n.title, subject: n.subject, body: n.body },
                )?;
            }
            Ok(())
        }
        EVENT_CANCELLED => {
            let p: EventCancelled = event.decode()?;
            let why = if p.reason.is_empty() { String::new() } else { format!(" ({})", p.reason) };
            for mut c in contacts(conn, CONTACTS_OF_EVENT, &p.event_id)? {
                c.event_title = c.event_title.or_else(|| Some(p.title.clone()).filter(|t| !t.is_empty()));
                let text = format!(
                    "was cancelled because the organizer cancelled the event{why}. Your payment is refunded in full."
                );
                closed(conn, ctx, &c, &c.user_id.clone(), text)?;
            }
            Ok(())
        }
        ACCOUNT_ERASED => erase_person(conn, &event.decode::<AccountErased>()?.user_id),
        _ => Ok(()),
    }
}

/// `AccountErased`: forgets what notifications knows about the person —
/// in-site messages deleted, booking contacts gone, e-mail jobs keep only
/// their bookkeeping (address, name, subject and bodies blanked; a pending
/// one is skipped, never sent) (issue 17, item 9).
fn erase_person(conn: &Connection, user_id: &str) -> ApiResult<()> {
    conn.execute("DELETE FROM messages WHERE user_id = ?", &[t(user_id)])?;
    conn.execute("DELETE FROM booking_contacts WHERE user_id = ?", &[t(user_id)])?;
    conn.execute(
        "UPDATE email_jobs SET to_email = '', to_name = NULL, subject = '', html = '', text = '', \
         status = CASE WHEN status = 'pending' THEN 'skipped' ELSE status END WHERE user_id = ?",
        &[t(user_id)],
    )?;
    Ok(())
}

/// The one "your booking is cancelled" notice of a booking (`closed:<booking>`).
fn closed(conn: &Connection, ctx: &Lookups, c: &BookingContact, user: &str, what: String) -> ApiResult<()> {
    let title = c.event_title.clone().unwrap_or_else(|| "your event".into());
    let when = match (c.starts_at.as_deref(), c.timezone.as_deref()) {
        (Some(at), Some(tz)) => format!(" on {}", ctx.when(at, tz)),
        _ => String::new(),
    };
    let body = format!("Your booking {} for {title}{when} {what} Its tickets are void.", c.booking_id);
    let notice = Notice {
        key: format!("closed:{}", c.booking_id),
        kind: "booking_cancelled",
        title: format!("Booking cancelled: {title}"),
        subject: format!("Your booking for {title} is cancelled"),
        body,
    };
    notify(conn, ctx, c, user, notice)
}
