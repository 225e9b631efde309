//! Write commands on events: create (draft), edit, publish, cancel, delete.
//!
//! Lifecycle: `draft → published → cancelled`. Only organizers (and admins)
//! create; only the owner or an admin changes an event.
//!
//! * Times: `starts_at`, `ends_at`, `sales_start`, `sales_end` are local
//!   wall-clock times in the venue's IANA zone (`2026-07-04T20:00`) or
//!   RFC 3339 with an offset. A local time skipped by a daylight-saving jump
//!   is 422; one that occurs twice (fall-back) is 422 unless given with an
//!   offset. The sales window must close no later than the event ends
//!   (its start when it has no end) and open before it starts.
//! * Editing is a JSON merge patch (RFC 7396) over the create body;
//!   `tiers` is replaced as a whole and existing tiers keep their `id`.
//!   Once published, an edit may add tiers, seats and capacity but never
//!   removes a tier, a seat or capacity from a tier, nor changes a tier's
//!   currency or kind, nor the venue: what was sold stays sold. A tier's
//!   price changes only while nothing of it is sold or held (booking
//!   says, [`unsold_tiers`]); holds and bookings keep the price they were
//!   made with. An edit is all or nothing: a refused field refuses the
//!   whole save (409 naming it in `errors`, [`check_keeps_sales`]).
//! * Delete: only drafts (a draft was never on sale). A published event is
//!   cancelled instead, which emits `EventCancelled` through the saga outbox.

use crate::domain::{self, text};
use crate::read;
use crate::spec::{validate, EventInput, EventSpec, TierInput};
use crate::store::{self, int};
use crate::write::{insert, update, Origin, DELETE_FTS, DELETE_TIERS};
use platform::auth::{Caller, Role};
use platform::event_status::EventStatus;
use platform::web::{no_content, ok, read_json};
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;
use std::collections::HashSet;

const PUBLISH: &str = "UPDATE events SET status = 'published', published_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'draft' RETURNING version";
const CANCEL: &str = "UPDATE events SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'published' RETURNING title, version";
const DELETE_DRAFT: &str = "DELETE FROM events WHERE id = ? AND status = 'draft' RETURNING version";

/// 409 `event-has-sales` unless `next` keeps everything buyers may already
/// hold in `current` (see module docs); applies to published events. The
/// refusal names the field it is about (`venue_id`, `currency`, `tiers`,
/// `tiers/<k>/price_minor`, `…/kind`, `…/capacity`, `…/sections`), so the
/// whole save is refused with its reason next to the field.
///
/// `unsold` are the tiers of which nothing is sold or held (booking's
/// counts, [`unsold_tiers`]): their price may change — no booking or hold
/// is priced from it, and each keeps the price it was made with.
pub fn check_keeps_sales(
    current: &read::EventRow,
    old: &[read::TierRow],
    next: &EventSpec,
    unsold: &HashSet<String>,
) -> ApiResult<()> {
    let refuse = |field: String, m: String| Err(ApiError::ConflictAt { kind: "event-has-sales", field, detail: m });
    if next.venue.id != current.venue_id {
        return refuse("venue_id".into(), "a published event cannot move to another venue".into());
    }
    if next.currency.code() != current.currency {
        return refuse("currency".into(), "a published event's currency cannot change".into());
    }
    for o in old {
        let Some((k, n)) = next.tiers.iter().enumerate().find(|(_, t)| t.id.as_deref() == Some(o.id.as_str())) else {
            return refuse("tiers".into(), format!("tier {} ({}) is on sale and cannot be removed", o.id, o.name));
        };
        if n.kind.as_str() != o.kind {
            return refuse(format!("tiers/{k}/kind"), format!("tier {} is on sale; its kind cannot change", o.id));
        }
        if n.price_minor != o.price_minor && !unsold.contains(&o.id) {
            return refuse(
                format!("tiers/{k}/price_minor"),
                format!("tier {} has tickets sold or held; its price cannot change", o.id),
            );
        }
        if n.capacity < o.capacity {
            return refuse(
                format!("tiers/{k}/capacity"),
                format!("tier {} is on sale; its capacity cannot shrink", o.id),
            );
        }
        if o.sections.iter().any(|s| !n.sections.contains(s)) || o.seats.iter().any(|s| !n.seats.contains(s)) {
            return refuse(
                format!("tiers/{k}/sections"),
                format!("tier {} is on sale; its seats cannot be removed", o.id),
            );
        }
    }
    Ok(())
}

