//! What can be sold: an event's inventory, read from the `events`
//! component over service chaining
//! (`GET http://events.spin.internal/api/events/{id}/inventory`), and the
//! sales rules checked before anything is held.

use platform::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Method, Request, Response};

/// An event's sellable inventory (the `events` component's contract).
#[derive(Debug, Clone, Deserialize)]
pub struct Inventory {
    /// `evt_…`
    pub event_id: String,
    /// Event title.
    pub title: String,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
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
    pub tiers: Vec<Tier>,
    /// Every seat of the seated tiers.
    #[serde(default)]
    pub seats: Vec<Seat>,
}

/// A price tier.
#[derive(Debug, Clone, Deserialize)]
pub struct Tier {
    /// `tier_…`
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Price per ticket, minor units.
    pub price_minor: i64,
    /// `seated` or `general_admission`.
    pub kind: String,
    /// Tickets in the tier (general admission) or its seat count.
    pub capacity: u32,
}

impl Tier {
    /// True for general admission (sold by count, no seat).
    pub fn is_ga(&self) -> bool {
        self.kind == "general_admission"
    }
}

/// One seat of the seat map.
#[derive(Debug, Clone, Deserialize)]
pub struct Seat {
    /// Seat id, unique within the event (`S1-A-12`).
    pub id: String,
    /// Section.
    #[serde(default)]
    pub section: String,
    /// Row within the section.
    #[serde(default)]
    pub row: String,
    /// Order within the row (adjacent seats differ by one).
    #[serde(default)]
    pub position: i64,
    /// Tier the seat is sold in.
    pub tier_id: String,
}

impl Inventory {
    /// The tier `id`.
    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The seat `id`.
    pub fn seat(&self, id: &str) -> Option<&Seat> {
        self.seats.iter().find(|s| s.id == id)
    }

    /// The order limit, capped at [`crate::domain::MAX_ORDER`] and at least 1.
    pub fn limit(&self) -> u32 {
        self.order_limit.clamp(1, crate::domain::MAX_ORDER)
    }

    /// Start as Unix ms.
    pub fn starts_ms(&self) -> Option<i64> {
        platform::clock::parse_rfc3339(&self.starts_at)
    }

    /// The sales rules (DESIGN §2, issue 5): no holds for draft, cancelled
    /// or started events, before `sales_start` or after `sales_end`.
    /// Each refusal is a 409 with its own problem type.
    pub fn check_on_sale(&self, now_ms: i64) -> ApiResult<()> {
        match self.status.as_str() {
            "published" => {}
            "cancelled" => return Err(ApiError::conflict("event-cancelled", "this event was cancelled")),
            _ => return Err(ApiError::conflict("event-not-on-sale", "this event is not on sale")),
        }
        if self.starts_ms().is_none_or(|s| s <= now_ms) {
            return Err(ApiError::conflict("event-past", "this event has already started"));
        }
        if let Some(open) = self.sales_start.as_deref().and_then(platform::clock::parse_rfc3339) {
            if now_ms < open {
                return Err(ApiError::conflict("sales-not-open", format!("sales open at {}", platform::clock::rfc3339(open))));
            }
        }
        if let Some(close) = self.sales_end.as_deref().and_then(platform::clock::parse_rfc3339) {
            if now_ms >= close {
                return Err(ApiError::conflict("sales-closed", "sales for this event have closed"));
            }
        }
        Ok(())
    }
}

/// Fetches the inventory of `event_id` from the `events` component.
///
/// Errors: 404 when events does not know it; 502 when events answers
/// anything else or nonsense; 503 when it cannot be reached.
pub fn fetch(event_id: &str) -> ApiResult<Inventory> {
    let url = format!("http://events.spin.internal/api/events/{event_id}/inventory");
    let req = Request::builder().method(Method::Get).uri(&url).header("accept", "application/json").build();
    let resp: Response = spin_sdk::http::run(spin_sdk::http::send(req)).map_err(|e| {
        eprintln!("inventory {url}: {e}");
        ApiError::Unavailable("the events service is unavailable; try again".into())
    })?;
    match *resp.status() {
        200 => serde_json::from_slice(resp.body()).map_err(|e| {
            eprintln!("inventory {url}: bad body: {e}");
            ApiError::BadGateway("the events service answered nonsense".into())
        }),
        404 => Err(ApiError::NotFound(format!("event {event_id} does not exist"))),
        s => {
            eprintln!("inventory {url}: status {s}");
            Err(ApiError::BadGateway(format!("the events service answered {s}")))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An inventory in the events component's shape, starting in a day.
    pub fn sample(now_ms: i64) -> Inventory {
        let json = serde_json::json!({
            "event_id": "evt_1", "title": "Show", "organizer_id": "usr_o", "status": "published",
            "starts_at": platform::clock::rfc3339(now_ms + 86_400_000), "ends_at": null, "timezone": "Europe/Paris",
            "sales_start": null, "sales_end": null, "order_limit": 8, "currency": "EUR",
            "tiers": [
                {"id": "tier_s", "name": "Stalls", "price_minor": 4500, "currency": "EUR", "kind": "seated", "capacity": 6},
                {"id": "tier_ga", "name": "Floor", "price_minor": 2000, "currency": "EUR", "kind": "general_admission", "capacity": 5}
            ],
            "seats": (1..=6).map(|n| serde_json::json!({"id": format!("S1-A-{n}"), "section": "S1", "row": "A",
                "number": n.to_string(), "position": n, "x": 1.0, "y": 2.0, "tier_id": "tier_s", "accessible": false}))
                .collect::<Vec<_>>()
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn parses_the_contract_shape_and_applies_sales_rules() {
        let now = platform::clock::now_ms();
        let mut inv = sample(now);
        assert_eq!(inv.seats.len(), 6);
        assert!(inv.tier("tier_ga").unwrap().is_ga());
        assert!(inv.check_on_sale(now).is_ok());
        inv.sales_start = Some(platform::clock::rfc3339(now + 1000));
        assert_eq!(inv.check_on_sale(now).unwrap_err().status(), 409);
        inv.sales_start = None;
        inv.sales_end = Some(platform::clock::rfc3339(now - 1000));
        assert!(inv.check_on_sale(now).is_err());
        inv.sales_end = None;
        inv.status = "draft".into();
        assert!(inv.check_on_sale(now).is_err());
        inv.status = "published".into();
        inv.starts_at = platform::clock::rfc3339(now - 1);
        assert!(inv.check_on_sale(now).is_err());
    }
}
