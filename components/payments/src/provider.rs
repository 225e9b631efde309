//! Typed client of a PaymentIntents-style payment provider (the Stripe API
//! subset Boxoffice uses), spoken over outbound HTTP from the component.
//!
//! * Requests are `application/x-www-form-urlencoded` with bracketed nested
//!   keys (`metadata[booking_id]=…`), authenticated with
//!   `Authorization: Bearer <payment_secret_key>`; every state-creating call
//!   (create, confirm, cancel, refund) carries an `Idempotency-Key`, so a
//!   network retry replays instead of charging twice (Stripe API reference,
//!   "Idempotent requests").
//! * Paths: `POST {base}/v1/payment_intents`, `GET|POST {base}/v1/payment_intents/{id}[/confirm|/cancel]`,
//!   `POST {base}/v1/refunds`. `base` is the `payment_api_base` variable:
//!   `https://api.stripe.com` in production, the local sandbox
//!   ([`DEFAULT_BASE`], reached over Spin service chaining) otherwise.
//! * Every call is bounded by [`TIMEOUT`]. Faults become a [`ProviderError`]
//!   — never "paid": no answer in time, a 5xx, an answer that is not the
//!   expected JSON, a redirect (outbound requests never follow redirects, so
//!   a 3xx towards a host outside `allowed_outbound_hosts` is refused here
//!   too), or a transport error (including a host Spin does not allow).
//!   Whether such a fault can have charged depends on the call: creating an
//!   intent charges nothing (a retryable 502/503 "nothing charged" is true),
//!   but a confirmation whose answer was lost ([`ProviderError::is_ambiguous`])
//!   may have charged — its outcome is unknown until the intent is retrieved
//!   (see `flow::resolve`).
//! * A 429 or 503 with a `Retry-After` (RFC 9110 §10.2.3, delay-seconds or
//!   an HTTP-date, read by [`platform::web::retry_after_ms`]) pauses the
//!   provider: the wait, capped at [`MAX_WAIT_MS`], is recorded in the
//!   `provider_pauses` table for its `base`, and until it ends no call to
//!   that provider is sent — from this request, any other, or the tick, on
//!   any instance ([`ProviderError::Paused`]). A buyer's request answers 503
//!   with the remaining wait as its `Retry-After`. A 429 means the provider
//!   did not take the call (RFC 6585 §4); a 503 may come from in front of a
//!   provider that did, so a confirmation answered 503 stays an unknown
//!   outcome ([`ProviderError::is_ambiguous`]).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::domain::PaymentMethod;

/// The local sandbox provider, reached by service chaining.
pub const DEFAULT_BASE: &str = "http://sandbox.spin.internal/sandbox/payments";
/// Upper bound on one provider call (connect + answer).
pub const TIMEOUT: Duration = Duration::from_secs(4);
/// The longest a provider's `Retry-After` pauses it, ms (10 minutes, the
/// reconciliation's longest backoff, `crate::followups::check_delay_ms`): a provider
/// asking for hours is asked again after that, not left alone while holds
/// expire.
pub const MAX_WAIT_MS: i64 = 600_000;

/// A PaymentIntent status (Stripe API, "PaymentIntent lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Waiting for a payment method (also: the last attempt was declined).
    RequiresPaymentMethod,
    /// Has a method, not confirmed yet.
    RequiresConfirmation,
    /// The buyer must complete an extra step (3-D Secure).
    RequiresAction,
    /// The provider is working on it.
    Processing,
    /// Authorised, not captured (not used by Boxoffice; treated as processing).
    RequiresCapture,
    /// Cancelled; no money moves.
    Canceled,
    /// The money is taken.
    Succeeded,
}

/// Why the last confirmation failed (Stripe `last_payment_error`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct PaymentError {
    /// `card_declined`, `expired_card`, `authentication_required`…
    #[serde(default)]
    pub code: Option<String>,
    /// For declines: `generic_decline`, `insufficient_funds`…
    #[serde(default)]
    pub decline_code: Option<String>,
    /// Human-readable text.
    #[serde(default)]
    pub message: Option<String>,
}

