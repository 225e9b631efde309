//! The status of one payment attempt, as this service records it.
//!
//! Stripe's PaymentIntent statuses
//! (<https://docs.stripe.com/payments/paymentintents/lifecycle>) less
//! `requires_confirmation` and `requires_capture` (read as
//! `requires_payment_method` and `processing`, [`crate::flow::local_status`]),
//! plus `pending` (no intent yet), `failed` (the intent wants another
//! payment method after a decline) and the two refund states.

/// A payment attempt's status (the `payments.status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    RequiresPaymentMethod,
    RequiresAction,
    Processing,
    Failed,
    Canceled,
    Succeeded,
    PartiallyRefunded,
    Refunded,
}

use PaymentStatus::*;

impl PaymentStatus {
    /// Every status, in [`PaymentStatus::rank`] order.
    pub const ALL: [PaymentStatus; 9] = [
        Pending,
        RequiresPaymentMethod,
        RequiresAction,
        Processing,
        Failed,
        Canceled,
        Succeeded,
        PartiallyRefunded,
        Refunded,
    ];

    /// The stored and wire name (snake_case, Stripe's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Pending => "pending",
            RequiresPaymentMethod => "requires_payment_method",
            RequiresAction => "requires_action",
            Processing => "processing",
            Failed => "failed",
            Canceled => "canceled",
            Succeeded => "succeeded",
            PartiallyRefunded => "partially_refunded",
            Refunded => "refunded",
        }
    }

    /// The status named `name`; `None` for any other text.
    pub fn parse(name: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Forward order: a change is applied only when it moves strictly
    /// forward ([`PaymentStatus::may_move_to`]); 4 is paid, which nothing
    /// moves but a refund.
    pub fn rank(self) -> u8 {
        match self {
            Pending | RequiresPaymentMethod => 0,
            RequiresAction => 1,
            Processing => 2,
            Failed | Canceled => 3,
            Succeeded | PartiallyRefunded | Refunded => 4,
        }
    }

    /// Whether news from the provider may move a payment from `self` to `to`.
    pub fn may_move_to(self, to: PaymentStatus) -> bool {
        self.rank() < 4 && to.rank() > self.rank()
    }

    /// True once money was taken (whatever was refunded since).
    pub fn is_paid(self) -> bool {
        self.rank() == 4
    }

    /// True while the provider is still to say what the attempt came to.
    pub fn in_flight(self) -> bool {
        matches!(self, Processing | RequiresAction)
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_and_nothing_else_does() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        for bad in ["", "paid", "Succeeded", "succeeded ", "cancelled"] {
            assert_eq!(PaymentStatus::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn nothing_moves_a_paid_payment_and_nothing_moves_backwards() {
        for from in PaymentStatus::ALL {
            for to in PaymentStatus::ALL {
                let moves = from.may_move_to(to);
                assert!(!moves || to.rank() > from.rank(), "{from} -> {to}");
                assert!(!(from.is_paid() && moves), "{from} -> {to}");
            }
        }
        assert!(Pending.may_move_to(Succeeded) && Processing.may_move_to(Failed) && !Failed.may_move_to(Processing));
        assert!([Succeeded, PartiallyRefunded, Refunded].iter().all(|s| s.is_paid()));
        assert!(!Processing.is_paid() && Processing.in_flight() && !Succeeded.in_flight());
    }
}
