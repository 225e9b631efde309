//! A booking's status: the `bookings.status` column and the API's
//! `status` member.
//!
//! ```text
//! pending_payment ─┬─ PaymentSucceeded ──► confirmed ──► refunded (full refund)
//!                  ├─ PaymentFailed (declined) ──► payment_failed
//!                  ├─ PaymentFailed (hold_expired) ──► expired
//!                  └─ cancel, abandon, sales closed, event cancelled ──► cancelled ──► refunded
//! ```
//! A confirmed or expired booking may also be cancelled (event cancelled,
//! buyer or admin); a payment arriving for an expired one confirms it when
//! its seats are still free.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One booking's place in the lifecycle above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    PendingPayment,
    Confirmed,
    PaymentFailed,
    Expired,
    Cancelled,
    Refunded,
}

use BookingStatus::*;

impl BookingStatus {
    /// Every status.
    pub const ALL: [BookingStatus; 6] = [PendingPayment, Confirmed, PaymentFailed, Expired, Cancelled, Refunded];

    /// The stored and wire name (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            PendingPayment => "pending_payment",
            Confirmed => "confirmed",
            PaymentFailed => "payment_failed",
            Expired => "expired",
            Cancelled => "cancelled",
            Refunded => "refunded",
        }
    }

    /// The status named `name`; `None` for any other text.
    pub fn parse(name: &str) -> Option<BookingStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_nothing_else_does() {
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for other in ["", "Confirmed", "paid", "pending", "cancelled "] {
            assert_eq!(BookingStatus::parse(other), None, "{other:?}");
        }
    }
}