/// A PaymentIntent as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Intent {
    /// `pi_…`
    pub id: String,
    /// Lifecycle status.
    pub status: IntentStatus,
    /// Minor units.
    pub amount: i64,
    /// Lower-case ISO 4217 as Stripe sends it.
    pub currency: String,
    /// Our metadata (`booking_id`, `payment_id`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Why the last confirmation failed, if it did.
    #[serde(default)]
    pub last_payment_error: Option<PaymentError>,
    /// What the buyer must do next (`redirect_to_url`).
    #[serde(default)]
    pub next_action: Option<serde_json::Value>,
}

impl Intent {
    /// The URL of a `redirect_to_url` next action.
    pub fn redirect_url(&self) -> Option<String> {
        self.next_action.as_ref()?.get("redirect_to_url")?.get("url")?.as_str().map(str::to_string)
    }
}

/// A refund as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    /// `re_…`
    pub id: String,
    /// `pending`, `succeeded`, `failed`, `canceled`, `requires_action`.
    pub status: String,
    /// Minor units.
    pub amount: i64,
    /// Our metadata (`refund_id`); empty for a refund made at the
    /// provider (its dashboard, another integration).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The PaymentIntent refunded (`pi_…`).
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// Stripe's reason (`duplicate`, `fraudulent`, `requested_by_customer`, …), if given.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A Charge as a `charge.refunded` event carries it (Stripe: `amount_refunded`
/// is cumulative; since API version 2022-11-15 the `refunds` list is not
/// included unless expanded, so it is optional here).
#[derive(Debug, Clone, Deserialize)]
pub struct Charge {
    /// The PaymentIntent it belongs to.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// Everything refunded of this charge so far, minor units.
    #[serde(default)]
    pub amount_refunded: i64,
    /// The refunds, when included.
    #[serde(default)]
    pub refunds: Option<RefundList>,
}

/// A Stripe list object of refunds (`{"object":"list","data":[…],"has_more"}`).
#[derive(Debug, Clone, Deserialize)]
pub struct RefundList {
    /// The refunds.
    #[serde(default)]
    pub data: Vec<Refund>,
    /// More pages exist.
    #[serde(default)]
    pub has_more: bool,
}

/// Everything that can go wrong talking to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// No answer within [`TIMEOUT`]. The call may or may not have happened.
    Timeout,
    /// The request could not be sent or the answer not read (includes hosts
    /// not in `allowed_outbound_hosts`).
    Transport(String),
    /// The provider answered 5xx (or 409/429: busy, retry later).
    Server(u16),
    /// The provider answered 429 or 503 with a `Retry-After` asking for no
    /// calls for `wait_ms` (capped at [`MAX_WAIT_MS`]); it is paused since.
    Throttled { status: u16, wait_ms: i64 },
    /// Not sent: the provider asked for no calls for `wait_ms` more.
    Paused { wait_ms: i64 },
    /// A 2xx answer that is not the expected JSON.
    Malformed(String),
    /// A 3xx answer; `Location` named.
    Redirect(String),
    /// A definitive 4xx refusal (`error.code`, `error.message`) and, for a
    /// declined confirmation, the intent it left behind.
    Rejected { status: u16, code: String, message: String, intent: Option<Box<Intent>> },
}

impl ProviderError {
    /// True when the outcome of the call is unknown (it may have happened).
    pub fn is_ambiguous(&self) -> bool {
        !matches!(
            self,
            ProviderError::Rejected { .. }
                | ProviderError::Redirect(_)
                | ProviderError::Paused { .. }
                | ProviderError::Throttled { status: 429, .. }
        )
    }

    /// The provider's own wait for a throttled or paused call, as a
    /// `Retry-After` in whole seconds ([`wait_secs`]); `None` for every
    /// other failure.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ProviderError::Throttled { wait_ms, .. } | ProviderError::Paused { wait_ms } => Some(wait_secs(*wait_ms)),
            _ => None,
        }
    }
}

