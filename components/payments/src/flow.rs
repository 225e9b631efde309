//! Write commands: every state change of a payment, each one short
//! transaction (no provider call ever runs inside a transaction: the
//! provider may call our webhook while we wait for it).
//!
//! The rules (docs/DESIGN.md §3, §4):
//! * A payment's status only moves forward ([`rank`]); a paid payment never
//!   moves backwards, whatever order the provider's news arrives in.
//! * `PaymentSucceeded` is emitted once per booking, by whichever path
//!   (buyer's confirm answer, webhook, reconciliation) records the success
//!   first; a second paid attempt of the same booking, or a payment for a
//!   cancelled booking, is refunded instead.
//! * `PaymentFailed` is emitted once per booking when it can no longer be
//!   paid: after [`MAX_DECLINES`] declines, or when the hold expired with
//!   nothing in flight (tick).
//! * A confirmation whose answer was lost (timeout, transport failure, 5xx,
//!   unreadable answer) has an UNKNOWN outcome: the attempt becomes
//!   `processing` with `confirm_unknown_ms` set ([`mark_unknown`]) and is
//!   settled by asking the provider ([`resolve`]: on the next GET or pay, and
//!   by the tick). It never opens a new attempt (no second intent, so no
//!   second charge); a retried pay re-confirms the same intent with the same
//!   Idempotency-Key. If the intent still shows no confirmation after
//!   [`CONFIRM_GRACE_MS`], the confirmation never landed: the attempt goes
//!   back to `requires_payment_method`.
//! * Refunds reserve their amount first (one conditional write), so refunds
//!   can never exceed what was paid; the status becomes `refunded` exactly
//!   when succeeded refunds equal the amount.

use crate::provider::{Intent, IntentStatus, Provider, ProviderError};
use crate::status::PaymentStatus;
use crate::store::{self, Payment, MAX_DECLINES};
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};

/// Component name used as the saga producer.
pub const PRODUCER: &str = "payments";

/// Work to do after a transaction committed.
#[derive(Debug, Default)]
pub struct Followups {
    /// Events to relay now.
    pub events: Vec<saga::Event>,
    /// Refunds to send to the provider now.
    pub refunds: Vec<String>,
    /// Payments whose intent should be created now.
    pub create: Vec<String>,
    /// Intents to cancel at the provider now.
    pub cancel: Vec<String>,
}

impl Followups {
    /// Runs the follow-ups (best effort: the tick retries whatever fails).
    pub fn run(self, conn: &Connection) {
        if !self.events.is_empty() {
            saga::relay_events(conn, &self.events);
        }
        if self.create.is_empty() && self.cancel.is_empty() && self.refunds.is_empty() {
            return;
        }
        let provider = match Provider::from_config(conn) {
            Ok(p) => p,
            Err(e) => {
                platform::log::warn!("provider calls left to the tick: {e}");
                return;
            }
        };
        for id in &self.create {
            if let Err(e) = ensure_intent(conn, &provider, id) {
                platform::log::warn!("creating the intent of {id} failed (the tick retries): {e}");
            }
        }
        for intent in &self.cancel {
            cancel_intent(conn, &provider, intent);
        }
        for id in &self.refunds {
            if let Err(e) = send_refund(conn, &provider, id) {
                platform::log::warn!("refund {id} not sent (the tick retries): {e}");
            }
        }
    }
}

/// The local status an intent means.
pub fn local_status(intent: &Intent) -> PaymentStatus {
    match intent.status {
        IntentStatus::Succeeded => PaymentStatus::Succeeded,
        IntentStatus::Processing | IntentStatus::RequiresCapture => PaymentStatus::Processing,
        IntentStatus::RequiresAction => PaymentStatus::RequiresAction,
        IntentStatus::Canceled => PaymentStatus::Canceled,
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation => {
            if intent.last_payment_error.is_some() {
                PaymentStatus::Failed
            } else {
                PaymentStatus::RequiresPaymentMethod
            }
        }
    }
}

/// Backoff of the reconciliation: 2 s, 4 s, 8 s … capped at 10 min.
pub fn check_delay_ms(checks: i64) -> i64 {
    (2_000i64 << checks.clamp(0, 20)).min(600_000)
}

