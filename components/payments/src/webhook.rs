//! `POST /api/payments/webhook`: the provider's signed event deliveries.
//!
//! * Bodies over [`MAX_BODY`] bytes (by `Content-Length` when sent, else
//!   by the bytes received) → 413 `payload-too-large` before any HMAC.
//! * A body not declared JSON → 415 `unsupported-media-type`, as every JSON
//!   endpoint ([`platform::web::require_json_content_type`]); Stripe sends
//!   `Content-Type: application/json; charset=utf-8`.
//! * `Stripe-Signature` is verified over the exact raw body
//!   ([`crate::signature`]): missing, forged, re-serialised, stale or
//!   future-dated (±5 min) → 400 `bad-request`, nothing applied.
//! * Every valid delivery gets 200, including types we ignore and objects
//!   we do not know.
//! * The provider event id is recorded in `webhook_events` in the SAME
//!   transaction as its effect: a duplicate (three in a row or three at
//!   once) is applied once.
//! * `payment_intent.*` events carry the intent; it is applied with the
//!   forward-only rule of [`crate::flow`], so out-of-order events never move
//!   a paid payment back.
//! * Refunds follow Stripe's event semantics ([`crate::refunds::apply_provider_refund`]:
//!   each refund applied once by its id, in any order, however often):
//!   `refund.created`, `refund.updated`, `refund.failed` and the older
//!   `charge.refund.updated` carry one Refund — ours (`metadata.refund_id`)
//!   or one made at the provider (no metadata: found by its
//!   `payment_intent`); `charge.refunded` carries the Charge with the
//!   CUMULATIVE `amount_refunded` and usually no refund list, so when it
//!   says more went back than payments knows, the provider's list of the
//!   intent's refunds is read (before the event is recorded: a failed read
//!   answers 503 and the provider delivers again) and each entry applied.

use crate::flow;
use crate::followups::Followups;
use crate::provider::{Charge, Intent, Provider, Refund};
use crate::store;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::Value;

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: Data,
}

#[derive(Debug, Deserialize)]
struct Data {
    object: serde_json::Value,
}

const RECORD: &str = "INSERT INTO webhook_events (event_id, event_type, object_id, received_ms) VALUES (?, ?, ?, ?) \
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id";

/// Largest webhook body accepted, bytes (256 KiB). Stripe event payloads
/// are a few KiB; anything far larger is not a provider delivery.
pub const MAX_BODY: usize = 256 * 1024;

/// The declared (`Content-Length`) or actual body length, whichever is
/// larger; an unparsable `Content-Length` counts as too large.
fn body_len(req: &Request) -> usize {
    let declared =
        platform::web::header_last(req, "content-length").map(|v| v.trim().parse::<usize>().unwrap_or(usize::MAX));
    declared.unwrap_or(0).max(req.body().len())
}

