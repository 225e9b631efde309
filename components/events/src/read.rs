//! Read models: event detail, inventory (the booking contract), schema.org
//! JSON-LD, and the organizer's own list.
//!
//! Visibility: published and cancelled events are public; a draft is seen
//! only by its organizer, an admin, or another component over service
//! chaining (404 for everyone else).

use crate::domain::{self, Category, Currency};
use crate::store::{self, int};
use crate::venues::{self, Venue};
use platform::event_status::EventStatus;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult};
use serde::Serialize;
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// A stored event row.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// `evt_…`
    pub id: String,
    /// Owner.
    pub organizer_id: String,
    /// Venue.
    pub venue_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category wire name.
    pub category: String,
    /// Performers.
    pub performers: Vec<String>,
    /// Image.
    pub image_url: Option<String>,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: Option<i64>,
    /// IANA zone.
    pub timezone: String,
    /// Start time to be announced.
    pub time_tba: bool,
    /// Sales open.
    pub sales_start: Option<i64>,
    /// Sales close.
    pub sales_end: Option<i64>,
    /// Tickets per order.
    pub order_limit: i64,
    /// ISO 4217.
    pub currency: String,
    /// Lowest price.
    pub price_from: Option<i64>,
    pub status: EventStatus,
    /// When published.
    pub published_at: Option<i64>,
    /// When cancelled.
    pub cancelled_at: Option<i64>,
    /// Why cancelled.
    pub cancel_reason: Option<String>,
    /// Importer.
    pub source: Option<String>,
    /// Id in the source.
    pub external_id: Option<String>,
    /// Source's status.
    pub source_status: Option<String>,
    /// Import digest.
    pub fingerprint: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Updated, Unix ms.
    pub updated_at: i64,
}

/// A stored tier.
#[derive(Debug, Clone, Serialize)]
pub struct TierRow {
    /// `tier_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Price, minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// seated | general_admission.
    pub kind: String,
    /// Seats or admissions.
    pub capacity: i64,
    /// Whole sections (seated).
    pub sections: Vec<String>,
    /// Single seats (seated).
    pub seats: Vec<String>,
}

const SELECT_EVENT: &str = "SELECT * FROM events WHERE id = ?";
const SELECT_TIERS: &str = "SELECT id, name, price_minor, currency, kind, capacity, sections, seats FROM tiers WHERE event_id = ? ORDER BY position";
const SELECT_MINE: &str =
    "SELECT * FROM events WHERE organizer_id = ? AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?";

fn event_from(r: &spin_sdk::sqlite3::Row<'_>) -> EventRow {
    EventRow {
        id: store::s(r, "id"),
        organizer_id: store::s(r, "organizer_id"),
        venue_id: store::s(r, "venue_id"),
        title: store::s(r, "title"),
        description: store::s(r, "description"),
        category: store::s(r, "category"),
        performers: serde_json::from_str(&store::s(r, "performers")).unwrap_or_default(),
        image_url: store::os(r, "image_url"),
        starts_at: store::i(r, "starts_at"),
        ends_at: store::oi(r, "ends_at"),
        timezone: store::s(r, "timezone"),
        time_tba: store::i(r, "time_tba") != 0,
        sales_start: store::oi(r, "sales_start"),
        sales_end: store::oi(r, "sales_end"),
        order_limit: store::i(r, "order_limit"),
        currency: store::s(r, "currency"),
        price_from: store::oi(r, "price_from"),
        status: EventStatus::parse(&store::s(r, "status")).unwrap_or(EventStatus::Draft),
        published_at: store::oi(r, "published_at"),
        cancelled_at: store::oi(r, "cancelled_at"),
        cancel_reason: store::os(r, "cancel_reason"),
        source: store::os(r, "source"),
        external_id: store::os(r, "external_id"),
        source_status: store::os(r, "source_status"),
        fingerprint: store::os(r, "fingerprint"),
        version: store::i(r, "version"),
        created_at: store::i(r, "created_at"),
        updated_at: store::i(r, "updated_at"),
    }
}

/// Event `id`, any status.
pub fn event(conn: &Connection, id: &str) -> ApiResult<Option<EventRow>> {
    let rs = conn.execute(SELECT_EVENT, &[store::text(id)])?;
    let row = rs.rows().next().map(|r| event_from(&r));
    Ok(row)
}