const MOVE: &str = "UPDATE payments SET status = ?, failure_code = ?, decline_code = ?, failure_message = ?, \
     next_action_url = ?, next_check_ms = ?, checks = 0, confirm_unknown_ms = NULL, updated_ms = ?, \
     succeeded_ms = CASE WHEN ? = 'succeeded' THEN ? ELSE succeeded_ms END \
     WHERE id = ? AND status = ? RETURNING *";
const KNOWN: &str = "UPDATE payments SET confirm_unknown_ms = NULL WHERE id = ?";
const WIN_ORDER: &str = "UPDATE orders SET outcome = 'succeeded', updated_ms = ? \
     WHERE booking_id = ? AND cancelled_ms IS NULL AND (outcome IS NULL OR outcome = 'failed') RETURNING booking_id";
const FAIL_ORDER: &str = "UPDATE orders SET outcome = 'failed', updated_ms = ? \
     WHERE booking_id = ? AND outcome IS NULL AND cancelled_ms IS NULL RETURNING booking_id";

/// Records what the provider says about `intent` (inside the caller's
/// transaction). Returns the payment as it now is, or `None` when no payment
/// holds this intent. Emits at most one saga event.
pub fn apply_intent(c: &Connection, intent: &Intent, out: &mut Followups) -> ApiResult<Option<Payment>> {
    let found = match store::payment_by_intent(c, &intent.id)? {
        Some(p) => Some(p),
        None => match intent.metadata.get("payment_id") {
            Some(id) => {
                store::payment(c, id)?.filter(|p| p.intent_id.is_none() || p.intent_id.as_deref() == Some(&intent.id))
            }
            None => None,
        },
    };
    let Some(p) = found else { return Ok(None) };
    let to = local_status(intent);
    // An unknown outcome is `processing` only for want of news: the
    // provider's word that it waits for 3-D Secure is news too.
    let unknown = p.confirm_unknown_ms.is_some() && p.status == PaymentStatus::Processing;
    if unknown && to == PaymentStatus::Processing {
        c.execute(KNOWN, &[Value::Text(p.id.clone())])?;
    }
    if !(p.status.may_move_to(to) || unknown && to == PaymentStatus::RequiresAction) {
        return Ok(Some(p));
    }
    let now = platform::clock::now_ms();
    let err = intent.last_payment_error.clone().unwrap_or_default();
    let failed = to == PaymentStatus::Failed;
    let next_check = if to.in_flight() { Value::Integer(now + check_delay_ms(0)) } else { Value::Null };
    let opt = |s: Option<String>| s.map(Value::Text).unwrap_or(Value::Null);
    let moved = c.execute(
        MOVE,
        &[
            Value::Text(to.as_str().into()),
            if failed { opt(err.code.clone()) } else { Value::Null },
            if failed { opt(err.decline_code.clone()) } else { Value::Null },
            if failed { opt(err.message.clone()) } else { Value::Null },
            opt(intent.redirect_url()),
            next_check,
            Value::Integer(now),
            Value::Text(to.as_str().into()),
            Value::Integer(now),
            Value::Text(p.id.clone()),
            Value::Text(p.status.as_str().into()),
        ],
    )?;
    let Some(p) = moved.rows().next().map(|r| Payment::from_row(&r)) else {
        return store::payment(c, &p.id).map_err(Into::into);
    };
    if p.intent_id.is_none() {
        c.execute(
            "UPDATE payments SET intent_id = ? WHERE id = ?",
            &[Value::Text(intent.id.clone()), Value::Text(p.id.clone())],
        )?;
    }
    match to {
        PaymentStatus::Succeeded => {
            let won = c.execute(WIN_ORDER, &[Value::Integer(now), Value::Text(p.booking_id.clone())])?;
            if won.rows.is_empty() {
                // The booking was cancelled, or another attempt already paid it:
                // this money must go back.
                if let Some(id) = reserve_refund(c, &p.id, None, "duplicate_or_cancelled", None, None)? {
                    out.refunds.push(id);
                }
            } else {
                let succeeded = saga::contract::PaymentSucceeded {
                    booking_id: p.booking_id.clone(),
                    payment_id: p.id.clone(),
                    amount_minor: p.amount_minor,
                    currency: p.currency.clone(),
                };
                let ev = saga::emit(c, PRODUCER, &succeeded)?;
                out.events.push(ev);
            }
        }
        PaymentStatus::Failed => {
            let payments = store::payments_of(c, &p.booking_id)?;
            let order = store::order(c, &p.booking_id)?;
            let expired = order.as_ref().is_some_and(|o| o.hold_expires_ms <= now);
            if store::declines(&payments, p.round) >= MAX_DECLINES || expired {
                let reason = err.decline_code.or(err.code).unwrap_or_else(|| "declined".into());
                fail_order(c, &p, &reason, out)?;
            }
        }
        _ => {}
    }
    Ok(Some(p))
}

