//! The buyer's and staff's HTTP API.

use crate::domain::PayRequest;
use crate::flow;
use crate::followups::Followups;
use crate::provider::{Provider, ProviderError};
use crate::status::PaymentStatus;
use crate::store::{self, MAX_DECLINES};
use platform::auth::Role;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

/// `GET /api/payments/health`.
pub fn health(_: Request, _: Params) -> ApiResult<Response> {
    let mut checks =
        platform::health::sqlite_migrated(crate::store::DB, || crate::store::open().map_err(|e| e.to_string()));
    checks.extend(platform::secrets::health_checks(&[
        "jwt_keys",
        "tick_token",
        "payment_webhook_secret",
        "payment_secret_key",
    ]));
    Ok(platform::health::respond("payments", checks))
}

fn booking_param(params: &Params) -> ApiResult<String> {
    let id = params.get("booking_id").unwrap_or_default();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ApiError::NotFound("no such booking".into()));
    }
    Ok(id.to_string())
}

/// The order of the booking, visible to its buyer, staff and admins (404
/// for anybody else, so ids do not leak).
fn visible_order(
    req: &Request,
    conn: &Connection,
    booking_id: &str,
) -> ApiResult<(platform::auth::Caller, store::Order)> {
    let caller = platform::auth::require(req)?;
    let order =
        store::order(conn, booking_id)?.ok_or_else(|| ApiError::NotFound("no payment for this booking".into()))?;
    if caller.user_id != order.user_id && !matches!(caller.role, Role::Admin | Role::Staff) {
        return Err(ApiError::NotFound("no payment for this booking".into()));
    }
    Ok((caller, order))
}

/// For a booking payments has no order of: 503 `unavailable` (with
/// `Retry-After: 1`) when booking says the caller has it pending payment —
/// its `BookingOrdered` is on its way (a first delivery that failed under
/// load waits for its retry) — else `None` (the caller gets the 404).
/// One chained read, only on this rare path.
fn not_here_yet(req: &Request, booking_id: &str) -> Option<ApiError> {
    let caller = platform::auth::require(req).ok()?;
    let url = format!("http://{}/api/bookings/internal/{booking_id}/state", saga::chaining_host("booking"));
    let out = spin_sdk::http::Request::builder().method(spin_sdk::http::Method::Get).uri(url).build();
    let resp: Response = platform::web::send(out).ok()?;
    let v: Json = serde_json::from_slice(resp.body()).ok()?;
    (*resp.status() == 200 && v["user_id"] == caller.user_id.as_str() && v["status"] == "pending_payment").then(|| {
        ApiError::Unavailable(
            "this booking is still being set up for payment; try again in a moment (nothing was charged)".into(),
        )
    })
}

/// `GET /api/payments/{booking_id}`: the payment of a booking. An attempt
/// in flight (`processing` — including an unknown outcome — or
/// `requires_action`) is first looked up at the provider, so the answer is
/// as fresh as the provider's (a provider fault just leaves it as recorded).
pub fn get(req: Request, params: Params) -> ApiResult<Response> {
    let booking_id = booking_param(&params)?;
    let conn = crate::store::open()?;
    let (_, order) = visible_order(&req, &conn, &booking_id)?;
    let payments = store::payments_of(&conn, &booking_id)?;
    if let Some(p) = store::primary(&payments).filter(|p| p.in_flight()) {
        match Provider::from_config(&conn) {
            Ok(provider) => {
                if let Err(e) = flow::resolve(&conn, &provider, p) {
                    platform::log::warn!("payment {} not looked up at the provider: {e:?}", p.id);
                }
            }
            Err(e) => platform::log::warn!("payment {} not looked up at the provider: {e}", p.id),
        }
    }
    let order = store::order(&conn, &booking_id)?.unwrap_or(order);
    platform::web::ok(&store::booking_view(&conn, &order)?)
}

const NEXT_ATTEMPT: &str = "INSERT INTO payments (id, booking_id, attempt, round, amount_minor, currency, status, created_ms, updated_ms) \
     SELECT ?, booking_id, (SELECT COALESCE(MAX(attempt), 0) + 1 FROM payments WHERE booking_id = ?), attempt, amount_minor, currency, 'pending', ?, ? \
     FROM orders WHERE booking_id = ? AND outcome IS NULL AND cancelled_ms IS NULL \
     AND NOT EXISTS (SELECT 1 FROM payments WHERE booking_id = ? AND status NOT IN ('failed', 'canceled'))";
