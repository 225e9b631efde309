//! `POST /api/payments/tick` (Bearer `tick_token`): the periodic work.
//!
//! 1. Reconciliation: payments whose `next_check_ms` passed — intent never
//!    created (provider fault), stuck in `processing`/`requires_action`, a
//!    confirmation whose answer was lost (outcome unknown: see
//!    [`flow::resolve`]), a cancellation not yet sent — are looked up at the
//!    provider and the answer applied (backoff 2 s … 10 min).
//! 2. Pending refunds are (re)sent with their original Idempotency-Key.
//! 3. Bookings whose hold expired with nothing paid or in flight get
//!    `PaymentFailed` (`hold_expired`), once.
//! 4. The saga relay retries undelivered events.
//! 5. Expired Idempotency-Key records are deleted.
//!
//! Steps 1 and 2 call the provider: while it asks for no calls (a 429 or
//! 503 with `Retry-After`, [`crate::provider`]) they send nothing, and a
//! throttled answer midway ends them for this tick; what is left waits for
//! a tick after the pause (`provider_wait_ms` in the report;
//! `refunds_sent` counts the refunds tried).

use crate::flow;
use crate::followups::Followups;
use crate::provider::Provider;
use crate::status::PaymentStatus;
use crate::store::{self, Payment};
use platform::ApiResult;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

const DUE: &str =
    "SELECT * FROM payments WHERE next_check_ms IS NOT NULL AND next_check_ms <= ? ORDER BY next_check_ms LIMIT 25";
const DUE_REFUNDS: &str =
    "SELECT id FROM refunds WHERE status = 'pending' AND next_try_ms <= ? ORDER BY next_try_ms LIMIT 25";
const EXPIRED: &str = "SELECT p.* FROM orders o JOIN payments p ON p.booking_id = o.booking_id AND p.attempt = \
     (SELECT MAX(attempt) FROM payments WHERE booking_id = o.booking_id) \
     WHERE o.outcome IS NULL AND o.cancelled_ms IS NULL AND o.hold_expires_ms < ? \
     AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.booking_id = o.booking_id AND q.status IN ('processing', 'requires_action', 'succeeded', 'partially_refunded', 'refunded')) LIMIT 25";

/// The tick route.
pub fn tick(req: Request, _: Params) -> ApiResult<Response> {
    saga::require_tick(&req)?;
    let conn = crate::store::open()?;
    let provider = Provider::from_config(&conn)?;
    let now = platform::clock::now_ms();
    let due: Vec<Payment> = conn.execute(DUE, &[Value::Integer(now)])?.rows().map(|r| Payment::from_row(&r)).collect();
    let mut reconciled = 0;
    for p in &due {
        if provider.wait_ms() > 0 {
            break;
        }
        if reconcile(&conn, &provider, p).is_ok() {
            reconciled += 1;
        }
    }
    let refunds: Vec<String> = conn
        .execute(DUE_REFUNDS, &[Value::Integer(now)])?
        .rows()
        .filter_map(|r| r.get::<&str>("id").map(str::to_string))
        .collect();
    let mut refunds_sent = 0;
    for id in &refunds {
        if provider.wait_ms() > 0 {
            break;
        }
        if let Err(e) = crate::refunds::send_refund(&conn, &provider, id) {
            platform::log::warn!("payments: refund {id} not sent (next tick): {e}");
        }
        refunds_sent += 1;
    }
    let expired: Vec<Payment> =
        conn.execute(EXPIRED, &[Value::Integer(now)])?.rows().map(|r| Payment::from_row(&r)).collect();
    let mut out = Followups::default();
    for p in &expired {
        platform::db::transaction(&conn, |c| flow::fail_order(c, p, "hold_expired", &mut out))?;
    }
    out.run(&conn);
    let relay = saga::relay(&conn);
    let swept = platform::idempotency::sweep(&conn, now)?;
    platform::web::ok(&serde_json::json!({
        "reconciled": reconciled, "due": due.len(), "refunds_sent": refunds_sent,
        "expired": expired.len(), "relay": relay, "idempotency_keys_swept": swept,
        "provider_wait_ms": provider.wait_ms(),
    }))
}

fn reconcile(conn: &Connection, provider: &Provider, p: &Payment) -> ApiResult<()> {
    let Some(intent_id) = p.intent_id.clone() else {
        let order = store::order(conn, &p.booking_id)?;
        if p.status == PaymentStatus::Pending && order.is_some_and(|o| o.cancelled_ms.is_none()) {
            flow::ensure_intent(conn, provider, &p.id)?;
        } else {
            conn.execute("UPDATE payments SET next_check_ms = NULL WHERE id = ?", &[Value::Text(p.id.clone())])?;
        }
        return Ok(());
    };
    if p.status == PaymentStatus::Canceled {
        flow::cancel_intent(conn, provider, &intent_id);
        return Ok(());
    }
    let n = flow::resolve(conn, provider, p)?;
    match n {
        n if matches!(
            n.status,
            PaymentStatus::Processing
                | PaymentStatus::RequiresAction
                | PaymentStatus::RequiresPaymentMethod
                | PaymentStatus::Pending
        ) && n.updated_ms == p.updated_ms =>
        {
            flow::schedule_check(conn, provider, &n)?;
        }
        n if !n.status.in_flight() => {
            conn.execute("UPDATE payments SET next_check_ms = NULL WHERE id = ?", &[Value::Text(n.id)])?;
        }
        _ => {}
    }
    Ok(())
}