/// Marks the booking's payment as definitively failed and emits
/// `PaymentFailed` (once).
pub fn fail_order(c: &Connection, p: &Payment, reason: &str, out: &mut Followups) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    if !c.execute(FAIL_ORDER, &[Value::Integer(now), Value::Text(p.booking_id.clone())])?.rows.is_empty() {
        let failed = saga::contract::PaymentFailed {
            booking_id: p.booking_id.clone(),
            payment_id: Some(p.id.clone()),
            reason: reason.to_string(),
        };
        let ev = saga::emit(c, PRODUCER, &failed)?;
        out.events.push(ev);
    }
    Ok(())
}

/// `PaymentFailed` reason when a booking's sales window closed before it
/// was paid (booking then cancels it with that reason; nothing was charged).
pub const SALES_CLOSED: &str = "sales_closed";

const CANCEL_OPEN: &str = "UPDATE payments SET status = 'canceled', next_check_ms = ?, updated_ms = ? \
     WHERE booking_id = ? AND status IN ('pending', 'requires_payment_method', 'requires_action') RETURNING intent_id";

/// Inside a transaction: the booking's sales window closed before it was
/// paid. Every attempt not yet paid or in flight is `canceled` (its intent
/// cancelled at the provider after the commit, through `out`), and
/// `PaymentFailed {reason: "sales_closed"}` is emitted once, so booking
/// releases the places. Idempotent.
pub fn close_sales(c: &Connection, order: &store::Order, out: &mut Followups) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    let open = cancel_open(c, &order.booking_id, now)?;
    out.cancel.extend(open);
    if !c.execute(FAIL_ORDER, &[Value::Integer(now), Value::Text(order.booking_id.clone())])?.rows.is_empty() {
        let last = store::payments_of(c, &order.booking_id)?.pop().map(|p| p.id);
        let failed = saga::contract::PaymentFailed {
            booking_id: order.booking_id.clone(),
            payment_id: last,
            reason: SALES_CLOSED.to_string(),
        };
        let ev = saga::emit(c, PRODUCER, &failed)?;
        out.events.push(ev);
    }
    Ok(())
}

/// Marks the attempts of `booking_id` that are not paid, not failed and
/// not in flight `canceled` (reconciled from 2 s on, in case the provider
/// says otherwise); returns their intents, to cancel at the provider.
pub fn cancel_open(c: &Connection, booking_id: &str, now: i64) -> ApiResult<Vec<String>> {
    let open = c.execute(
        CANCEL_OPEN,
        &[Value::Integer(now + check_delay_ms(0)), Value::Integer(now), Value::Text(booking_id.into())],
    )?;
    Ok(open.rows().filter_map(|r| r.get::<&str>("intent_id").map(str::to_string)).collect())
}

const REMAINING: &str = "SELECT amount_minor - refund_reserved_minor AS left FROM payments WHERE id = ? AND status IN ('succeeded', 'partially_refunded')";
const RESERVE: &str = "UPDATE payments SET refund_reserved_minor = refund_reserved_minor + ?, updated_ms = ? \
     WHERE id = ? AND status IN ('succeeded', 'partially_refunded') AND refund_reserved_minor + ? <= amount_minor RETURNING id";