/// Whole seconds of a wait of `wait_ms`, rounded up, at least 1: what a
/// `Retry-After` header says.
pub fn wait_secs(wait_ms: i64) -> u64 {
    (wait_ms.max(0) as u64).div_ceil(1000).max(1)
}

/// The pause an answer asks for, ms from `now_ms`: `Some` for a 429 or 503
/// whose `Retry-After` (RFC 9110 §10.2.3) reads as a wait of more than 0,
/// capped at [`MAX_WAIT_MS`]; `None` for any other answer, and for a
/// `Retry-After` that is 0, past or unreadable (the answer is then an
/// ordinary [`ProviderError::Server`]).
pub fn throttle(status: u16, retry_after: Option<&str>, now_ms: i64) -> Option<i64> {
    if !matches!(status, 429 | 503) {
        return None;
    }
    let wait = platform::web::retry_after_ms(retry_after?, now_ms)?;
    (wait > 0).then_some(wait.min(MAX_WAIT_MS))
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderError::Timeout => write!(f, "the payment provider did not answer in time"),
            ProviderError::Transport(e) => write!(f, "the payment provider is unreachable: {e}"),
            ProviderError::Server(s) => write!(f, "the payment provider failed with status {s}"),
            ProviderError::Throttled { status, wait_ms } => {
                write!(f, "the payment provider answered {status} and asks for no calls for {} s", wait_secs(*wait_ms))
            }
            ProviderError::Paused { wait_ms } => {
                write!(f, "the payment provider asked for no calls for {} s more; not called", wait_secs(*wait_ms))
            }
            ProviderError::Malformed(e) => write!(f, "the payment provider answered nonsense: {e}"),
            ProviderError::Redirect(to) => write!(f, "the payment provider redirected to {to}; not followed"),
            ProviderError::Rejected { status, code, message, .. } => {
                write!(f, "the payment provider refused ({status} {code}): {message}")
            }
        }
    }
}

impl From<ProviderError> for platform::ApiError {
    /// Timeouts and 5xx are 503 (retry soon); a throttled or paused
    /// provider 503 with its remaining wait as `Retry-After`
    /// ([`platform::ApiError::UnavailableFor`]); everything else 502. Only for
    /// calls that cannot have charged the buyer (intent creation, a refused
    /// or redirected confirmation): a confirmation whose answer was lost is
    /// answered 202 "outcome unknown" by `api::pay` instead.
    fn from(e: ProviderError) -> Self {
        platform::log::warn!("payment provider: {e}");
        if let Some(secs) = e.retry_after_secs() {
            return platform::ApiError::UnavailableFor {
                retry_after_secs: secs,
                detail: format!("{e}; nothing was charged by this request, try again after {secs} s"),
            };
        }
        match e {
            ProviderError::Timeout | ProviderError::Server(_) => {
                platform::ApiError::Unavailable(format!("{e}; nothing was charged by this request, try again"))
            }
            other => platform::ApiError::BadGateway(format!("{other}; try again")),
        }
    }
}

/// Classifies one provider answer (pure; the core of every call).
pub fn classify<T: DeserializeOwned>(status: u16, location: Option<&str>, body: &[u8]) -> Result<T, ProviderError> {
    match status {
        200..=299 => serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string())),
        300..=399 => Err(ProviderError::Redirect(location.unwrap_or("(no location)").to_string())),
        409 | 429 | 500..=599 => Err(ProviderError::Server(status)),
        400..=499 => {
            #[derive(Deserialize)]
            struct Envelope {
                error: ErrorBody,
            }
            #[derive(Deserialize)]
            struct ErrorBody {
                #[serde(default)]
                code: Option<String>,
                #[serde(default)]
                message: Option<String>,
                #[serde(default)]
                payment_intent: Option<Intent>,
            }
            match serde_json::from_slice::<Envelope>(body) {
                Ok(env) => Err(ProviderError::Rejected {
                    status,
                    code: env.error.code.unwrap_or_else(|| "unknown".into()),
                    message: env.error.message.unwrap_or_default(),
                    intent: env.error.payment_intent.map(Box::new),
                }),
                Err(e) => Err(ProviderError::Malformed(format!("{status} without an error object: {e}"))),
            }
        }
        other => Err(ProviderError::Server(other)),
    }
}

