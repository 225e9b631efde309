//! The sandbox PaymentIntents API (a Stripe subset), test cards and the
//! 3-D Secure step.
//!
//! Test cards (number, or `payment_method` id):
//!
//! | card | `pm_…` | outcome |
//! |---|---|---|
//! | 4242 4242 4242 4242 | `pm_card_visa` | `succeeded` |
//! | 4000 0000 0000 0002 | `pm_card_chargeDeclined` | 402 `card_declined` / `generic_decline` |
//! | 4000 0000 0000 9995 | `pm_card_chargeDeclinedInsufficientFunds` | 402 `card_declined` / `insufficient_funds` |
//! | 4000 0025 0000 3155 | `pm_card_authenticationRequired` | `requires_action` (3-D Secure page) |
//! | 4000 0000 0000 0077 | `pm_card_processing` | `processing`, `succeeded` ~2 s later |
//! | any other valid number | — | 402 `card_declined` / `test_mode_live_card` |
//!
//! A `processing` intent settles lazily (on retrieve, on the list page, on
//! `POST /sandbox/payments/admin/settle`), then its webhook is queued.

use crate::faults;
use platform::ApiResult;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::{Connection, Row, Value};
use std::collections::BTreeMap;

/// How long a `processing` intent takes to succeed, ms.
pub const SETTLE_MS: i64 = 2_000;

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// The charge succeeds.
    Succeed,
    /// Declined with this decline code.
    Decline(&'static str),
    /// 3-D Secure needed.
    Authenticate,
    /// Processing, then succeeded.
    Process,
}

/// The behaviour of a card number or `pm_…` id; `None` for an unknown `pm_…`.
pub fn behaviour(number: Option<&str>, pm: Option<&str>) -> Option<Behaviour> {
    match (number, pm) {
        (Some(n), _) => Some(match n {
            "4242424242424242" => Behaviour::Succeed,
            "4000000000000002" => Behaviour::Decline("generic_decline"),
            "4000000000009995" => Behaviour::Decline("insufficient_funds"),
            "4000002500003155" => Behaviour::Authenticate,
            "4000000000000077" => Behaviour::Process,
            _ => Behaviour::Decline("test_mode_live_card"),
        }),
        (None, Some(pm)) => match pm {
            "pm_card_visa" => Some(Behaviour::Succeed),
            "pm_card_chargeDeclined" => Some(Behaviour::Decline("generic_decline")),
            "pm_card_chargeDeclinedInsufficientFunds" => Some(Behaviour::Decline("insufficient_funds")),
            "pm_card_authenticationRequired" => Some(Behaviour::Authenticate),
            "pm_card_processing" => Some(Behaviour::Process),
            _ => None,
        },
        (None, None) => None,
    }
}

fn stripe_error(status: u16, kind: &str, code: &str, message: &str, extra: Json) -> Response {
    let mut error = json!({"type": kind, "code": code, "message": message});
    if let (Some(e), Json::Object(more)) = (error.as_object_mut(), extra) {
        e.extend(more);
    }
    platform::web::json(status, &json!({"error": error}))
}

fn form(req: &Request) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.body()).into_owned().collect()
}

/// Checks the API key (`Authorization: Bearer <payment_secret_key>`; a
/// missing or wrong key, or none configured, is Stripe's 401
/// `api_key_invalid`) and takes any injected fault for `op`.
fn guard(conn: &Connection, req: &Request, op: &str) -> ApiResult<Option<Response>> {
    if crate::access::provider_key(req, "payment_secret_key").is_err() {
        return Ok(Some(stripe_error(
            401,
            "invalid_request_error",
            "api_key_invalid",
            "Invalid API Key provided",
            Json::Null,
        )));
    }
    Ok(faults::take(conn, op)?.and_then(|f| faults::answer(&f, req.path())))
}

/// Webhooks to queue once the answer is recorded (sent after the response).
type Pending = Vec<(String, Json)>;