const SET_CARD: &str = "UPDATE payments SET card_brand = ?, card_last4 = ? WHERE id = ?";

/// `POST /api/payments/{booking_id}/pay`: confirm the booking's payment.
/// A booking whose `BookingOrdered` has not reached payments yet answers
/// 503 with `Retry-After` ([`not_here_yet`]), not 404.
pub fn pay(req: Request, params: Params) -> ApiResult<Response> {
    let booking_id = booking_param(&params)?;
    let body: PayRequest = platform::web::read_json(&req)?;
    let year = u32::try_from(platform::clock::utc_year(platform::clock::now_ms())).unwrap_or(0);
    let (method, return_url) = body.validate(year)?;
    let conn = crate::store::open()?;
    let (caller, order) = match visible_order(&req, &conn, &booking_id) {
        Err(ApiError::NotFound(why)) => return Err(not_here_yet(&req, &booking_id).unwrap_or(ApiError::NotFound(why))),
        found => found?,
    };
    if caller.user_id != order.user_id {
        return Err(ApiError::Forbidden("only the buyer pays for a booking".into()));
    }
    if order.cancelled_ms.is_some() {
        return Err(ApiError::conflict("booking-cancelled", "the booking was cancelled"));
    }
    let provider = Provider::from_config(&conn)?;
    let mut payments = store::payments_of(&conn, &booking_id)?;
    let mut order = order;
    if let Some(p) = payments.last().filter(|p| p.confirm_unknown_ms.is_some() && p.status == PaymentStatus::Processing)
    {
        // A retry after a lost answer: ask the provider first. Still unknown
        // means the intent shows no confirmation yet; it is confirmed again
        // below — the same intent, so never a second charge.
        if let Err(e) = flow::resolve(&conn, &provider, p) {
            platform::log::warn!("payment {} not looked up at the provider: {e:?}", p.id);
            return Ok(unknown(&booking_id, store::booking_view(&conn, &order)?, provider.wait_ms()));
        }
        payments = store::payments_of(&conn, &booking_id)?;
        order = store::order(&conn, &booking_id)?.unwrap_or(order);
    }
    if payments.iter().any(|p| p.is_paid()) {
        return platform::web::ok(&store::booking_view(&conn, &order)?);
    }
    if order.hold_expires_ms <= platform::clock::now_ms() {
        return Err(ApiError::conflict("hold-expired", "the seats are no longer held for this booking; book again"));
    }
    let in_flight =
        payments.last().is_some_and(|p| p.status == PaymentStatus::Processing && p.confirm_unknown_ms.is_none());
    if !in_flight && order.sales_close_ms.is_some_and(|close| close <= platform::clock::now_ms()) {
        // Nothing is confirmed once sales closed (issue 13): the open
        // attempt is cancelled at the provider and booking gives the
        // places back. A payment already in flight was started in time
        // and is left to finish.
        let mut out = Followups::default();
        platform::db::transaction(&conn, |c| flow::close_sales(c, &order, &mut out))?;
        out.run(&conn);
        return Err(ApiError::conflict(
            "sales-closed",
            "sales for this event closed before the booking was paid; nothing was charged and the places were released",
        ));
    }
    if !in_flight {
        // A provider that asked for no calls (429/503 with Retry-After):
        // 503 with the wait it has left, before anything is written.
        provider.check_open()?;
    }
    match payments.last().map(|p| (p.status, p.confirm_unknown_ms.is_some())) {
        Some((PaymentStatus::Processing, false)) => {
            return Ok(platform::web::json(202, &store::booking_view(&conn, &order)?))
        }
        Some((PaymentStatus::Processing, true)) => {}
        None | Some((PaymentStatus::Failed | PaymentStatus::Canceled, _)) => {
            if store::declines(&payments, order.attempt) >= MAX_DECLINES || order.outcome.as_deref() == Some("failed") {
                return Err(ApiError::conflict("attempts-exhausted", "too many declined attempts for this booking"));
            }
            let now = platform::clock::now_ms();
            conn.execute(
                NEXT_ATTEMPT,
                &[
                    Value::Text(platform::ids::new("pay")),
                    Value::Text(booking_id.clone()),
                    Value::Integer(now),
                    Value::Integer(now),
                    Value::Text(booking_id.clone()),
                    Value::Text(booking_id.clone()),
                ],
            )?;
        }
        _ => {}
    }
    let current = store::payments_of(&conn, &booking_id)?
        .into_iter()
        .next_back()
        .ok_or_else(|| ApiError::conflict("payment-busy", "another payment attempt just started; try again"))?;
    let current = flow::ensure_intent(&conn, &provider, &current.id)?;
    let Some(intent_id) = current.intent_id.clone() else {
        return Err(ApiError::conflict("payment-busy", "the payment is not ready; try again"));
    };
    if let crate::domain::PaymentMethod::Card(card) = &method {
        conn.execute(
            SET_CARD,
            &[
                Value::Text(card.number.brand().into()),
                Value::Text(card.number.last4().into()),
                Value::Text(current.id.clone()),
            ],
        )?;
    }
    let base = platform::config::get("public_base_url");
    let return_url = return_url.map(|u| match &base {
        Some(b) => format!("{}{u}", b.trim_end_matches('/')),
        None => u,
    });
    let intent = match provider.confirm(&intent_id, &method, return_url.as_deref()) {
        Ok(i) => i,
        Err(e) if e.is_ambiguous() => {
            // The card may have been charged: say so, and find out later.
            platform::log::warn!("payment provider: {e}; the outcome of confirming {intent_id} is unknown");
            let now = flow::mark_unknown(&conn, &current)?;
            let order = store::order(&conn, &booking_id)?.unwrap_or(order);
            let view = store::booking_view(&conn, &order)?;
            return Ok(if now.confirm_unknown_ms.is_some() {
                unknown(&booking_id, view, provider.wait_ms())
            } else {
                answer(&now, view)
            });
        }
        Err(ProviderError::Rejected { code, message, .. }) => {
            platform::log::warn!("provider refused the confirmation: {code}: {message}");
            if store::order(&conn, &booking_id)?.is_some_and(|o| o.cancelled_ms.is_some()) {
                // the booking was cancelled meanwhile and its intent with it
                return Err(cancelled_meanwhile());
            }
            return Err(ApiError::BadGateway(format!(
                "the payment provider refused the request ({code}); nothing was charged, try again"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = Followups::default();
    platform::db::transaction(&conn, |c| flow::apply_intent(c, &intent, &mut out))?;
    out.run(&conn);
    let now = store::payment(&conn, &current.id)?.ok_or_else(|| ApiError::NotFound("no such payment".into()))?;
    let order = store::order(&conn, &booking_id)?.unwrap_or(order);
    if order.cancelled_ms.is_some() {
        // The buyer abandoned (or the event was cancelled) while this
        // confirmation was on its way: whatever it charged goes back
        // (apply_intent reserved the refund), and the answer says so.
        return Err(cancelled_meanwhile());
    }
    let view = store::booking_view(&conn, &order)?;
    Ok(answer(&now, view))
}

/// 409 `booking-cancelled` for a confirmation that crossed the booking's
/// cancellation (the buyer abandoned it, the event was cancelled).
fn cancelled_meanwhile() -> ApiError {
    ApiError::conflict(
        "booking-cancelled",
        "the booking was cancelled while this payment was being confirmed; anything charged is refunded in full",
    )
}

/// The pay answer for attempt `p` as recorded: 402 declined, 202
/// processing, else 200.
fn answer(p: &store::Payment, view: Json) -> Response {
    match p.status {
        PaymentStatus::Failed => declined(p, view),
        PaymentStatus::Processing => platform::web::json(202, &view),
        _ => platform::web::json(200, &view),
    }
}

/// How soon a client should look again at an unknown outcome, seconds.
const RETRY_AFTER_SECS: u64 = 2;

/// 202 for a confirmation whose answer was lost: the view (`processing`,
/// `outcome_unknown: true`) with a `detail` saying so, `Location` = the
/// payment's status URL and `Retry-After`: [`RETRY_AFTER_SECS`], or the
/// provider's remaining pause `wait_ms` when longer (nothing can be
/// learnt from it before then).
fn unknown(booking_id: &str, mut view: Json, wait_ms: i64) -> Response {
    view["detail"] = json!(
        "The payment provider did not answer in time, so whether the card was charged is not known yet; it is being checked. \
         Look at this payment again shortly. Paying again with the same card is safe: it re-sends the same confirmation, never a second charge."
    );
    let mut r = platform::web::json(202, &view);
    r.set_header("location", format!("/api/payments/{booking_id}"));
    let secs = if wait_ms > 0 { crate::provider::wait_secs(wait_ms).max(RETRY_AFTER_SECS) } else { RETRY_AFTER_SECS };
    r.set_header("retry-after", secs.to_string());
    r
}

/// 402 problem+json for a declined card, with `decline_code`,
/// `attempts_left` and the payment view as extension members.
fn declined(p: &store::Payment, view: Json) -> Response {
    let body = json!({
        "type": "/problems/card-declined",
        "title": "The card was declined",
        "status": 402,
        "detail": p.failure_message.clone().unwrap_or_else(|| "the card was declined".into()),
        "code": p.failure_code,
        "decline_code": p.decline_code,
        "attempts_left": view["attempts_left"],
        "payment": view,
    });
    Response::builder()
        .status(402)
        .header("content-type", platform::problem::PROBLEM_JSON)
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .build()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundRequest {
    /// Required unless `ticket_id` is given (then: the ticket's price).
    #[serde(default)]
    amount_minor: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
    /// `tkt_…`: refund this one ticket, voiding it ([`crate::ticket_refund`]).
    #[serde(default)]
    ticket_id: Option<String>,
}

/// `POST /api/payments/{booking_id}/refunds` (the event's organizer,
/// admins): a partial or full refund of the booking's paid payment. With an
/// `Idempotency-Key`, [`platform::idempotency::once`] semantics (the first
/// answer replayed, 409 `idempotency-in-progress` while it runs); the key
/// is also recorded on the refund, so one key never refunds a payment
/// twice. 409 `refund-refused` when the provider refused it (nothing
/// went back; its refunds are then read from the provider, so one made
/// in its dashboard meanwhile is counted).
///
/// Body `{"amount_minor"?, "reason"?, "ticket_id"?}`: with `ticket_id`
/// (`tkt_…`) the refund is of that one ticket, which is voided first (its
/// seat or place on sale again; [`crate::ticket_refund::refund_ticket`] for
/// the answers), `amount_minor` defaulting to its price; without it
/// `amount_minor` is required. The refund's `ticket_id` names the ticket.
///
/// Who: money goes back on the word of whoever sells the event, its
/// organizer (asked of events, [`platform::event_access`]), or an admin;
/// door staff and other organizers get 403 (issue 17, item 7). 404 when
/// there is no payment for the booking; 503 when events cannot say.
pub fn refund(req: Request, params: Params) -> ApiResult<Response> {
    let booking_id = booking_param(&params)?;
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[Role::Organizer])?;
    let conn = crate::store::open()?;
    if !caller.is_admin() {
        let order = store::order(&conn, &booking_id)?
            .ok_or_else(|| ApiError::NotFound("no payment for this booking".into()))?;
        let organizer = match order.event_id.as_deref() {
            Some(event_id) => platform::event_access::lookup(event_id, &caller.user_id)?.map(|a| a.organizer_id),
            None => None,
        };
        if organizer.as_deref() != Some(caller.user_id.as_str()) {
            return Err(ApiError::Forbidden("only the event's organizer or an admin refunds".into()));
        }
    }
    platform::idempotency::once(&conn, &req, &caller.user_id, || refund_once(&req, &conn, booking_id, &caller.user_id))
}

fn refund_once(req: &Request, conn: &Connection, booking_id: String, by: &str) -> ApiResult<Response> {
    let key = platform::web::idempotency_key(req)?;
    let body: RefundRequest = platform::web::read_json(req)?;
    if body.amount_minor.is_some_and(|a| a <= 0) {
        return Err(ApiError::field("amount_minor", "must be a positive number of minor units"));
    }
    if let Some(t) = &body.ticket_id {
        if !t.starts_with("tkt_") || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ApiError::field("ticket_id", "must be a ticket id (tkt_…)"));
        }
    }
    let reason = body.reason.unwrap_or_else(|| "requested_by_staff".into());
    if reason.is_empty() || reason.len() > 200 {
        return Err(ApiError::field("reason", "must be 1-200 characters"));
    }
    let order =
        store::order(conn, &booking_id)?.ok_or_else(|| ApiError::NotFound("no payment for this booking".into()))?;
    let paid = store::payments_of(conn, &booking_id)?
        .into_iter()
        .find(|p| p.is_paid())
        .ok_or_else(|| ApiError::conflict("not-paid", "nothing was paid for this booking"))?;
    if let Some(ticket_id) = body.ticket_id.as_deref() {
        let ask = crate::ticket_refund::TicketRefund {
            ticket_id,
            amount_minor: body.amount_minor,
            reason: &reason,
            request_key: key.as_deref(),
            by,
        };
        return crate::ticket_refund::refund_ticket(conn, &order, &paid, &ask);
    }
    let amount_minor = body
        .amount_minor
        .ok_or_else(|| ApiError::field("amount_minor", "is required (or give ticket_id to refund one ticket)"))?;
    let provider = Provider::from_config(conn)?;
    if let Some(k) = &key {
        let existing = conn.execute(
            "SELECT id FROM refunds WHERE payment_id = ? AND request_key = ?",
            &[Value::Text(paid.id.clone()), Value::Text(k.clone())],
        )?;
        let found = existing.rows().next().and_then(|r| r.get::<&str>("id").map(str::to_string));
        if let Some(id) = found {
            let r = store::refund(conn, &id)?.ok_or_else(|| ApiError::NotFound("no such refund".into()))?;
            return platform::web::ok(&r.view());
        }
    }
    let id = platform::db::transaction(conn, |c| {
        crate::refunds::reserve_refund(c, &paid.id, Some(amount_minor), &reason, key.as_deref(), None)
    })?
    .ok_or_else(|| {
        ApiError::conflict(
            "refund-exceeds-payment",
            format!(
                "at most {} {} more can be refunded",
                paid.amount_minor - paid.refund_reserved_minor,
                order.currency
            ),
        )
    })?;
    if let Err(e) = crate::refunds::send_refund(conn, &provider, &id) {
        // the refund stays pending; the tick sends it again
        platform::log::warn!("payments: refund {id} not sent yet (the tick retries): {e}");
    }
    let r = store::refund(conn, &id)?.ok_or_else(|| ApiError::NotFound("no such refund".into()))?;
    if r.status == "failed" {
        // the provider said no (typically: more than is left there, as when
        // a refund was made in its dashboard meanwhile); nothing went back
        return Err(ApiError::conflict(
            "refund-refused",
            "the payment provider refused this refund (more than is left to refund there?); nothing was refunded — look at the payment's refunds and try again",
        ));
    }
    let status = if r.status == "pending" { 202 } else { 201 };
    let mut resp = platform::web::json(status, &r.view());
    resp.set_header("location", format!("/api/payments/{booking_id}"));
    Ok(resp)
}

/// `GET /api/payments/{booking_id}/events` (staff, admin): the saga events
/// payments emitted for the booking, oldest first.
pub fn events(req: Request, params: Params) -> ApiResult<Response> {
    let booking_id = booking_param(&params)?;
    platform::auth::require(&req)?.require_role(&[Role::Staff])?;
    let conn = crate::store::open()?;
    let rows = conn.execute(
        "SELECT id, event_type, occurred_at, payload FROM saga_outbox WHERE json_extract(payload, '$.booking_id') = ? ORDER BY created_ms, id",
        &[Value::Text(booking_id)],
    )?;
    let items: Vec<Json> = rows
        .rows()
        .map(|r| {
            json!({
                "id": r.get::<&str>("id"),
                "event_type": r.get::<&str>("event_type"),
                "occurred_at": r.get::<&str>("occurred_at"),
                "payload": serde_json::from_str::<Json>(r.get::<&str>("payload").unwrap_or("null")).unwrap_or(Json::Null),
            })
        })
        .collect();
    platform::web::ok(&json!({"items": items}))
}