/// Form-encodes `pairs` (`application/x-www-form-urlencoded`).
pub fn form(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The form fields confirming with `method` (card data or a `pm_…` id).
pub fn method_fields(method: &PaymentMethod) -> Vec<(String, String)> {
    match method {
        PaymentMethod::Token(pm) => vec![("payment_method".into(), pm.clone())],
        PaymentMethod::Card(c) => vec![
            ("payment_method_data[type]".into(), "card".into()),
            ("payment_method_data[card][number]".into(), c.number.digits().into()),
            ("payment_method_data[card][exp_month]".into(), c.exp_month.to_string()),
            ("payment_method_data[card][exp_year]".into(), c.exp_year.to_string()),
            ("payment_method_data[card][cvc]".into(), c.cvc.clone()),
        ],
    }
}

/// The provider Idempotency-Key of a PaymentIntent creation: one per
/// booking attempt, so a network retry repeats and a new attempt is new.
pub fn create_key(booking_id: &str, attempt: i64) -> String {
    format!("{booking_id}-attempt-{attempt}")
}

/// The Idempotency-Key of a confirmation: the same intent confirmed with the
/// same method repeats (a retry), another method is a new request.
pub fn confirm_key(intent_id: &str, fields: &[(String, String)]) -> String {
    let digest = Sha256::digest(form(fields).as_bytes());
    let hex = hex::encode(&digest[..8]);
    format!("{intent_id}-confirm-{hex}")
}

/// The provider client.
#[derive(Debug, Clone)]
pub struct Provider {
    base: String,
    secret_key: String,
    timeout: Duration,
    /// No call before this Unix ms (0: none), from `provider_pauses` or
    /// an answer to this client.
    paused_until: Cell<i64>,
}

const PAUSE: &str = "SELECT until_ms FROM provider_pauses WHERE base = ? AND until_ms > ?";
const RECORD_PAUSE: &str = "INSERT INTO provider_pauses (base, until_ms, status, updated_ms) VALUES (?, ?, ?, ?) \
     ON CONFLICT (base) DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms), status = excluded.status, updated_ms = excluded.updated_ms";

impl Provider {
    /// A client for `base` (no trailing slash needed) with `secret_key`,
    /// not paused.
    pub fn new(base: &str, secret_key: &str, timeout: Duration) -> Provider {
        Provider {
            base: base.trim_end_matches('/').to_string(),
            secret_key: secret_key.to_string(),
            timeout,
            paused_until: Cell::new(0),
        }
    }

    /// From the Spin variables `payment_api_base` and `payment_secret_key`
    /// (no built-in key), paused as `conn`'s `provider_pauses` says.
    /// Errors: 503 naming `payment_secret_key` when it is not set, or holds
    /// its published value outside the sandbox ([`platform::secrets`]);
    /// 503 `storage-unavailable` when the pause cannot be read.
    pub fn from_config(conn: &Connection) -> platform::ApiResult<Provider> {
        let key = platform::secrets::require("payment_secret_key")?;
        let provider = Provider::new(&platform::config::get_or("payment_api_base", DEFAULT_BASE), &key, TIMEOUT);
        let now = platform::clock::now_ms();
        let paused = conn.execute(PAUSE, &[Value::Text(provider.base.clone()), Value::Integer(now)])?;
        if let Some(until) = paused.rows().next().and_then(|r| r.get::<i64>("until_ms")) {
            provider.paused_until.set(until);
        }
        Ok(provider)
    }

    /// How long the provider still asks for no calls, ms (0: none).
    pub fn wait_ms(&self) -> i64 {
        (self.paused_until.get() - platform::clock::now_ms()).max(0)
    }

    /// The end of the provider's pause, Unix ms (0, or past: none): no
    /// retry is scheduled before it.
    pub fn paused_until(&self) -> i64 {
        self.paused_until.get()
    }

    /// `Err(Paused)` while the provider asks for no calls.
    pub fn check_open(&self) -> Result<(), ProviderError> {
        match self.wait_ms() {
            0 => Ok(()),
            wait_ms => Err(ProviderError::Paused { wait_ms }),
        }
    }

    /// Pauses this client and, through `provider_pauses`, every other one
    /// for `wait_ms` after a `status` answer. Its own connection: a
    /// provider call never runs inside a transaction (`flow`), so this
    /// commits at once, whatever the caller does next.
    fn pause(&self, status: u16, wait_ms: i64) {
        let now = platform::clock::now_ms();
        let until = now + wait_ms;
        self.paused_until.set(self.paused_until.get().max(until));
        let recorded = crate::store::open().and_then(|c| {
            let args = [
                Value::Text(self.base.clone()),
                Value::Integer(until),
                Value::Integer(status.into()),
                Value::Integer(now),
            ];
            Ok(c.execute(RECORD_PAUSE, &args)?)
        });
        match recorded {
            Ok(_) => platform::log::warn!("payment provider answered {status}: no calls to it for {wait_ms} ms"),
            Err(e) => platform::log::error!(
                "payment provider answered {status}: its pause of {wait_ms} ms is not recorded: {e}"
            ),
        }
    }

    /// `POST /v1/payment_intents` for `amount` minor units of `currency`.
    pub fn create_intent(
        &self,
        amount: i64,
        currency: &str,
        metadata: &[(&str, &str)],
        key: &str,
    ) -> Result<Intent, ProviderError> {
        let mut fields = vec![
            ("amount".to_string(), amount.to_string()),
            ("currency".to_string(), currency.to_ascii_lowercase()),
            ("payment_method_types[]".to_string(), "card".to_string()),
        ];
        fields.extend(metadata.iter().map(|(k, v)| (format!("metadata[{k}]"), v.to_string())));
        self.call(Method::Post, "/v1/payment_intents", Some(&fields), Some(key))
    }

    /// `POST /v1/payment_intents/{id}/confirm` with `method`. A decline is
    /// `Ok(intent)` with status `requires_payment_method` and
    /// `last_payment_error` set (the provider answers 402 with the intent).
    pub fn confirm(
        &self,
        intent_id: &str,
        method: &PaymentMethod,
        return_url: Option<&str>,
    ) -> Result<Intent, ProviderError> {
        let mut fields = method_fields(method);
        if let Some(u) = return_url {
            fields.push(("return_url".into(), u.into()));
        }
        let key = confirm_key(intent_id, &fields);
        match self.call(Method::Post, &format!("/v1/payment_intents/{intent_id}/confirm"), Some(&fields), Some(&key)) {
            Err(ProviderError::Rejected { intent: Some(intent), .. }) => Ok(*intent),
            other => other,
        }
    }

    /// `GET /v1/payment_intents/{id}`.
    pub fn retrieve(&self, intent_id: &str) -> Result<Intent, ProviderError> {
        self.call(Method::Get, &format!("/v1/payment_intents/{intent_id}"), None, None)
    }

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub fn cancel(&self, intent_id: &str) -> Result<Intent, ProviderError> {
        let key = format!("{intent_id}-cancel");
        self.call(Method::Post, &format!("/v1/payment_intents/{intent_id}/cancel"), Some(&[]), Some(&key))
    }

    /// `POST /v1/refunds` of `amount` from `intent_id`; `refund_id` is both
    /// the Idempotency-Key and `metadata[refund_id]`.
    pub fn refund(&self, intent_id: &str, amount: i64, refund_id: &str) -> Result<Refund, ProviderError> {
        let fields = vec![
            ("payment_intent".to_string(), intent_id.to_string()),
            ("amount".to_string(), amount.to_string()),
            ("metadata[refund_id]".to_string(), refund_id.to_string()),
        ];
        self.call(Method::Post, "/v1/refunds", Some(&fields), Some(refund_id))
    }

    /// `GET /v1/refunds?payment_intent={id}&limit=100`: every refund of the
    /// intent (Stripe's list endpoint, newest first), the provider's word
    /// on what went back. A PaymentIntent of one booking has a handful of
    /// refunds; a list longer than one page is refused as a provider fault.
    pub fn list_refunds(&self, intent_id: &str) -> Result<Vec<Refund>, ProviderError> {
        let list: RefundList =
            self.call(Method::Get, &format!("/v1/refunds?payment_intent={intent_id}&limit=100"), None, None)?;
        if list.has_more {
            return Err(ProviderError::Malformed("more than 100 refunds of one payment".into()));
        }
        Ok(list.data)
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        fields: Option<&[(String, String)]>,
        key: Option<&str>,
    ) -> Result<T, ProviderError> {
        self.check_open()?;
        let mut builder = Request::builder();
        builder
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.secret_key))
            .header("accept", "application/json");
        if let Some(k) = key {
            builder.header("idempotency-key", k);
        }
        let mut req = match fields {
            Some(f) => builder.header("content-type", "application/x-www-form-urlencoded").body(form(f)).build(),
            None => builder.body(Vec::new()).build(),
        };
        // our request id, for the provider's support (outside the idempotency key and the form)
        platform::log::forward(&mut req);
        let sent = spin_sdk::http::run(timeout::within(self.timeout, spin_sdk::http::send::<_, Response>(req)));
        match sent {
            None => Err(ProviderError::Timeout),
            Some(Err(e)) => Err(ProviderError::Transport(e.to_string())),
            Some(Ok(resp)) => {
                let status = *resp.status();
                let retry_after = resp.header("retry-after").and_then(|h| h.as_str());
                if let Some(wait_ms) = throttle(status, retry_after, platform::clock::now_ms()) {
                    self.pause(status, wait_ms);
                    return Err(ProviderError::Throttled { status, wait_ms });
                }
                let location = resp.header("location").and_then(|h| h.as_str()).map(str::to_string);
                classify(status, location.as_deref(), resp.body())
            }
        }
    }
}

