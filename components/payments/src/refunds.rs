//! Refunds: reserved first (one conditional write, so refunds never add up
//! to more than was paid), sent to the provider after the commit, completed
//! or failed from its answer, its webhook or the tick; and refunds made in
//! the provider's own dashboard taken in. `PaymentRefunded` is emitted once
//! per completed refund.

use crate::followups::{retry_at, Followups};
use crate::provider::{Provider, ProviderError};
use crate::status::PaymentStatus;
use crate::store::{self, Payment};
use crate::PRODUCER;
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};

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