/// Tiers of event `id` in order.
pub fn tiers(conn: &Connection, id: &str) -> ApiResult<Vec<TierRow>> {
    let rs = conn.execute(SELECT_TIERS, &[store::text(id)])?;
    Ok(rs
        .rows()
        .map(|r| TierRow {
            id: store::s(&r, "id"),
            name: store::s(&r, "name"),
            price_minor: store::i(&r, "price_minor"),
            currency: store::s(&r, "currency"),
            kind: store::s(&r, "kind"),
            capacity: store::i(&r, "capacity"),
            sections: serde_json::from_str(&store::s(&r, "sections")).unwrap_or_default(),
            seats: serde_json::from_str(&store::s(&r, "seats")).unwrap_or_default(),
        })
        .collect())
}

/// Whether `req` may see event `e`: public unless a draft; a draft for its
/// organizer and admins (a chained request without their token sees none).
fn visible(req: &Request, e: &EventRow) -> ApiResult<bool> {
    if e.status != EventStatus::Draft {
        return Ok(true);
    }
    Ok(platform::auth::optional(req)?.is_some_and(|c| c.is_admin() || c.user_id == e.organizer_id))
}

fn visible_event(req: &Request, conn: &Connection, id: &str) -> ApiResult<EventRow> {
    match event(conn, id)? {
        Some(e) if visible(req, &e)? => Ok(e),
        _ => Err(ApiError::NotFound(format!("event {id} does not exist"))),
    }
}

fn zone_of(e: &EventRow) -> domain::Zone {
    domain::zone(&e.timezone).unwrap_or_else(|_| domain::Zone::utc())
}

/// The summary fields shared by detail and search items.
pub fn price_from_json(amount: Option<i64>, currency: &str) -> Json {
    amount.map_or(Json::Null, |a| json!({"amount_minor": a, "currency": currency}))
}

/// Full JSON view of event `id`: the event, its venue (with seat map when
/// `with_map`), tiers and schema.org JSON-LD.
pub fn detail(conn: &Connection, id: &str, with_map: bool) -> ApiResult<Json> {
    let e = event(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("event {id} does not exist")))?;
    let venue = venues::load(conn, &e.venue_id, with_map)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("venue missing")))?;
    let tiers = tiers(conn, id)?;
    Ok(detail_json(&e, &venue, &tiers))
}

fn detail_json(e: &EventRow, venue: &Venue, tiers: &[TierRow]) -> Json {
    let tz = &zone_of(e);
    json!({
        "id": e.id,
        "organizer_id": e.organizer_id,
        "status": e.status,
        "title": e.title,
        "description": e.description,
        "category": e.category,
        "performers": e.performers,
        "image_url": e.image_url,
        "starts_at": platform::clock::rfc3339(e.starts_at),
        "ends_at": e.ends_at.map(platform::clock::rfc3339),
        "timezone": e.timezone,
        "local_starts_at": domain::local_rfc3339(e.starts_at, tz),
        "local_ends_at": e.ends_at.map(|t| domain::local_rfc3339(t, tz)),
        "time_tba": e.time_tba,
        "sales_start": e.sales_start.map(platform::clock::rfc3339),
        "sales_end": e.sales_end.map(platform::clock::rfc3339),
        "order_limit": e.order_limit,
        "currency": e.currency,
        "price_from": price_from_json(e.price_from, &e.currency),
        "published_at": e.published_at.map(platform::clock::rfc3339),
        "cancelled_at": e.cancelled_at.map(platform::clock::rfc3339),
        "cancel_reason": e.cancel_reason,
        "source": e.source,
        "external_id": e.external_id,
        "source_status": e.source_status,
        "version": e.version,
        "created_at": platform::clock::rfc3339(e.created_at),
        "updated_at": platform::clock::rfc3339(e.updated_at),
        "venue": venues::view(venue),
        "tiers": tiers,
        "jsonld": jsonld(e, venue, tiers),
    })
}