/// Runs `work` once per Idempotency-Key: the first answer is stored and
/// replayed for the same parameters; other parameters get 400
/// `idempotency_error`; a key still being worked on gets 409.
fn idempotent(
    conn: &Connection,
    req: &Request,
    work: impl FnOnce(&Connection) -> ApiResult<(Response, Pending)>,
) -> ApiResult<Response> {
    let Some(key) = platform::web::header_last(req, "idempotency-key").map(str::to_string) else {
        let (resp, hooks) = work(conn)?;
        send_hooks(conn, hooks);
        return Ok(resp);
    };
    let hash = hex::encode(Sha256::digest([req.path().as_bytes(), b"\n", req.body()].concat()));
    let claimed = conn.execute(
        "INSERT INTO sb_idempotency (key, request_hash, created_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
        &[Value::Text(key.clone()), Value::Text(hash.clone()), Value::Integer(platform::clock::now_ms())],
    )?;
    if claimed.rows.is_empty() {
        let prior = conn.execute("SELECT * FROM sb_idempotency WHERE key = ?", &[Value::Text(key)])?;
        let row = prior.rows().next();
        let same = row.as_ref().and_then(|r| r.get::<&str>("request_hash")) == Some(hash.as_str());
        let status = row.as_ref().and_then(|r| r.get::<i64>("status"));
        let body = row.as_ref().and_then(|r| r.get::<&str>("body")).unwrap_or("").to_string();
        return Ok(match (same, status) {
            (false, _) => stripe_error(
                400,
                "idempotency_error",
                "idempotency_key_in_use",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                Json::Null,
            ),
            (true, None) => stripe_error(
                409,
                "idempotency_error",
                "idempotency_key_in_use",
                "There is currently another in-progress request using this Idempotent Key.",
                Json::Null,
            ),
            (true, Some(s)) => {
                let mut r = Response::builder()
                    .status(s as u16)
                    .header("content-type", "application/json")
                    .body(body.into_bytes())
                    .build();
                r.set_header("idempotent-replayed", "true");
                r
            }
        });
    }
    match work(conn) {
        Ok((resp, hooks)) => {
            conn.execute(
                "UPDATE sb_idempotency SET status = ?, body = ? WHERE key = ?",
                &[
                    Value::Integer((*resp.status()).into()),
                    Value::Text(String::from_utf8_lossy(resp.body()).into_owned()),
                    Value::Text(key),
                ],
            )?;
            send_hooks(conn, hooks);
            Ok(resp)
        }
        Err(e) => {
            // the key stays reserved until it expires if this fails: a retry then answers 409
            if let Err(d) = conn.execute("DELETE FROM sb_idempotency WHERE key = ?", &[Value::Text(key)]) {
                platform::log::warn!("sandbox: idempotency key of a failed request kept: {d:?}");
            }
            Err(e)
        }
    }
}

fn send_hooks(conn: &Connection, hooks: Pending) {
    for (t, obj) in hooks {
        if let Err(e) = crate::webhooks::emit(conn, &t, &obj) {
            platform::log::error!("webhook {t} not queued: {e}");
        }
    }
}

/// The JSON of an intent row (Stripe's PaymentIntent object).
pub fn intent_json(r: &Row) -> Json {
    let id = r.get::<&str>("id").unwrap_or_default();
    let status = r.get::<&str>("status").unwrap_or_default();
    let error = r.get::<&str>("error_code").map(|code| {
        json!({"type": "card_error", "code": code, "decline_code": r.get::<&str>("decline_code"), "message": r.get::<&str>("error_message")})
    });
    let next_action = (status == "requires_action").then(|| {
        let base = platform::config::get("public_base_url").unwrap_or_default();
        json!({"type": "redirect_to_url", "redirect_to_url": {
            "url": format!("{}/sandbox/payments/authenticate/{id}", base.trim_end_matches('/')),
            "return_url": r.get::<&str>("return_url"),
        }})
    });
    json!({
        "id": id, "object": "payment_intent", "amount": r.get::<i64>("amount"),
        "amount_received": r.get::<i64>("amount_received"), "currency": r.get::<&str>("currency"),
        "status": status, "client_secret": format!("{id}_secret_sandbox"),
        "metadata": serde_json::from_str::<Json>(r.get::<&str>("metadata").unwrap_or("{}")).unwrap_or(json!({})),
        "last_payment_error": error, "next_action": next_action,
        "payment_method_types": ["card"], "livemode": false,
        "created": r.get::<i64>("created_ms").unwrap_or(0) / 1000,
        "card": r.get::<&str>("card_last4").map(|l| json!({"brand": r.get::<&str>("card_brand"), "last4": l})),
    })
}

fn load(conn: &Connection, id: &str) -> ApiResult<Option<Json>> {
    Ok(conn
        .execute("SELECT * FROM sb_intents WHERE id = ?", &[Value::Text(id.into())])?
        .rows()
        .next()
        .map(|r| intent_json(&r)))
}