const INSERT_REFUND: &str = "INSERT INTO refunds (id, payment_id, amount_minor, reason, request_key, ticket_id, status, next_try_ms, created_ms, updated_ms) \
     VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)";

/// Reserves a refund of `amount` (all that is left when `None`) from payment
/// `payment_id` and records it `pending` (inside the caller's transaction).
/// `Ok(None)` when nothing is left to refund (or the amount exceeds what is
/// left: the caller decides whether that is an error). `request_key`: the
/// client's `Idempotency-Key`; `ticket_id`: the one cancelled ticket it
/// refunds (at most one refund per ticket: look for it first with
/// [`crate::store::refund_of_ticket`] in the same transaction).
pub fn reserve_refund(
    c: &Connection,
    payment_id: &str,
    amount: Option<i64>,
    reason: &str,
    request_key: Option<&str>,
    ticket_id: Option<&str>,
) -> ApiResult<Option<String>> {
    let amount = match amount {
        Some(a) => a,
        None => match c
            .execute(REMAINING, &[Value::Text(payment_id.into())])?
            .rows()
            .next()
            .and_then(|r| r.get::<i64>("left"))
        {
            Some(left) if left > 0 => left,
            _ => return Ok(None),
        },
    };
    let now = platform::clock::now_ms();
    let reserved = c.execute(
        RESERVE,
        &[Value::Integer(amount), Value::Integer(now), Value::Text(payment_id.into()), Value::Integer(amount)],
    )?;
    if reserved.rows.is_empty() {
        return Ok(None);
    }
    let id = platform::ids::new("rfd");
    c.execute(
        INSERT_REFUND,
        &[
            Value::Text(id.clone()),
            Value::Text(payment_id.into()),
            Value::Integer(amount),
            Value::Text(reason.into()),
            request_key.map(|k| Value::Text(k.into())).unwrap_or(Value::Null),
            ticket_id.map(|t| Value::Text(t.into())).unwrap_or(Value::Null),
            Value::Integer(now),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )?;
    Ok(Some(id))
}

const COMPLETE_REFUND: &str = "UPDATE refunds SET status = 'succeeded', provider_id = ?, updated_ms = ? \
     WHERE id = ? AND status = 'pending' RETURNING payment_id, amount_minor, reason";
const ADD_REFUNDED: &str = "UPDATE payments SET refunded_minor = refunded_minor + ?, \
     status = CASE WHEN refunded_minor + ? = amount_minor THEN 'refunded' ELSE 'partially_refunded' END, updated_ms = ? \
     WHERE id = ? RETURNING *";
const FAIL_REFUND: &str = "UPDATE refunds SET status = 'failed', failure = ?, updated_ms = ? WHERE id = ? AND status = 'pending' RETURNING payment_id, amount_minor";
const RELEASE: &str =
    "UPDATE payments SET refund_reserved_minor = refund_reserved_minor - ?, updated_ms = ? WHERE id = ?";
const RETRY_REFUND: &str = "UPDATE refunds SET attempts = attempts + 1, next_try_ms = ?, failure = ?, updated_ms = ? WHERE id = ? AND status = 'pending'";

/// Records that refund `refund_id` went through (once) and emits
/// `PaymentRefunded` (inside the caller's transaction).
pub fn complete_refund(c: &Connection, refund_id: &str, provider_id: &str, out: &mut Followups) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    let done = c.execute(
        COMPLETE_REFUND,
        &[Value::Text(provider_id.into()), Value::Integer(now), Value::Text(refund_id.into())],
    )?;
    let Some((payment_id, amount, reason)) = done.rows().next().map(|r| {
        (
            r.get::<&str>("payment_id").unwrap_or_default().to_string(),
            r.get::<i64>("amount_minor").unwrap_or(0),
            r.get::<&str>("reason").unwrap_or_default().to_string(),
        )
    }) else {
        return Ok(());
    };
    let updated = c.execute(
        ADD_REFUNDED,
        &[Value::Integer(amount), Value::Integer(amount), Value::Integer(now), Value::Text(payment_id)],
    )?;
    if let Some(p) = updated.rows().next().map(|r| Payment::from_row(&r)) {
        let refunded = saga::contract::PaymentRefunded {
            booking_id: p.booking_id.clone(),
            payment_id: p.id.clone(),
            refund_id: refund_id.to_string(),
            amount_minor: amount,
            currency: p.currency.clone(),
            full: p.status == PaymentStatus::Refunded,
            refunded_total_minor: p.refunded_minor,
            reason,
        };
        let ev = saga::emit(c, PRODUCER, &refunded)?;
        out.events.push(ev);
    }
    Ok(())
}