/// schema.org `Event` JSON-LD of an event (the type follows the category:
/// MusicEvent, SportsEvent, ScreeningEvent, TheaterEvent, ComedyEvent,
/// Festival, Event). Dates carry the venue's local offset; offers give the
/// price as a decimal string in the tier's currency.
pub fn jsonld(e: &EventRow, venue: &Venue, tiers: &[TierRow]) -> Json {
    let tz = &zone_of(e);
    let category = Category::parse(&e.category).unwrap_or(Category::Other);
    let base = platform::config::get_or("public_base_url", "");
    let url = format!("{}/events/{}", base.trim_end_matches('/'), e.id);
    let status = if e.status == EventStatus::Cancelled {
        "https://schema.org/EventCancelled"
    } else {
        "https://schema.org/EventScheduled"
    };
    let offers: Vec<Json> = tiers
        .iter()
        .map(|t| {
            let price = Currency::parse(&t.currency).map(|c| c.decimal(t.price_minor)).unwrap_or_default();
            let mut o = json!({"@type": "Offer", "name": t.name, "price": price, "priceCurrency": t.currency,
                "availability": "https://schema.org/InStock", "url": url});
            if let Some(s) = e.sales_start {
                o["validFrom"] = json!(domain::local_rfc3339(s, tz));
            }
            o
        })
        .collect();
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": category.schema_type(),
        "@id": url,
        "url": url,
        "name": e.title,
        "startDate": domain::local_rfc3339(e.starts_at, tz),
        "eventStatus": status,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": venue.name,
            "address": {"@type": "PostalAddress", "streetAddress": venue.address, "addressLocality": venue.city,
                        "addressRegion": venue.region, "postalCode": venue.postal_code, "addressCountry": venue.country},
        },
        "offers": offers,
    });
    if !e.description.is_empty() {
        doc["description"] = json!(e.description);
    }
    if let Some(end) = e.ends_at {
        doc["endDate"] = json!(domain::local_rfc3339(end, tz));
    }
    if let Some(img) = &e.image_url {
        doc["image"] = json!(img);
    }
    if !e.performers.is_empty() {
        doc["performer"] = e.performers.iter().map(|p| json!({"@type": "PerformingGroup", "name": p})).collect();
    }
    if let (Some(lat), Some(lng)) = (venue.latitude, venue.longitude) {
        doc["location"]["geo"] = json!({"@type": "GeoCoordinates", "latitude": lat, "longitude": lng});
    }
    doc
}

/// `GET /api/events/{id}`: detail; `?seat_map=false` leaves the seat map out.
pub fn get(req: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    visible_event(&req, &conn, id)?;
    let with_map = Query::of(&req).get("seat_map") != Some("false");
    ok(&detail(&conn, id, with_map)?)
}

/// `GET /api/events/{id}/jsonld`: the schema.org document alone
/// (`application/ld+json`).
pub fn get_jsonld(req: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    let e = visible_event(&req, &conn, id)?;
    let venue =
        venues::load(&conn, &e.venue_id, false)?.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("venue missing")))?;
    let body = serde_json::to_vec(&jsonld(&e, &venue, &tiers(&conn, id)?)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(spin_sdk::http::Response::builder()
        .status(200)
        .header("content-type", "application/ld+json")
        .body(script_safe(&body))
        .build())
}

/// JSON text that is safe inside an HTML `<script type="application/ld+json">`
/// element: `<`, `>` and `&` (which only occur inside JSON strings) as
/// `\u003c`, `\u003e`, `\u0026`, so a title holding `</script>` cannot end
/// the element of a site that embeds the document (issue 17, item 12; the
/// HTML spec's script-data rules; the same JSON value to any parser).
pub fn script_safe(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 16);
    for &b in json {
        match b {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            b => out.push(b),
        }
    }
    out
}

/// One seat of the inventory contract.
#[derive(Serialize)]
struct InventorySeat<'a> {
    id: String,
    section: &'a str,
    row: &'a str,
    number: &'a str,
    position: usize,
    x: f64,
    y: f64,
    tier_id: &'a str,
    accessible: bool,
}