fn missing(id: &str) -> Response {
    stripe_error(
        404,
        "invalid_request_error",
        "resource_missing",
        &format!("No such payment_intent: '{id}'"),
        json!({"param": "intent"}),
    )
}

/// `POST /v1/payment_intents`: `amount`, `currency`, `metadata[...]`.
pub fn create(req: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "create")? {
        return Ok(r);
    }
    idempotent(&conn, &req, |conn| {
        let f = form(&req);
        let amount = f.get("amount").and_then(|a| a.parse::<i64>().ok()).filter(|a| *a > 0);
        let currency = f.get("currency").filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()));
        let (Some(amount), Some(currency)) = (amount, currency) else {
            return Ok((
                stripe_error(
                    400,
                    "invalid_request_error",
                    "parameter_invalid",
                    "amount and currency are required",
                    Json::Null,
                ),
                vec![],
            ));
        };
        let metadata: BTreeMap<&str, &str> =
            f.iter().filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?, v.as_str()))).collect();
        let id = platform::ids::new("pi");
        let now = platform::clock::now_ms();
        conn.execute(
            "INSERT INTO sb_intents (id, amount, currency, status, metadata, created_ms, updated_ms) VALUES (?, ?, ?, 'requires_payment_method', ?, ?, ?)",
            &[
                Value::Text(id.clone()),
                Value::Integer(amount),
                Value::Text(currency.to_ascii_lowercase()),
                Value::Text(serde_json::to_string(&metadata).map_err(anyhow::Error::from)?),
                Value::Integer(now),
                Value::Integer(now),
            ],
        )?;
        let intent = load(conn, &id)?.unwrap_or(Json::Null);
        Ok((platform::web::json(200, &intent), vec![]))
    })
}

/// Settles `processing` intents whose time has come; sends their webhooks.
pub fn settle_due(conn: &Connection, force: bool) -> ApiResult<usize> {
    let now = platform::clock::now_ms();
    let limit = if force { i64::MAX } else { now };
    let settled = conn.execute(
        "UPDATE sb_intents SET status = 'succeeded', amount_received = amount, updated_ms = ? \
         WHERE status = 'processing' AND settle_at_ms <= ? RETURNING *",
        &[Value::Integer(now), Value::Integer(limit)],
    )?;
    let objects: Vec<Json> = settled.rows().map(|r| intent_json(&r)).collect();
    let n = objects.len();
    send_hooks(conn, objects.into_iter().map(|o| ("payment_intent.succeeded".to_string(), o)).collect());
    Ok(n)
}

/// `GET /v1/payment_intents/:id`.
pub fn retrieve(req: Request, params: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "retrieve")? {
        return Ok(r);
    }
    settle_due(&conn, false)?;
    let id = params.get("id").unwrap_or_default();
    Ok(match load(&conn, id)? {
        Some(i) => platform::web::json(200, &i),
        None => missing(id),
    })
}

/// `POST /sandbox/payments/admin/settle`: settle every processing intent now.
pub fn settle(_: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    let n = settle_due(&conn, true)?;
    platform::web::ok(&json!({"settled": n}))
}

const CONFIRMABLE: &str = "'requires_payment_method', 'requires_confirmation', 'requires_action'";