/// The webhook endpoint.
pub fn receive(req: Request, _: Params) -> ApiResult<Response> {
    if body_len(&req) > MAX_BODY {
        return Err(ApiError::PayloadTooLarge(format!("a webhook body is at most {MAX_BODY} bytes")));
    }
    platform::web::require_json_content_type(&req)?;
    let secret = platform::secrets::require("payment_webhook_secret")?;
    let header = platform::web::header_last(&req, "stripe-signature")
        .ok_or_else(|| ApiError::BadRequest("the Stripe-Signature header is missing".into()))?;
    webhook_signature::verify(header, req.body(), secret.as_bytes(), platform::clock::now_secs())
        .map_err(|e| ApiError::BadRequest(format!("the webhook signature is not valid: {e:?}")))?;
    let event: Event = platform::web::parse_json(req.body())?;
    let object_id = event.data.object.get("id").and_then(|v| v.as_str()).map(str::to_string);
    let conn = crate::store::open()?;
    let listed = match event.event_type.as_str() {
        "charge.refunded" => refunds_behind(&conn, &event.data.object)?,
        _ => Vec::new(),
    };
    let mut out = Followups::default();
    let applied = platform::db::transaction(&conn, |c| {
        let fresh = c.execute(
            RECORD,
            &[
                Value::Text(event.id.clone()),
                Value::Text(event.event_type.clone()),
                object_id.clone().map(Value::Text).unwrap_or(Value::Null),
                Value::Integer(platform::clock::now_ms()),
            ],
        )?;
        if fresh.rows.is_empty() {
            return Ok::<_, ApiError>(false);
        }
        if event.event_type.starts_with("payment_intent.") {
            if let Ok(intent) = serde_json::from_value::<Intent>(event.data.object.clone()) {
                flow::apply_intent(c, &intent, &mut out)?;
            }
        } else if event.event_type.starts_with("refund.") || event.event_type == "charge.refund.updated" {
            if let Ok(refund) = serde_json::from_value::<Refund>(event.data.object.clone()) {
                if let Some(p) = payment_of(c, &refund)? {
                    crate::refunds::apply_provider_refund(c, &p, &refund, &mut out)?;
                }
            }
        } else if event.event_type == "charge.refunded" {
            let charge = serde_json::from_value::<Charge>(event.data.object.clone()).ok();
            let embedded = charge.and_then(|ch| ch.refunds).map(|l| l.data).unwrap_or_default();
            for refund in embedded.iter().chain(&listed) {
                if let Some(p) = payment_of(c, refund)? {
                    crate::refunds::apply_provider_refund(c, &p, refund, &mut out)?;
                }
            }
        }
        Ok(true)
    })?;
    out.run(&conn);
    platform::web::ok(&serde_json::json!({"received": true, "event_id": event.id, "duplicate": !applied}))
}

/// The payment a provider refund belongs to: by our `metadata.refund_id`,
/// else by its `payment_intent`. `None` for refunds of payments we do not
/// know (acknowledged, nothing applied).
fn payment_of(c: &spin_sdk::sqlite3::Connection, r: &Refund) -> ApiResult<Option<store::Payment>> {
    if let Some(ours) = r.metadata.get("refund_id").map(|id| store::refund(c, id)).transpose()?.flatten() {
        return Ok(store::payment(c, &ours.payment_id)?);
    }
    match &r.payment_intent {
        Some(pi) => Ok(store::payment_by_intent(c, pi)?),
        None => Ok(None),
    }
}

/// For `charge.refunded`: when its cumulative `amount_refunded` is more
/// than payments has recorded as refunded for that intent, the provider's
/// list of the intent's refunds (read now, outside any transaction);
/// otherwise nothing. Errors: 503 when the provider cannot be read — the
/// event is then not recorded, and the provider's redelivery tries again;
/// when the provider is throttling us (its 429/503 with `Retry-After`, or
/// a pause still running), the 503's `Retry-After` is that remaining wait.
fn refunds_behind(conn: &spin_sdk::sqlite3::Connection, object: &serde_json::Value) -> ApiResult<Vec<Refund>> {
    let Ok(charge) = serde_json::from_value::<Charge>(object.clone()) else { return Ok(Vec::new()) };
    let Some(pi) = charge.payment_intent.as_deref() else { return Ok(Vec::new()) };
    let Some(p) = store::payment_by_intent(conn, pi)? else { return Ok(Vec::new()) };
    if charge.amount_refunded <= p.refunded_minor {
        return Ok(Vec::new());
    }
    let provider = Provider::from_config(conn)?;
    provider.list_refunds(pi).map_err(|e| {
        platform::log::warn!("charge.refunded for {pi}: the provider's refund list could not be read: {e}");
        match e.retry_after_secs() {
            Some(retry_after_secs) => ApiError::UnavailableFor {
                retry_after_secs,
                detail: format!("the provider's refunds could not be read ({e}); deliver the event again"),
            },
            None => ApiError::Unavailable("the provider's refunds could not be read; deliver the event again".into()),
        }
    })
}