/// `reason` of a refund made at the provider (its dashboard, another
/// integration), followed by the provider's own reason when it gives one.
pub const AT_PROVIDER: &str = "refunded_at_provider";

const REFUND_BY_PROVIDER_ID: &str = "SELECT id FROM refunds WHERE provider_id = ?";
const INSERT_PROVIDER_REFUND: &str = "INSERT INTO refunds (id, payment_id, amount_minor, reason, status, provider_id, next_try_ms, created_ms, updated_ms) \
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (provider_id) WHERE provider_id IS NOT NULL DO NOTHING RETURNING id";

/// Applies what the provider says about one refund `r` of payment `p`
/// (inside the caller's transaction), exactly once however often and in
/// whatever order the news arrives — a `refund.created`/`refund.updated`
/// webhook, an entry of the provider's list read on `charge.refunded`, or
/// our own call's answer:
///
/// * a refund we asked for carries our id in `metadata.refund_id`;
/// * one made at the provider (no metadata) is known by its `re_…` id
///   (unique), and the first news of it records it — amount reserved
///   against the payment like ours, reason [`AT_PROVIDER`];
/// * `succeeded` completes it once ([`complete_refund`]: `PaymentRefunded`
///   reaches booking, tickets and the buyer), `failed`/`canceled` releases
///   it, anything else (`pending`, `requires_action`) waits for more news.
///
/// Errors: 503 when a refund made at the provider does not fit what is left
/// to refund next to our own refunds still in flight (one of those must
/// then fail at the provider); the webhook is answered 503 and retried.
pub fn apply_provider_refund(
    c: &Connection,
    p: &Payment,
    r: &crate::provider::Refund,
    out: &mut Followups,
) -> ApiResult<()> {
    let ours = match r.metadata.get("refund_id") {
        Some(id) if store::refund(c, id)?.is_some_and(|local| local.payment_id == p.id) => Some(id.clone()),
        _ => None,
    };
    let known = || -> ApiResult<Option<String>> {
        Ok(c.execute(REFUND_BY_PROVIDER_ID, &[Value::Text(r.id.clone())])?
            .rows()
            .next()
            .and_then(|row| row.get::<&str>("id").map(str::to_string)))
    };
    let id = match ours.map(Ok).or_else(|| known().transpose()).transpose()? {
        Some(id) => id,
        None if r.status == "failed" || r.status == "canceled" => return Ok(()), // never counted, nothing to undo
        None => {
            let now = platform::clock::now_ms();
            let reason = match r.reason.as_deref().filter(|x| !x.is_empty()) {
                Some(why) => format!("{AT_PROVIDER}: {why}"),
                None => AT_PROVIDER.to_string(),
            };
            let id = platform::ids::new("rfd");
            let inserted = c.execute(
                INSERT_PROVIDER_REFUND,
                &[
                    Value::Text(id.clone()),
                    Value::Text(p.id.clone()),
                    Value::Integer(r.amount),
                    Value::Text(reason),
                    Value::Text(r.id.clone()),
                    Value::Integer(now),
                    Value::Integer(now),
                    Value::Integer(now),
                ],
            )?;
            if inserted.rows.is_empty() {
                known()?.ok_or_else(|| ApiError::Unavailable("the refund is being recorded; try again".into()))?
            } else {
                let fits = c.execute(
                    RESERVE,
                    &[
                        Value::Integer(r.amount),
                        Value::Integer(now),
                        Value::Text(p.id.clone()),
                        Value::Integer(r.amount),
                    ],
                )?;
                if fits.rows.is_empty() {
                    return Err(ApiError::Unavailable(format!(
                        "refund {} at the provider does not fit next to refunds still in flight; retry later",
                        r.id
                    )));
                }
                id
            }
        }
    };
    match r.status.as_str() {
        "succeeded" => complete_refund(c, &id, &r.id, out),
        "failed" | "canceled" => fail_refund(c, &id, &r.status),
        _ => Ok(()),
    }
}