/// `POST /v1/payment_intents/:id/confirm` with `payment_method=pm_…` or
/// `payment_method_data[card][number]=…`, optional `return_url`.
pub fn confirm(req: Request, params: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "confirm")? {
        return Ok(r);
    }
    let id = params.get("id").unwrap_or_default().to_string();
    idempotent(&conn, &req, |conn| {
        let f = form(&req);
        let number = f.get("payment_method_data[card][number]").map(String::as_str);
        let Some(b) = behaviour(number, f.get("payment_method").map(String::as_str)) else {
            return Ok((
                stripe_error(
                    400,
                    "invalid_request_error",
                    "resource_missing",
                    "No such PaymentMethod",
                    json!({"param": "payment_method"}),
                ),
                vec![],
            ));
        };
        let Some(current) = load(conn, &id)? else { return Ok((missing(&id), vec![])) };
        let now = platform::clock::now_ms();
        let (status, code, decline, message, settle, hook) = match b {
            Behaviour::Succeed => ("succeeded", None, None, None, None, "payment_intent.succeeded"),
            Behaviour::Decline(d) => {
                let msg = match d {
                    "insufficient_funds" => "Your card has insufficient funds.",
                    "test_mode_live_card" => {
                        "Your card was declined. Your request was in test mode, but used a non test card."
                    }
                    _ => "Your card was declined.",
                };
                (
                    "requires_payment_method",
                    Some("card_declined"),
                    Some(d),
                    Some(msg),
                    None,
                    "payment_intent.payment_failed",
                )
            }
            Behaviour::Authenticate => ("requires_action", None, None, None, None, "payment_intent.requires_action"),
            Behaviour::Process => ("processing", None, None, None, Some(now + SETTLE_MS), "payment_intent.processing"),
        };
        let (brand, last4) = match number {
            Some(n) if n.len() >= 4 => {
                (Some(if n.starts_with('4') { "visa" } else { "card" }), Some(&n[n.len() - 4..]))
            }
            _ => (f.get("payment_method").map(|_| "visa"), None),
        };
        let opt = |s: Option<&str>| s.map(|s| Value::Text(s.into())).unwrap_or(Value::Null);
        let moved = conn.execute(
            &format!(
                "UPDATE sb_intents SET status = ?, error_code = ?, decline_code = ?, error_message = ?, settle_at_ms = ?, \
                 amount_received = CASE WHEN ? = 'succeeded' THEN amount ELSE 0 END, card_brand = ?, card_last4 = ?, \
                 return_url = ?, updated_ms = ? WHERE id = ? AND status IN ({CONFIRMABLE}) RETURNING *"
            ),
            &[
                Value::Text(status.into()),
                opt(code),
                opt(decline),
                opt(message),
                settle.map(Value::Integer).unwrap_or(Value::Null),
                Value::Text(status.into()),
                opt(brand),
                opt(last4),
                opt(f.get("return_url").map(String::as_str)),
                Value::Integer(now),
                Value::Text(id.clone()),
            ],
        )?;
        let Some(intent) = moved.rows().next().map(|r| intent_json(&r)) else {
            return Ok((
                stripe_error(
                    400,
                    "invalid_request_error",
                    "payment_intent_unexpected_state",
                    &format!(
                        "This PaymentIntent's status is {}; it cannot be confirmed.",
                        current["status"].as_str().unwrap_or("?")
                    ),
                    json!({"payment_intent": current}),
                ),
                vec![],
            ));
        };
        let resp = match b {
            Behaviour::Decline(d) => stripe_error(
                402,
                "card_error",
                "card_declined",
                message.unwrap_or_default(),
                json!({"decline_code": d, "payment_intent": intent}),
            ),
            _ => platform::web::json(200, &intent),
        };
        Ok((resp, vec![(hook.to_string(), intent)]))
    })
}

/// `POST /v1/payment_intents/:id/cancel`.
pub fn cancel(req: Request, params: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "cancel")? {
        return Ok(r);
    }
    let id = params.get("id").unwrap_or_default().to_string();
    idempotent(&conn, &req, |conn| {
        let Some(current) = load(conn, &id)? else { return Ok((missing(&id), vec![])) };
        let moved = conn.execute(
            &format!("UPDATE sb_intents SET status = 'canceled', updated_ms = ? WHERE id = ? AND status IN ({CONFIRMABLE}) RETURNING *"),
            &[Value::Integer(platform::clock::now_ms()), Value::Text(id.clone())],
        )?;
        let canceled = moved.rows().next().map(|r| intent_json(&r));
        Ok(match canceled {
            Some(i) => (platform::web::json(200, &i), vec![("payment_intent.canceled".to_string(), i)]),
            None => (
                stripe_error(
                    400,
                    "invalid_request_error",
                    "payment_intent_unexpected_state",
                    "You cannot cancel this PaymentIntent because it has a status of succeeded or processing.",
                    json!({"payment_intent": current}),
                ),
                vec![],
            ),
        })
    })
}

