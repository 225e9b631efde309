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
use crate::contacts::{
    contact_of, contacts, o, t, upsert_contact, BookingContact, ContactUpdate, CONTACT, CONTACTS_OF_EVENT, MOVE_CONTACT,
};
use crate::jobs::{self, NewJob};
use crate::lookups::{prefetch, Lookups};
use platform::{ApiError, ApiResult};
use saga::contract::{
    AccountErased, BookingCancelled, BookingConfirmed, BookingOrdered, EmailVerificationRequested, EventCancelled,
    EventRescheduled, PasswordResetRequested, PaymentFailed, PaymentRefunded, TicketCancelled, TicketsIssued,
};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::{Connection, Value};

const INSERT_MESSAGE: &str =
    "INSERT INTO messages (id, user_id, dedupe_key, kind, title, body, link, booking_id, created_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING";

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
