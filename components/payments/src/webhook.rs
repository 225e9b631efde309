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
//!   a paid payment back. `refund.*` / `charge.refund.updated` events settle
//!   refunds that were pending.

use crate::flow::{self, Followups};
use crate::provider::{Intent, Refund};
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
    let declared = platform::web::header_last(req, "content-length").map(|v| v.trim().parse::<usize>().unwrap_or(usize::MAX));
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
    crate::signature::verify(header, req.body(), secret.as_bytes(), platform::clock::now_secs())
        .map_err(|e| ApiError::BadRequest(format!("the webhook signature is not valid: {e:?}")))?;
    let event: Event = platform::web::parse_json(req.body())?;
    let object_id = event.data.object.get("id").and_then(|v| v.as_str()).map(str::to_string);
    let conn = crate::db()?;
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
                if let Some(ours) = refund.metadata.get("refund_id") {
                    match refund.status.as_str() {
                        "succeeded" => flow::complete_refund(c, ours, &refund.id, &mut out)?,
                        "failed" | "canceled" => flow::fail_refund(c, ours, &refund.status)?,
                        _ => {}
                    }
                }
            }
        }
        Ok(true)
    })?;
    out.run(&conn);
    platform::web::ok(&serde_json::json!({"received": true, "event_id": event.id, "duplicate": !applied}))
}