/// `POST /v1/refunds`: `payment_intent`, optional `amount` (default: all
/// that is left), `metadata[...]`. Refunds never exceed what was received.
pub fn refund(req: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "refund")? {
        return Ok(r);
    }
    idempotent(&conn, &req, |conn| {
        let f = form(&req);
        let pi = f.get("payment_intent").cloned().unwrap_or_default();
        let Some(intent) = load(conn, &pi)? else { return Ok((missing(&pi), vec![])) };
        let left = intent["amount_received"].as_i64().unwrap_or(0)
            - conn
                .execute("SELECT amount_refunded FROM sb_intents WHERE id = ?", &[Value::Text(pi.clone())])?
                .rows()
                .next()
                .and_then(|r| r.get::<i64>("amount_refunded"))
                .unwrap_or(0);
        let amount = match f.get("amount") {
            Some(a) => a.parse::<i64>().ok().filter(|a| *a > 0),
            None => Some(left).filter(|l| *l > 0),
        };
        let Some(amount) = amount else {
            return Ok((
                stripe_error(
                    400,
                    "invalid_request_error",
                    "charge_already_refunded",
                    "Nothing left to refund.",
                    Json::Null,
                ),
                vec![],
            ));
        };
        let took = conn.execute(
            "UPDATE sb_intents SET amount_refunded = amount_refunded + ?, updated_ms = ? \
             WHERE id = ? AND status = 'succeeded' AND amount_refunded + ? <= amount_received RETURNING id",
            &[
                Value::Integer(amount),
                Value::Integer(platform::clock::now_ms()),
                Value::Text(pi.clone()),
                Value::Integer(amount),
            ],
        )?;
        if took.rows.is_empty() {
            return Ok((
                stripe_error(
                    400,
                    "invalid_request_error",
                    "amount_too_large",
                    &format!("Refund amount ({amount}) is greater than unrefunded amount on the payment ({left})."),
                    Json::Null,
                ),
                vec![],
            ));
        }
        let metadata: BTreeMap<&str, &str> =
            f.iter().filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?, v.as_str()))).collect();
        let id = platform::ids::new("re");
        let meta = serde_json::to_string(&metadata).map_err(anyhow::Error::from)?;
        conn.execute(
            "INSERT INTO sb_refunds (id, intent_id, amount, status, metadata, created_ms) VALUES (?, ?, ?, 'succeeded', ?, ?)",
            &[Value::Text(id.clone()), Value::Text(pi.clone()), Value::Integer(amount), Value::Text(meta), Value::Integer(platform::clock::now_ms())],
        )?;
        let obj = json!({
            "id": id, "object": "refund", "amount": amount, "currency": intent["currency"], "payment_intent": pi,
            "charge": charge_id(&pi), "reason": f.get("reason"), "status": "succeeded", "metadata": metadata,
            "created": platform::clock::now_secs(),
        });
        // as Stripe: the refund's own event, and the charge's with the
        // cumulative amount refunded (and, since API 2022-11-15, no list)
        let refunded = conn
            .execute(
                "SELECT amount_received, amount_refunded FROM sb_intents WHERE id = ?",
                &[Value::Text(pi.clone())],
            )?
            .rows()
            .next()
            .map(|r| (r.get::<i64>("amount_received").unwrap_or(0), r.get::<i64>("amount_refunded").unwrap_or(0)));
        let (received, refunded) = refunded.unwrap_or((0, 0));
        let charge = json!({
            "id": charge_id(&pi), "object": "charge", "payment_intent": pi, "amount": received, "amount_captured": received,
            "amount_refunded": refunded, "refunded": refunded >= received, "currency": intent["currency"], "status": "succeeded",
        });
        Ok((
            platform::web::json(200, &obj),
            vec![("refund.created".to_string(), obj), ("charge.refunded".to_string(), charge)],
        ))
    })
}

/// The id of the one charge of intent `pi` (the sandbox makes one charge
/// per succeeded intent).
fn charge_id(pi: &str) -> String {
    format!("ch_{}", pi.trim_start_matches("pi_"))
}

