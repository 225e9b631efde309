//! An event's status, shared by `events` (which moves it) and `booking`
//! (which sells only what is on sale): `draft` → `published` → `cancelled`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an event is in its life; on the wire and in storage `draft`,
/// `published`, `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Only its organizer (and admins) see it; nothing is sold.
    Draft,
    /// Listed and, within its sales window, on sale.
    Published,
    /// Off sale for good; its bookings are cancelled and refunded.
    Cancelled,
}

impl EventStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `name`; `None` for any other text.
    pub fn parse(name: &str) -> Option<EventStatus> {
        [EventStatus::Draft, EventStatus::Published, EventStatus::Cancelled].into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::EventStatus;

    #[test]
    fn the_wire_name_and_serde_agree() {
        for s in [EventStatus::Draft, EventStatus::Published, EventStatus::Cancelled] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(EventStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(EventStatus::parse("Published"), None);
    }
}
