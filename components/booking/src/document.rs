//! The inventory document `events` serves at
//! `GET /api/events/{id}/inventory` (events-internal, service chaining):
//! the contract booking copies what it sells from ([`crate::inventory`]),
//! and the fetch that reads it.

use platform::event_status::EventStatus;
use platform::tier::TierKind;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Method, Request, Response};

/// An event's inventory as `events` serves it (the contract of
/// `GET /api/events/{id}/inventory`).
#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    /// `evt_…`
    pub event_id: String,
    /// Inventory version (increases with every change); 0 when an older
    /// `events` does not send one.
    #[serde(default)]
    pub version: i64,
    /// Event title.
    pub title: String,
    pub status: EventStatus,
    /// Start, RFC 3339.
    pub starts_at: String,
    /// IANA time zone.
    #[serde(default)]
    pub timezone: String,
    /// Sales open at (RFC 3339), or at once.
    #[serde(default)]
    pub sales_start: Option<String>,
    /// Sales close at (RFC 3339), or at the start.
    #[serde(default)]
    pub sales_end: Option<String>,
    /// Most tickets per order and per user for this event.
    pub order_limit: u32,
    /// ISO 4217 currency of every tier.
    pub currency: String,
    /// Price tiers.
    pub tiers: Vec<DocTier>,
    /// Every seat of the seated tiers.
    #[serde(default)]
    pub seats: Vec<DocSeat>,
    /// Where the event is (an older `events` sends no `location`).
    #[serde(default)]
    pub venue: DocVenue,
}

/// The venue of a [`Document`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DocVenue {
    /// One line for people: name, street address, postal code and city,
    /// country (`Browser Hall, Rua Augusta 1, Lisbon, PT`).
    #[serde(default)]
    pub location: String,
}

/// A price tier of a [`Document`].
#[derive(Debug, Clone, Deserialize)]
pub struct DocTier {
    /// `tier_…`
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Price per ticket, minor units.
    pub price_minor: i64,
    pub kind: TierKind,
    /// Tickets in the tier (general admission) or its seat count.
    pub capacity: u32,
}

/// One seat of a [`Document`].
#[derive(Debug, Clone, Deserialize)]
pub struct DocSeat {
    /// Seat id, unique within the event (`S1-A-12`).
    pub id: String,
    /// Section.
    #[serde(default)]
    pub section: String,
    /// Row within the section.
    #[serde(default)]
    pub row: String,
    /// Seat number as printed.
    #[serde(default)]
    pub number: String,
    /// Order within the row (adjacent seats differ by one).
    #[serde(default)]
    pub position: i64,
    /// Drawing x.
    #[serde(default)]
    pub x: f64,
    /// Drawing y.
    #[serde(default)]
    pub y: f64,
    /// Tier the seat is sold in.
    pub tier_id: String,
    /// Wheelchair accessible.
    #[serde(default)]
    pub accessible: bool,
}

/// Fetches the inventory document of `event_id` from the `events`
/// component (service chaining; the whole venue, so only when copying).
///
/// Errors: 404 when events does not know it (or keeps it as a draft); 502
/// when events answers anything else or nonsense; 503 when it cannot be
/// reached.
pub fn fetch(event_id: &str) -> ApiResult<Document> {
    let url = format!("http://events.spin.internal/api/events/{event_id}/inventory");
    let req = Request::builder().method(Method::Get).uri(&url).header("accept", "application/json").build();
    let resp: Response = platform::web::send(req).map_err(|e| {
        platform::log::warn!("inventory {url}: {e}");
        ApiError::Unavailable("the events service is unavailable; try again".into())
    })?;
    match *resp.status() {
        200 => serde_json::from_slice(resp.body()).map_err(|e| {
            platform::log::warn!("inventory {url}: bad body: {e}");
            ApiError::BadGateway("the events service answered nonsense".into())
        }),
        404 => Err(ApiError::NotFound(format!("event {event_id} does not exist"))),
        s => {
            platform::log::warn!("inventory {url}: status {s}");
            Err(ApiError::BadGateway(format!("the events service answered {s}")))
        }
    }
}