/// `GET /api/events/{id}/inventory`: what the booking component sells.
///
/// ```json
/// {"event_id","version","title","organizer_id","status","starts_at","ends_at","timezone",
///  "sales_start","sales_end","order_limit","currency","venue":{"id","name","city","location"},
///  "tiers":[{"id","name","price_minor","currency","kind","capacity"}],
///  "seats":[{"id","section","row","number","position","x","y","tier_id","accessible"}]}
/// ```
///
/// Only seats assigned to a tier are listed; GA tiers have no seats.
/// `version` is the event row's version: every change of the event
/// (publish, edit, cancel, import update) increments it and emits
/// `EventChanged` with it ([`crate::outbox`]), so a copy made from this
/// document is current exactly while its version is the latest announced.
pub fn inventory(req: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let conn = store::open()?;
    let e = visible_event(&req, &conn, id)?;
    let tiers = tiers(&conn, id)?;
    let seated = tiers.iter().any(|t| t.kind == "seated");
    let venue = venues::load(&conn, &e.venue_id, seated)?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("venue missing")))?;
    let mut by_section: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut by_seat: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for t in tiers.iter().filter(|t| t.kind == "seated") {
        for s in &t.sections {
            by_section.insert(s, &t.id);
        }
        for s in &t.seats {
            by_seat.insert(s, &t.id);
        }
    }
    let mut seats = Vec::new();
    if let Some(map) = &venue.seat_map {
        seats.reserve(map.seat_count());
        for s in map.seats() {
            let sid = s.id();
            let tier = by_seat.get(sid.as_str()).or_else(|| by_section.get(s.section.code.as_str()));
            if let Some(tier_id) = tier {
                seats.push(InventorySeat {
                    id: sid,
                    section: &s.section.code,
                    row: &s.row.label,
                    number: &s.seat.number,
                    position: s.position,
                    x: s.seat.x,
                    y: s.seat.y,
                    tier_id,
                    accessible: s.seat.accessible,
                });
            }
        }
    }
    let tier_view: Vec<Json> = tiers
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "price_minor": t.price_minor, "currency": t.currency, "kind": t.kind, "capacity": t.capacity}))
        .collect();
    ok(&json!({
        "event_id": e.id,
        "version": e.version,
        "title": e.title,
        "organizer_id": e.organizer_id,
        "status": e.status,
        "starts_at": platform::clock::rfc3339(e.starts_at),
        "ends_at": e.ends_at.map(platform::clock::rfc3339),
        "timezone": e.timezone,
        "sales_start": e.sales_start.map(platform::clock::rfc3339),
        "sales_end": e.sales_end.map(platform::clock::rfc3339),
        "order_limit": e.order_limit,
        "currency": e.currency,
        "venue": {"id": venue.id, "name": venue.name, "city": venue.city, "location": venues::location(&venue)},
        "tiers": tier_view,
        "seats": seats,
    }))
}

/// `GET /api/events/mine?cursor=&limit=`: the caller's own events, every
/// status, oldest first (organizers and admins).
pub fn mine(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[platform::auth::Role::Organizer])?;
    let q = Query::of(&req);
    let limit = q.limit(20, 100)?;
    let (after_ms, after_id) = match q.get("cursor") {
        None => (i64::MIN, String::new()),
        Some(c) => {
            let (ms, id) =
                c.split_once('~').ok_or_else(|| ApiError::field("cursor", "is not a cursor from this list"))?;
            (ms.parse().map_err(|_| ApiError::field("cursor", "is not a cursor from this list"))?, id.to_string())
        }
    };
    let conn = store::open()?;
    let rs = conn.execute(
        SELECT_MINE,
        &[store::text(&caller.user_id), int(after_ms), store::text(&after_id), int(i64::from(limit) + 1)],
    )?;
    let mut rows: Vec<EventRow> = rs.rows().map(|r| event_from(&r)).collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|e| format!("{}~{}", e.created_at, e.id))
    } else {
        None
    };
    let items: Vec<Json> = rows
        .iter()
        .map(|e| {
            json!({"id": e.id, "title": e.title, "status": e.status, "category": e.category,
                       "starts_at": platform::clock::rfc3339(e.starts_at), "timezone": e.timezone,
                       "price_from": price_from_json(e.price_from, &e.currency), "source": e.source})
        })
        .collect();
    ok(&json!({"items": items, "next_cursor": next}))
}