/// The tiers of published event `event_id` of which nothing is sold or
/// held, asked of booking, which sells them (`GET
/// http://booking-internal.spin.internal/api/holds/availability/{id}`:
/// its status document's `tiers[].{tier_id,held,sold}`). A tier booking
/// does not list was never on sale there. Asked only when an edit changes
/// a price.
///
/// Errors: 503 when booking does not answer (the price stays: never
/// reprice a tier that may have buyers).
pub fn unsold_tiers(event_id: &str, tiers: &[read::TierRow]) -> ApiResult<HashSet<String>> {
    let url = format!("http://{}/api/holds/availability/{event_id}", saga::chaining_host("booking"));
    let req = Request::builder().method(spin_sdk::http::Method::Get).uri(url).build();
    let unavailable = |why: String| {
        platform::log::warn!("events: tier counts of {event_id}: {why}");
        ApiError::Unavailable("booking cannot say whether this tier has buyers; try again".into())
    };
    let resp: spin_sdk::http::Response = platform::web::send(req).map_err(|e| unavailable(e.to_string()))?;
    let doc: Json = match *resp.status() {
        200 => serde_json::from_slice(resp.body()).map_err(|e| unavailable(e.to_string()))?,
        404 => return Ok(tiers.iter().map(|t| t.id.clone()).collect()),
        other => return Err(unavailable(format!("booking answered {other}"))),
    };
    let listed = doc["tiers"].as_array().ok_or_else(|| unavailable("no tiers in the status document".into()))?;
    let taken = |id: &str| {
        listed
            .iter()
            .find(|t| t["tier_id"] == id)
            .is_some_and(|t| t["held"].as_i64().unwrap_or(1) + t["sold"].as_i64().unwrap_or(1) > 0)
    };
    Ok(tiers.iter().filter(|t| !taken(&t.id)).map(|t| t.id.clone()).collect())
}

/// The create body that reproduces stored event `e` (the base of a merge patch).
pub fn as_input(e: &read::EventRow, tiers: &[read::TierRow]) -> EventInput {
    let tz = &domain::zone(&e.timezone).unwrap_or_else(|_| domain::Zone::utc());
    EventInput {
        title: Some(e.title.clone()),
        description: Some(e.description.clone()),
        category: Some(e.category.clone()),
        performers: e.performers.clone(),
        image_url: e.image_url.clone(),
        venue_id: Some(e.venue_id.clone()),
        starts_at: Some(domain::local_rfc3339(e.starts_at, tz)),
        ends_at: e.ends_at.map(|t| domain::local_rfc3339(t, tz)),
        time_tba: e.time_tba,
        sales_start: e.sales_start.map(platform::clock::rfc3339),
        sales_end: e.sales_end.map(platform::clock::rfc3339),
        order_limit: Some(e.order_limit),
        currency: Some(e.currency.clone()),
        tiers: tiers
            .iter()
            .map(|t| TierInput {
                id: Some(t.id.clone()),
                name: t.name.clone(),
                price_minor: t.price_minor,
                currency: None,
                kind: t.kind.clone(),
                capacity: (t.kind == "general_admission").then_some(t.capacity),
                sections: t.sections.clone(),
                seats: t.seats.clone(),
            })
            .collect(),
    }
}