/// Records a definitive refusal of refund `refund_id` and releases its
/// reservation.
pub fn fail_refund(c: &Connection, refund_id: &str, why: &str) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    let failed =
        c.execute(FAIL_REFUND, &[Value::Text(why.into()), Value::Integer(now), Value::Text(refund_id.into())])?;
    if let Some((pid, amount)) = failed.rows().next().map(|r| {
        (r.get::<&str>("payment_id").unwrap_or_default().to_string(), r.get::<i64>("amount_minor").unwrap_or(0))
    }) {
        c.execute(RELEASE, &[Value::Integer(amount), Value::Integer(now), Value::Text(pid)])?;
    }
    Ok(())
}

/// Sends pending refund `refund_id` to the provider (Idempotency-Key = the
/// refund id, so a retry never refunds twice) and records the answer.
pub fn send_refund(conn: &Connection, provider: &Provider, refund_id: &str) -> ApiResult<()> {
    let Some(r) = store::refund(conn, refund_id)? else { return Ok(()) };
    if r.status != "pending" {
        return Ok(());
    }
    let Some(p) = store::payment(conn, &r.payment_id)? else { return Ok(()) };
    let Some(intent) = p.intent_id.clone() else { return Ok(()) };
    let mut out = Followups::default();
    match provider.refund(&intent, r.amount_minor, &r.id) {
        Ok(done) if done.status == "succeeded" => {
            platform::db::transaction(conn, |c| complete_refund(c, &r.id, &done.id, &mut out))?;
        }
        Ok(other) if other.status == "failed" || other.status == "canceled" => {
            platform::db::transaction(conn, |c| fail_refund(c, &r.id, &other.status))?;
        }
        Ok(_) => retry_refund_later(conn, provider, &r, "provider reports the refund pending")?,
        Err(ProviderError::Rejected { code, message, .. }) => {
            platform::db::transaction(conn, |c| fail_refund(c, &r.id, &format!("{code}: {message}")))?;
            // Refused (typically "amount too large"): the provider may hold
            // refunds we have not heard of yet — made in its dashboard
            // while ours was on its way, their webhook refused meanwhile
            // for want of room. Its list is the truth; take it now.
            if let Err(e) = reconcile_refunds(conn, provider, &p) {
                platform::log::warn!("refunds of {intent} not reconciled after a refusal (the next webhook does): {e}");
            }
        }
        Err(e) => {
            retry_refund_later(conn, provider, &r, &e.to_string())?;
            return Err(e.into());
        }
    }
    out.run(conn);
    Ok(())
}

/// Reads the provider's list of `p`'s refunds and applies each entry
/// ([`apply_provider_refund`], one transaction each), then runs what that
/// emitted.
pub fn reconcile_refunds(conn: &Connection, provider: &Provider, p: &Payment) -> ApiResult<()> {
    let Some(intent) = p.intent_id.as_deref() else { return Ok(()) };
    let listed = provider.list_refunds(intent)?;
    let mut out = Followups::default();
    for r in &listed {
        let Some(now) = store::payment(conn, &p.id)? else { return Ok(()) };
        platform::db::transaction(conn, |c| apply_provider_refund(c, &now, r, &mut out))?;
    }
    out.run(conn);
    Ok(())
}

fn retry_refund_later(conn: &Connection, provider: &Provider, r: &store::Refund, why: &str) -> ApiResult<()> {
    let now = platform::clock::now_ms();
    conn.execute(
        RETRY_REFUND,
        &[
            Value::Integer(retry_at(provider, now, r.attempts)),
            Value::Text(why.into()),
            Value::Integer(now),
            Value::Text(r.id.clone()),
        ],
    )?;
    Ok(())
}