/// Racing a future against a WASI monotonic-clock deadline inside the
/// spin-sdk executor (the outgoing request is dropped — cancelled — when
/// the deadline wins).
mod timeout {
    use std::future::Future;
    use std::task::Poll;
    use std::time::Duration;

    /// `Some(output)` when `fut` finishes within `limit`, else `None`.
    pub async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
        use wasi::clocks::monotonic_clock;
        let deadline = monotonic_clock::now().saturating_add(limit.as_nanos() as u64);
        let mut registration: Option<spin_executor::CancelOnDropToken> = None;
        let timer = futures::future::poll_fn(move |cx| {
            if monotonic_clock::now() >= deadline {
                return Poll::Ready(());
            }
            let pollable = monotonic_clock::subscribe_instant(deadline);
            // Keep the registration alive with the timer; dropping it (a newer
            // registration, or the timer itself) cancels the pollable.
            registration.replace(spin_executor::push_waker_and_get_token(pollable, cx.waker().clone()).into());
            Poll::Pending
        });
        futures::pin_mut!(fut);
        futures::pin_mut!(timer);
        match futures::future::select(fut, timer).await {
            futures::future::Either::Left((out, _)) => Some(out),
            futures::future::Either::Right(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Card, CardNumber};

    const INTENT: &str = r#"{"id":"pi_1","object":"payment_intent","status":"succeeded","amount":9000,"currency":"usd","metadata":{"booking_id":"bkg_1"}}"#;

    #[test]
    fn classifies_success_and_faults() {
        let i: Intent = classify(200, None, INTENT.as_bytes()).unwrap();
        assert_eq!(i.status, IntentStatus::Succeeded);
        assert_eq!(i.metadata["booking_id"], "bkg_1");
        assert_eq!(classify::<Intent>(503, None, b"").unwrap_err(), ProviderError::Server(503));
        assert_eq!(classify::<Intent>(409, None, b"{}").unwrap_err(), ProviderError::Server(409));
        assert!(matches!(classify::<Intent>(200, None, b"<html>"), Err(ProviderError::Malformed(_))));
        assert!(matches!(classify::<Intent>(200, None, br#"{"id":"pi_1"}"#), Err(ProviderError::Malformed(_))));
        assert!(matches!(
            classify::<Intent>(200, None, br#"{"id":"pi_1","status":"weird","amount":1,"currency":"usd"}"#),
            Err(ProviderError::Malformed(_))
        ));
        assert_eq!(
            classify::<Intent>(302, Some("https://evil.example/x"), b"").unwrap_err(),
            ProviderError::Redirect("https://evil.example/x".into())
        );
        assert!(!ProviderError::Redirect(String::new()).is_ambiguous());
        assert!(ProviderError::Timeout.is_ambiguous());
    }

    #[test]
    fn a_retry_after_on_429_or_503_pauses_the_provider_capped() {
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(throttle(429, Some("3"), now), Some(3_000));
        assert_eq!(throttle(503, Some("Wed, 21 Oct 2015 07:28:30 GMT"), now), Some(30_000));
        assert_eq!(throttle(429, Some("86400"), now), Some(MAX_WAIT_MS), "capped");
        for (status, value) in [
            (429, None),
            (429, Some("0")),
            (503, Some("Wed, 21 Oct 2015 07:00:00 GMT")),
            (503, Some("soon")),
            (500, Some("3")),
            (409, Some("3")),
        ] {
            assert_eq!(throttle(status, value, now), None, "{status} {value:?}");
        }
        assert_eq!((wait_secs(1), wait_secs(1_000), wait_secs(1_001), wait_secs(0)), (1, 1, 2, 1));
        assert!(!ProviderError::Throttled { status: 429, wait_ms: 1 }.is_ambiguous(), "a 429 was not taken");
        assert!(ProviderError::Throttled { status: 503, wait_ms: 1 }.is_ambiguous(), "a 503 may have been");
        assert!(!ProviderError::Paused { wait_ms: 1 }.is_ambiguous(), "not sent");
        match platform::ApiError::from(ProviderError::Paused { wait_ms: 2_500 }) {
            platform::ApiError::UnavailableFor { retry_after_secs: 3, .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declines_carry_the_intent() {
        let body = format!(
            r#"{{"error":{{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"no","payment_intent":{}}}}}"#,
            INTENT.replace("succeeded", "requires_payment_method")
        );
        match classify::<Intent>(402, None, body.as_bytes()) {
            Err(ProviderError::Rejected { status: 402, code, intent: Some(i), .. }) => {
                assert_eq!(code, "card_declined");
                assert_eq!(i.status, IntentStatus::RequiresPaymentMethod);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify::<Intent>(400, None, b"nope"), Err(ProviderError::Malformed(_))));
    }

    #[test]
    fn forms_and_keys() {
        let card = PaymentMethod::Card(Card {
            number: CardNumber::parse("4242424242424242").unwrap(),
            exp_month: 12,
            exp_year: 2030,
            cvc: "123".into(),
        });
        let f = method_fields(&card);
        assert_eq!(
            form(&f[..2]),
            "payment_method_data%5Btype%5D=card&payment_method_data%5Bcard%5D%5Bnumber%5D=4242424242424242"
        );
        let visa = method_fields(&PaymentMethod::Token("pm_card_visa".into()));
        assert_eq!(confirm_key("pi_1", &f), confirm_key("pi_1", &f));
        assert_ne!(confirm_key("pi_1", &f), confirm_key("pi_1", &visa));
        assert_eq!(create_key("bkg_1", 2), "bkg_1-attempt-2");
        let i: Intent = serde_json::from_str(
            r#"{"id":"pi_1","status":"requires_action","amount":1,"currency":"usd","next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"/sandbox/payments/authenticate/pi_1"}}}"#,
        )
        .unwrap();
        assert_eq!(i.redirect_url().as_deref(), Some("/sandbox/payments/authenticate/pi_1"));
    }
}