/// RFC 7396 JSON merge patch of `patch` onto `target`.
pub fn merge_patch(target: &mut Json, patch: &Json) {
    match patch {
        Json::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Json::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Event `id` for its owner or an admin: 404 when missing (or another
/// organizer's draft), 403 for anyone else.
pub(crate) fn owned_event(conn: &Connection, caller: &Caller, id: &str) -> ApiResult<read::EventRow> {
    let e = read::event(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("event {id} does not exist")))?;
    if e.status == EventStatus::Draft && !caller.is_admin() && caller.user_id != e.organizer_id {
        return Err(ApiError::NotFound(format!("event {id} does not exist")));
    }
    caller.require_owner(&e.organizer_id)?;
    Ok(e)
}

/// The signed-in caller when an organizer (or admin); 401/403 otherwise.
pub(crate) fn organizer(req: &Request) -> ApiResult<Caller> {
    let caller = platform::auth::require(req)?;
    caller.require_role(&[Role::Organizer])?;
    Ok(caller)
}

/// `POST /api/events`: a new draft; 201 with the event. Accepts
/// `Idempotency-Key` ([`platform::idempotency::once`]: one draft per key).
pub fn create(req: Request, _: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let conn = store::open()?;
    platform::idempotency::once(&conn, &req, &caller.user_id, || {
        let input: EventInput = read_json(&req)?;
        let spec = validate(&conn, &input)?;
        let id = platform::db::transaction(&conn, |c| {
            insert(c, &spec, &caller.user_id, EventStatus::Draft, &Origin::default())
        })?;
        let body = read::detail(&conn, &id, true)?;
        platform::web::created(&format!("/api/events/{id}"), &body)
    })
}

/// `PATCH /api/events/{id}`: merge-patch edit (owner or admin).
pub fn edit(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let id = params.get("id").unwrap_or_default().to_string();
    let patch: Json = read_json(&req)?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest("the body must be a JSON object (RFC 7396 merge patch)".into()));
    }
    let conn = store::open()?;
    let current = owned_event(&conn, &caller, &id)?;
    if current.status == EventStatus::Cancelled {
        return Err(ApiError::conflict("event-cancelled", "a cancelled event cannot be edited"));
    }
    let old_tiers = read::tiers(&conn, &id)?;
    let mut doc = serde_json::to_value(as_input(&current, &old_tiers)).map_err(|e| ApiError::Internal(e.into()))?;
    merge_patch(&mut doc, &patch);
    let input: EventInput = platform::web::parse_json(&serde_json::to_vec(&doc).unwrap_or_default())?;
    let spec = validate(&conn, &input)?;
    let known: HashSet<&str> = old_tiers.iter().map(|t| t.id.as_str()).collect();
    for (k, t) in spec.tiers.iter().enumerate() {
        if t.id.as_deref().is_some_and(|tid| !known.contains(tid)) {
            return Err(ApiError::field(format!("tiers/{k}/id"), "is not a tier of this event"));
        }
    }
    if current.status == EventStatus::Published {
        let repriced = old_tiers.iter().any(|o| {
            spec.tiers.iter().any(|n| n.id.as_deref() == Some(o.id.as_str()) && n.price_minor != o.price_minor)
        });
        let unsold = if repriced { unsold_tiers(&id, &old_tiers)? } else { HashSet::new() };
        check_keeps_sales(&current, &old_tiers, &spec, &unsold)?;
        if spec.tiers.is_empty() {
            return Err(ApiError::field("tiers", "a published event needs at least one tier"));
        }
    }
    let origin = Origin { source_status: current.source_status.clone(), fingerprint: None, ..Origin::default() };
    platform::db::transaction(&conn, |c| update(c, &id, current.version, &spec, &origin))?;
    ok(&read::detail(&conn, &id, true)?)
}