/// When to try again after `tries` failed tries from `now` (Unix ms):
/// after the backoff ([`check_delay_ms`]), and never before the end of the
/// provider's pause ([`Provider::paused_until`]).
pub fn retry_at(provider: &Provider, now: i64, tries: i64) -> i64 {
    (now + check_delay_ms(tries)).max(provider.paused_until())
}

const SET_INTENT: &str = "UPDATE payments SET intent_id = ?, status = CASE WHEN status = 'pending' THEN 'requires_payment_method' ELSE status END, \
     next_check_ms = CASE WHEN status = 'pending' THEN NULL ELSE next_check_ms END, updated_ms = ? WHERE id = ? AND intent_id IS NULL";
const RECHECK: &str =
    "UPDATE payments SET checks = checks + 1, next_check_ms = ?, updated_ms = updated_ms WHERE id = ?";

/// Creates the provider intent of payment `payment_id` if it has none
/// (Idempotency-Key from booking id + attempt), and returns the payment.
pub fn ensure_intent(conn: &Connection, provider: &Provider, payment_id: &str) -> ApiResult<Payment> {
    let p = store::payment(conn, payment_id)?.ok_or_else(|| ApiError::NotFound("no such payment".into()))?;
    if p.intent_id.is_some() || p.status != PaymentStatus::Pending {
        return Ok(p);
    }
    let key = crate::provider::create_key(&p.booking_id, p.attempt);
    let created = provider.create_intent(
        p.amount_minor,
        &p.currency,
        &[("booking_id", &p.booking_id), ("payment_id", &p.id), ("attempt", &p.attempt.to_string())],
        &key,
    );
    match created {
        Ok(intent) => {
            conn.execute(
                SET_INTENT,
                &[Value::Text(intent.id.clone()), Value::Integer(platform::clock::now_ms()), Value::Text(p.id.clone())],
            )?;
            store::payment(conn, payment_id)?.ok_or_else(|| ApiError::NotFound("no such payment".into()))
        }
        Err(e) => {
            schedule_check(conn, provider, &p)?;
            Err(e.into())
        }
    }
}

/// How long after a confirmation whose answer was lost the intent may still
/// show no sign of it before the confirmation counts as never received, ms
/// (a provider finishes a confirmation within seconds; the sandbox's
/// injected latency is at most 30 s).
pub const CONFIRM_GRACE_MS: i64 = 60_000;

const MARK_UNKNOWN: &str = "UPDATE payments SET status = 'processing', confirm_unknown_ms = ?1, next_check_ms = ?2, checks = 0, updated_ms = ?1 \
     WHERE id = ?3 AND status IN ('pending', 'requires_payment_method', 'requires_action', 'processing') RETURNING *";
const NEVER_CONFIRMED: &str = "UPDATE payments SET status = 'requires_payment_method', confirm_unknown_ms = NULL, next_check_ms = NULL, updated_ms = ? \
     WHERE id = ? AND status = 'processing' AND confirm_unknown_ms IS NOT NULL AND confirm_unknown_ms <= ? RETURNING *";

/// Records that the confirmation of `p` was sent but its answer lost: the
/// outcome is unknown (`processing`, `confirm_unknown_ms` = now), checked
/// by the tick from 2 s on. A payment whose outcome is already known (a
/// webhook may have arrived meanwhile) is left as it is. Returns the payment
/// as it now is.
pub fn mark_unknown(conn: &Connection, p: &Payment) -> ApiResult<Payment> {
    let now = platform::clock::now_ms();
    let marked = conn.execute(
        MARK_UNKNOWN,
        &[Value::Integer(now), Value::Integer(now + check_delay_ms(0)), Value::Text(p.id.clone())],
    )?;
    let marked = marked.rows().next().map(|r| Payment::from_row(&r));
    match marked {
        Some(m) => Ok(m),
        None => store::payment(conn, &p.id)?.ok_or_else(|| ApiError::NotFound("no such payment".into())),
    }
}

