//! Who runs an event and who staffs its door, asked of the events
//! component's private side (`events-internal`, service chaining):
//! `GET http://events-internal.spin.internal/api/events/internal/{id}/access?user_id={user}`.
//!
//! Tickets uses it at check-in (staff only where assigned, organizers only
//! at their own events) and payments for refunds (the event's organizer or
//! an admin): the object-level authorization of OWASP ASVS 4.0 §4.2.1,
//! decided by the component that owns events rather than by the role in a
//! token alone (issue 17, item 7).

use crate::problem::{ApiError, ApiResult};
use serde::Deserialize;
use spin_sdk::http::{Method, Request, Response};

/// The access facts of one event for one account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventAccess {
    /// `evt_…`
    pub event_id: String,
    /// The organizer who owns the event.
    pub organizer_id: String,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    /// Whether the asked account is assigned to the event's door.
    pub staff: bool,
}

/// The access facts of `event_id` for `user_id`; `None` when the event
/// does not exist (or the id is not an event id).
///
/// Errors: 503 `unavailable` when events does not answer or answers
/// anything but 200/404 (callers refuse rather than guess).
pub fn lookup(event_id: &str, user_id: &str) -> ApiResult<Option<EventAccess>> {
    if !crate::ids::is_valid("evt", event_id) {
        return Ok(None);
    }
    // `event_id` passed `ids::is_valid` (letters, digits, `_`): safe in a path as it is
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("user_id", user_id).finish();
    let url = format!("http://events-internal.spin.internal/api/events/internal/{event_id}/access?{query}");
    let req = Request::builder().method(Method::Get).uri(url.as_str()).build();
    let unavailable = |why: String| {
        crate::log::warn!("event access of {event_id}: {why}");
        ApiError::Unavailable("the events service cannot say who runs this event; try again".into())
    };
    let resp: Response = crate::web::send(req).map_err(|e| unavailable(e.to_string()))?;
    match *resp.status() {
        200 => serde_json::from_slice(resp.body()).map(Some).map_err(|e| unavailable(e.to_string())),
        404 => Ok(None),
        s => Err(unavailable(format!("events answered {s}"))),
    }
}
