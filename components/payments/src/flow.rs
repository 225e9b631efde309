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
//!   when succeeded refunds equal the amount ([`crate::refunds`]).

use crate::followups::{check_delay_ms, retry_at, Followups};
use crate::provider::{Intent, IntentStatus, Provider, ProviderError};
use crate::refunds::{reserve_refund, send_refund};
use crate::status::PaymentStatus;
use crate::store::{self, Payment, MAX_DECLINES};
use crate::PRODUCER;
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};

/// Provider calls and relays after the commit (the struct is in
/// [`crate::followups`], kept apart so that refunds can fill it).
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
                    // the reconciliation check stays due if this fails: harmless, it finds the same answer
                    if let Err(e) = conn.execute("UPDATE payments SET next_check_ms = NULL WHERE intent_id = ? AND status IN ('canceled', 'failed')", &[Value::Text(intent_id.into())]) {
                        platform::log::warn!("payments: {intent_id} stays due for a check: {e:?}");
                    }
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
