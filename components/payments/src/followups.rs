//! Work a transaction leaves for after its commit (relays, provider
//! calls; run by `Followups::run` in [`crate::flow`]), and when to try a
//! provider call again.

use crate::provider::Provider;

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

/// Backoff of the reconciliation: 2 s, 4 s, 8 s … capped at 10 min.
pub fn check_delay_ms(checks: i64) -> i64 {
    (2_000i64 << checks.clamp(0, 20)).min(600_000)
}

/// When to try again after `tries` failed tries from `now` (Unix ms):
/// after the backoff ([`check_delay_ms`]), and never before the end of the
/// provider's pause ([`Provider::paused_until`]).
pub fn retry_at(provider: &Provider, now: i64, tries: i64) -> i64 {
    (now + check_delay_ms(tries)).max(provider.paused_until())
}