/// `POST /api/events/{id}/publish`: draft → published (idempotent for an
/// already published event). 409 when cancelled, without tiers, or past.
pub fn publish(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let id = params.get("id").unwrap_or_default().to_string();
    let conn = store::open()?;
    let e = owned_event(&conn, &caller, &id)?;
    match e.status {
        EventStatus::Published => return ok(&read::detail(&conn, &id, true)?),
        EventStatus::Cancelled => {
            return Err(ApiError::conflict("event-cancelled", "a cancelled event cannot be published"))
        }
        EventStatus::Draft => {}
    }
    if read::tiers(&conn, &id)?.is_empty() {
        return Err(ApiError::conflict("event-incomplete", "add at least one price tier before publishing"));
    }
    let now = platform::clock::now_ms();
    if e.starts_at <= now {
        return Err(ApiError::conflict("event-past", "the event has already started"));
    }
    platform::db::transaction(&conn, |c| -> ApiResult<()> {
        let rs = c.execute(PUBLISH, &[int(now), int(now), store::text(&id)])?;
        if let Some(version) = rs.rows().next().map(|r| store::i(&r, "version")) {
            crate::outbox::changed(c, &id, version, EventStatus::Published)?;
        }
        Ok(())
    })?;
    ok(&read::detail(&conn, &id, true)?)
}

/// Body of `POST /api/events/{id}/cancel`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelInput {
    reason: Option<String>,
}

/// `POST /api/events/{id}/cancel`: published → cancelled, emitting
/// `EventCancelled` `{"event_id","title","reason","cancelled_at"}` through the
/// saga outbox in the same transaction. Repeating it answers 200 without a
/// second event. A draft is deleted, not cancelled (409).
pub fn cancel(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let id = params.get("id").unwrap_or_default().to_string();
    let input: CancelInput =
        if req.body().iter().all(u8::is_ascii_whitespace) { CancelInput::default() } else { read_json(&req)? };
    let reason = match &input.reason {
        Some(r) => text(r, 500, true, false).map_err(|m| ApiError::field("reason", m))?,
        None => String::new(),
    };
    let conn = store::open()?;
    let e = owned_event(&conn, &caller, &id)?;
    match e.status {
        EventStatus::Cancelled => return ok(&read::detail(&conn, &id, true)?),
        EventStatus::Draft => {
            return Err(ApiError::conflict("event-not-published", "a draft was never on sale; delete it instead"))
        }
        EventStatus::Published => {}
    }
    let now = platform::clock::now_ms();
    let emitted = platform::db::transaction(&conn, |c| -> ApiResult<Option<saga::Event>> {
        let rs = c.execute(CANCEL, &[int(now), store::text(&reason), int(now), store::text(&id)])?;
        let Some((title, version)) = rs.rows().next().map(|r| (store::s(&r, "title"), store::i(&r, "version"))) else {
            return Ok(None);
        };
        let payload = saga::contract::EventCancelled {
            event_id: id.clone(),
            title,
            reason: reason.clone(),
            cancelled_at: Some(platform::clock::rfc3339(now)),
        };
        crate::outbox::changed(c, &id, version, EventStatus::Cancelled)?;
        crate::outbox::emit_cancelled(c, &payload).map(Some)
    })?;
    if let Some(event) = emitted {
        crate::outbox::relay(&conn, &[event]);
    }
    ok(&read::detail(&conn, &id, true)?)
}

/// `DELETE /api/events/{id}`: removes a draft (204); 409 once published.
pub fn delete(req: Request, params: Params) -> ApiResult {
    let caller = organizer(&req)?;
    let id = params.get("id").unwrap_or_default().to_string();
    let conn = store::open()?;
    owned_event(&conn, &caller, &id)?;
    platform::db::transaction(&conn, |c| -> ApiResult<()> {
        c.execute(DELETE_FTS, &[store::text(&id)])?;
        c.execute(DELETE_TIERS, &[store::text(&id)])?;
        let rs = c.execute(DELETE_DRAFT, &[store::text(&id)])?;
        if rs.rows.is_empty() {
            return Err(ApiError::conflict("event-not-draft", "only drafts can be deleted; cancel a published event"));
        }
        Ok(())
    })?;
    no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "t": [1, 2]});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}, "t": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "t": [3]}));
    }
}