/// Asks the provider how the intent of `p` stands and records the answer
/// (PaymentIntents "retrieve"); an unknown outcome whose intent still shows
/// no confirmation after [`CONFIRM_GRACE_MS`] goes back to
/// `requires_payment_method`. A provider fault reschedules the check and
/// is returned. Returns the payment as it now is.
pub fn resolve(conn: &Connection, provider: &Provider, p: &Payment) -> ApiResult<Payment> {
    let Some(intent_id) = &p.intent_id else { return Ok(p.clone()) };
    let intent = match provider.retrieve(intent_id) {
        Ok(i) => i,
        Err(e) => {
            schedule_check(conn, provider, p)?;
            return Err(e.into());
        }
    };
    let mut out = Followups::default();
    let now = platform::db::transaction(conn, |c| -> ApiResult<Option<Payment>> {
        let applied = apply_intent(c, &intent, &mut out)?;
        let unconfirmed =
            matches!(intent.status, IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation)
                && intent.last_payment_error.is_none();
        match applied {
            Some(n) if unconfirmed && n.confirm_unknown_ms.is_some() => {
                let ms = platform::clock::now_ms();
                let back = c.execute(
                    NEVER_CONFIRMED,
                    &[Value::Integer(ms), Value::Text(n.id.clone()), Value::Integer(ms - CONFIRM_GRACE_MS)],
                )?;
                let back = back.rows().next().map(|r| Payment::from_row(&r));
                Ok(Some(back.unwrap_or(n)))
            }
            other => Ok(other),
        }
    })?;
    out.run(conn);
    Ok(now.unwrap_or_else(|| p.clone()))
}

/// Asks for a reconciliation of `p` after the usual backoff, and not
/// before the provider's pause ends ([`retry_at`]).
pub fn schedule_check(conn: &Connection, provider: &Provider, p: &Payment) -> ApiResult<()> {
    conn.execute(
        RECHECK,
        &[Value::Integer(retry_at(provider, platform::clock::now_ms(), p.checks)), Value::Text(p.id.clone())],
    )?;
    Ok(())
}

/// Cancels `intent_id` at the provider (best effort) and records the answer
/// (which may well be "it succeeded after all": then it is refunded).
pub fn cancel_intent(conn: &Connection, provider: &Provider, intent_id: &str) {
    let answer = match provider.cancel(intent_id) {
        Ok(i) => Ok(i),
        Err(ProviderError::Rejected { .. }) => provider.retrieve(intent_id),
        Err(e) => Err(e),
    };
    match answer {
        Ok(intent) => {
            let mut out = Followups::default();
            let applied = platform::db::transaction(conn, |c| apply_intent(c, &intent, &mut out).map(|_| ()));
            match applied {
                Ok(()) => {
                    let _ = conn.execute("UPDATE payments SET next_check_ms = NULL WHERE intent_id = ? AND status IN ('canceled', 'failed')", &[Value::Text(intent_id.into())]);
                    out.run(conn);
                }
                Err(e) => platform::log::error!("recording the cancellation of {intent_id} failed: {e}"),
            }
        }
        Err(e) => platform::log::warn!("cancelling {intent_id} failed (the tick retries): {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may_move(from: &str, to: &str) -> bool {
        let status = |name| PaymentStatus::parse(name).unwrap_or_else(|| panic!("no status {name}"));
        status(from).may_move_to(status(to))
    }

    #[test]
    fn statuses_only_move_forward() {
        assert!(may_move("pending", "requires_action"));
        assert!(may_move("requires_action", "processing"));
        assert!(may_move("processing", "succeeded"));
        assert!(may_move("processing", "failed"));
        assert!(may_move("failed", "succeeded"));
        assert!(may_move("canceled", "succeeded"));
        assert!(!may_move("processing", "requires_action"));
        assert!(!may_move("failed", "processing"));
        for paid in ["succeeded", "partially_refunded", "refunded"] {
            for to in ["processing", "failed", "canceled", "requires_action", "succeeded"] {
                assert!(!may_move(paid, to), "{paid} -> {to}");
            }
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(check_delay_ms(0), 2_000);
        assert_eq!(check_delay_ms(3), 16_000);
        assert_eq!(check_delay_ms(40), 600_000);
    }
}
