//! Who hears what: the one table of subscriptions.
//!
//! Every service's saga route is `POST /api/<prefix>/saga`, served only by
//! its private component `<service>-internal` (`route = { private = true }`
//! in `spin.toml`), so reachable only through service chaining. A subscriber that is
//! not (yet) in `spin.toml` does not block the others: each (event,
//! subscriber) pair is its own delivery row, retried on its own and
//! dead-lettered after [`crate::MAX_ATTEMPTS`] failed attempts; an admin can
//! requeue it once the subscriber exists.

use crate::types::*;

/// A receiving service and its saga route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscriber {
    /// The service (its public Spin component id, also the name recorded in
    /// `saga_deliveries.subscriber`); deliveries go to its private component,
    /// [`chaining_host`].
    pub component: &'static str,
    /// The component's saga route (`/api/<prefix>/saga`).
    pub path: &'static str,
}

/// One event type and everyone who receives it.
#[derive(Debug, Clone, Copy)]
pub struct Subscription {
    /// Event type (see [`crate::types`]).
    pub event_type: &'static str,
    /// Receivers, each delivered to independently.
    pub subscribers: &'static [Subscriber],
}

const BOOKING: Subscriber = Subscriber { component: "booking", path: "/api/bookings/saga" };
const PAYMENTS: Subscriber = Subscriber { component: "payments", path: "/api/payments/saga" };
const TICKETS: Subscriber = Subscriber { component: "tickets", path: "/api/tickets/saga" };
const NOTIFICATIONS: Subscriber = Subscriber { component: "notifications", path: "/api/notifications/saga" };

/// The subscription table (docs/DESIGN.md §3). Adding a consumer is one line here.
pub const SUBSCRIPTIONS: &[Subscription] = &[
    Subscription { event_type: BOOKING_ORDERED, subscribers: &[PAYMENTS, NOTIFICATIONS] },
    Subscription { event_type: BOOKING_CONFIRMED, subscribers: &[TICKETS, NOTIFICATIONS] },
    Subscription { event_type: BOOKING_CANCELLED, subscribers: &[PAYMENTS, TICKETS, NOTIFICATIONS] },
    Subscription { event_type: TICKET_CANCELLED, subscribers: &[PAYMENTS, NOTIFICATIONS] },
    Subscription { event_type: PAYMENT_SUCCEEDED, subscribers: &[BOOKING] },
    Subscription { event_type: PAYMENT_FAILED, subscribers: &[BOOKING, NOTIFICATIONS] },
    Subscription { event_type: PAYMENT_REFUNDED, subscribers: &[BOOKING, TICKETS, NOTIFICATIONS] },
    Subscription { event_type: EVENT_CANCELLED, subscribers: &[BOOKING, NOTIFICATIONS] },
    Subscription { event_type: EVENT_CHANGED, subscribers: &[BOOKING] },
    Subscription { event_type: EVENT_RESCHEDULED, subscribers: &[BOOKING, PAYMENTS, TICKETS, NOTIFICATIONS] },
    Subscription { event_type: TICKETS_ISSUED, subscribers: &[NOTIFICATIONS] },
    Subscription { event_type: PASSWORD_RESET_REQUESTED, subscribers: &[NOTIFICATIONS] },
    Subscription { event_type: EMAIL_VERIFICATION_REQUESTED, subscribers: &[NOTIFICATIONS] },
    Subscription { event_type: ACCOUNT_ERASED, subscribers: &[BOOKING, PAYMENTS, TICKETS, NOTIFICATIONS] },
];

/// The suffix of a service's private component id (`booking` →
/// `booking-internal`), the one that serves its saga route.
pub const INTERNAL_SUFFIX: &str = "-internal";

/// The service-chaining authority of `service`'s private component:
/// `<service>-internal.spin.internal`.
pub fn chaining_host(service: &str) -> String {
    format!("{service}{INTERNAL_SUFFIX}.spin.internal")
}

/// The subscribers of `event_type`, or `None` when the type is unknown.
pub fn subscribers_of(event_type: &str) -> Option<&'static [Subscriber]> {
    SUBSCRIPTIONS.iter().find(|s| s.event_type == event_type).map(|s| s.subscribers)
}

/// The saga route of `component` (`/api/<prefix>/saga`), when it subscribes
/// to anything.
pub fn saga_path(component: &str) -> Option<&'static str> {
    SUBSCRIPTIONS.iter().flat_map(|s| s.subscribers.iter()).find(|s| s.component == component).map(|s| s.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_design() {
        let names = |t: &str| subscribers_of(t).unwrap().iter().map(|s| s.component).collect::<Vec<_>>();
        assert_eq!(names(BOOKING_ORDERED), ["payments", "notifications"]);
        assert_eq!(names(PAYMENT_SUCCEEDED), ["booking"]);
        assert_eq!(names(PAYMENT_FAILED), ["booking", "notifications"]);
        assert_eq!(names(BOOKING_CONFIRMED), ["tickets", "notifications"]);
        assert_eq!(names(BOOKING_CANCELLED), ["payments", "tickets", "notifications"]);
        assert_eq!(names(TICKET_CANCELLED), ["payments", "notifications"]);
        assert_eq!(names(PAYMENT_REFUNDED), ["booking", "tickets", "notifications"]);
        assert_eq!(names(EVENT_CANCELLED), ["booking", "notifications"]);
        assert_eq!(names(EVENT_CHANGED), ["booking"]);
        assert_eq!(names(EVENT_RESCHEDULED), ["booking", "payments", "tickets", "notifications"]);
        assert_eq!(names(TICKETS_ISSUED), ["notifications"]);
        assert_eq!(names(PASSWORD_RESET_REQUESTED), ["notifications"]);
        assert_eq!(names(EMAIL_VERIFICATION_REQUESTED), ["notifications"]);
        assert_eq!(names(ACCOUNT_ERASED), ["booking", "payments", "tickets", "notifications"]);
        assert!(subscribers_of("BookingOrderd").is_none());
    }

    #[test]
    fn every_component_has_one_saga_path_of_the_convention() {
        for sub in SUBSCRIPTIONS.iter().flat_map(|s| s.subscribers) {
            assert_eq!(saga_path(sub.component), Some(sub.path));
            assert!(sub.path.starts_with("/api/") && sub.path.ends_with("/saga"), "{}", sub.path);
        }
        assert_eq!(saga_path("booking"), Some("/api/bookings/saga"));
    }
}