/// `GET /v1/refunds?payment_intent=pi_…`: the intent's refunds, newest
/// first, as a Stripe list (`{"object":"list","data":[…],"has_more":false}`,
/// at most `limit`, default 10, up to 100).
pub fn list_refunds(req: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    if let Some(r) = guard(&conn, &req, "retrieve")? {
        return Ok(r);
    }
    let q = platform::web::Query::of(&req);
    let pi = q.get("payment_intent").unwrap_or_default().to_string();
    let limit = q.parse_opt::<i64>("limit").ok().flatten().unwrap_or(10).clamp(1, 100);
    let rows = conn.execute(
        "SELECT r.id, r.amount, r.status, r.metadata, r.created_ms, i.currency FROM sb_refunds r JOIN sb_intents i ON i.id = r.intent_id \
         WHERE r.intent_id = ? ORDER BY r.created_ms DESC, r.id DESC LIMIT ?",
        &[Value::Text(pi.clone()), Value::Integer(limit + 1)],
    )?;
    let mut data: Vec<Json> = rows
        .rows()
        .map(|r| {
            let metadata: Json = serde_json::from_str(r.get::<&str>("metadata").unwrap_or("{}")).unwrap_or(json!({}));
            json!({
                "id": r.get::<&str>("id"), "object": "refund", "amount": r.get::<i64>("amount"), "currency": r.get::<&str>("currency"),
                "payment_intent": pi, "charge": charge_id(&pi), "status": r.get::<&str>("status"), "metadata": metadata,
                "created": r.get::<i64>("created_ms").unwrap_or(0) / 1000,
            })
        })
        .collect();
    let has_more = data.len() as i64 > limit;
    data.truncate(limit as usize);
    Ok(platform::web::json(200, &json!({"object": "list", "url": "/v1/refunds", "has_more": has_more, "data": data})))
}

/// `POST /sandbox/payments/authenticate/:id` (`outcome` = `approve` |
/// `fail`, as a form — the page's own — or a JSON body sent as
/// `application/json`): completes the 3-D Secure step, then redirects (303)
/// to the intent's same-site `return_url`, if any.
pub fn authenticate(req: Request, params: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    let id = params.get("id").unwrap_or_default().to_string();
    let json_body = platform::web::header_last(&req, "content-type").is_some_and(platform::web::is_json_media_type);
    let outcome = if json_body {
        serde_json::from_slice::<Json>(req.body()).ok().and_then(|v| v["outcome"].as_str().map(str::to_string))
    } else {
        form(&req).get("outcome").cloned()
    };
    let approve = match outcome.as_deref() {
        Some("approve") => true,
        Some("fail") => false,
        _ => return Err(platform::ApiError::field("outcome", "approve or fail")),
    };
    let now = platform::clock::now_ms();
    let moved = if approve {
        conn.execute(
            "UPDATE sb_intents SET status = 'succeeded', amount_received = amount, updated_ms = ? WHERE id = ? AND status = 'requires_action' RETURNING *",
            &[Value::Integer(now), Value::Text(id.clone())],
        )?
    } else {
        conn.execute(
            "UPDATE sb_intents SET status = 'requires_payment_method', error_code = 'payment_intent_authentication_failure', \
             error_message = 'The buyer failed 3-D Secure authentication.', updated_ms = ? WHERE id = ? AND status = 'requires_action' RETURNING *",
            &[Value::Integer(now), Value::Text(id.clone())],
        )?
    };
    let Some(row) = moved.rows().next() else {
        return Err(platform::ApiError::conflict(
            "not-awaiting-authentication",
            "this payment is not waiting for authentication",
        ));
    };
    let intent = intent_json(&row);
    let return_url = row.get::<&str>("return_url").map(str::to_string);
    send_hooks(
        &conn,
        vec![(
            if approve { "payment_intent.succeeded" } else { "payment_intent.payment_failed" }.to_string(),
            intent.clone(),
        )],
    );
    let base = platform::config::get("public_base_url").unwrap_or_default();
    match return_url {
        Some(u) if (u.starts_with('/') && !u.starts_with("//")) || (!base.is_empty() && u.starts_with(&base)) => {
            Ok(Response::builder().status(303).header("location", u).body(Vec::new()).build())
        }
        _ => platform::web::ok(&intent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards() {
        assert_eq!(behaviour(Some("4242424242424242"), None), Some(Behaviour::Succeed));
        assert_eq!(behaviour(Some("4000000000000002"), None), Some(Behaviour::Decline("generic_decline")));
        assert_eq!(behaviour(Some("4000000000009995"), None), Some(Behaviour::Decline("insufficient_funds")));
        assert_eq!(behaviour(Some("4000002500003155"), None), Some(Behaviour::Authenticate));
        assert_eq!(behaviour(Some("4000000000000077"), None), Some(Behaviour::Process));
        assert_eq!(behaviour(Some("5555555555554444"), None), Some(Behaviour::Decline("test_mode_live_card")));
        assert_eq!(behaviour(None, Some("pm_card_visa")), Some(Behaviour::Succeed));
        assert_eq!(behaviour(None, Some("pm_nope")), None);
        assert_eq!(behaviour(None, None), None);
    }
}
