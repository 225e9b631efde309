//! Venues: address, IANA zone, coordinates, a seat map and/or
//! general-admission areas.
//!
//! * `POST /api/venues` (organizer or admin) — body [`VenueInput`]; 201 with
//!   the venue (seat map included).
//! * `GET /api/venues/{id}` — public; `?seat_map=false` leaves the map out.
//!
//! A venue's seat map is fixed once created: events pick seats from it by
//! section or seat id, so changing it under a sold event would move sold
//! seats. A different layout is a new venue.

use crate::domain::{country, text, zone, Errors, Zone};
use crate::seatmap::{SeatMap, SeatMapInput};
use crate::store::{self, int, opt_real, opt_text};
use platform::auth::Role;
use platform::web::{created, ok, read_json, Query};
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// Body of `POST /api/venues`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueInput {
    /// Display name, ≤ 200 characters.
    pub name: String,
    /// Street address, ≤ 300 characters.
    pub address: Option<String>,
    /// City, ≤ 100 characters (surrounding spaces are trimmed).
    pub city: String,
    /// State or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// IANA time zone (`Europe/London`).
    pub timezone: String,
    /// WGS 84 latitude, −90..90.
    pub latitude: Option<f64>,
    /// WGS 84 longitude, −180..180.
    pub longitude: Option<f64>,
    /// Reserved seating, see [`crate::seatmap`].
    pub seat_map: Option<SeatMapInput>,
    /// General-admission areas.
    #[serde(default)]
    pub ga_areas: Vec<GaArea>,
    /// What the seats face, ≤ 40 characters ([`DEFAULT_STAGE_LABEL`] when left out).
    #[serde(default)]
    pub stage_label: Option<String>,
}

/// The stage label of a venue that names none.
pub const DEFAULT_STAGE_LABEL: &str = "Stage";

/// A general-admission area (standing floor, lawn).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GaArea {
    /// Name, ≤ 100 characters.
    pub name: String,
    /// People it holds, 1..=1,000,000.
    pub capacity: i64,
}

/// A validated venue.
#[derive(Debug, Clone)]
pub struct VenueSpec {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// City, trimmed.
    pub city: String,
    /// Region.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// Country code.
    pub country: String,
    /// Time zone.
    pub timezone: Zone,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Seat map.
    pub seat_map: Option<SeatMap>,
    /// GA areas.
    pub ga_areas: Vec<GaArea>,
    /// What the seats face (`Stage`, `Screen`).
    pub stage_label: String,
}

impl VenueInput {
    /// Validates into a [`VenueSpec`]; 422 naming every bad field.
    pub fn validate(&self) -> Result<VenueSpec, ApiError> {
        let mut e = Errors::default();
        let name = e.take("name", text(&self.name, 200, false, true));
        let address = e.take("address", text(self.address.as_deref().unwrap_or(""), 300, false, false));
        let city = e.take("city", text(self.city.trim(), 100, false, true));
        let region = e.take("region", text(self.region.as_deref().unwrap_or("").trim(), 100, false, false));
        let postal = e.take("postal_code", text(self.postal_code.as_deref().unwrap_or("").trim(), 20, false, false));
        let country = e.take("country", country(&self.country));
        let tz = e.take("timezone", zone(&self.timezone));
        if self.latitude.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
            e.add("latitude", "must be between -90 and 90");
        }
        if self.longitude.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
            e.add("longitude", "must be between -180 and 180");
        }
        let stage = e.take(
            "stage_label",
            text(self.stage_label.as_deref().unwrap_or(DEFAULT_STAGE_LABEL).trim(), 40, false, true),
        );
        let seat_map = self.seat_map.as_ref().map(|m| SeatMap::parse(m, &mut e));
        for (k, a) in self.ga_areas.iter().enumerate() {
            e.take(&format!("ga_areas/{k}/name"), text(&a.name, 100, false, true));
            if !(1..=1_000_000).contains(&a.capacity) {
                e.add(format!("ga_areas/{k}/capacity"), "must be between 1 and 1000000");
            }
        }
        e.finish(|| VenueSpec {
            name: name.unwrap_or_default(),
            address: address.unwrap_or_default(),
            city: city.unwrap_or_default(),
            region: region.unwrap_or_default(),
            postal_code: postal.unwrap_or_default(),
            country: country.unwrap_or_default(),
            timezone: tz.unwrap_or_else(Zone::utc),
            latitude: self.latitude,
            longitude: self.longitude,
            seat_map,
            ga_areas: self.ga_areas.clone(),
            stage_label: stage.unwrap_or_else(|| DEFAULT_STAGE_LABEL.into()),
        })
    }
}

/// A stored venue. `seat_map` is only loaded when asked for.
#[derive(Debug, Clone)]
pub struct Venue {
    /// `ven_…`
    pub id: String,
    /// Creator.
    pub owner_id: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// City.
    pub city: String,
    /// Region.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// Country.
    pub country: String,
    /// Time zone.
    pub timezone: Zone,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Seats in the map.
    pub seat_count: i64,
    /// The map, when loaded and present.
    pub seat_map: Option<SeatMap>,
    /// GA areas.
    pub ga_areas: Vec<GaArea>,
    /// What the seats face (`Stage`, `Screen`).
    pub stage_label: String,
}

const SELECT_VENUE: &str = "SELECT id, owner_id, name, address, city, region, postal_code, country, timezone, latitude, longitude, seat_count, ga_areas, stage_label FROM venues WHERE id = ?";
const SELECT_SEAT_MAP: &str = "SELECT seat_map FROM venues WHERE id = ?";
const INSERT_VENUE: &str = "INSERT INTO venues (id, owner_id, name, address, city, region, postal_code, country, timezone, latitude, longitude, seat_count, seat_map, ga_areas, source, external_id, created_at, updated_at, stage_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const FIND_EXTERNAL: &str = "SELECT id FROM venues WHERE owner_id = ? AND source = ? AND external_id = ?";
const UPDATE_EXTERNAL: &str = "UPDATE venues SET name = ?1, address = ?2, city = ?3, region = ?4, postal_code = ?5, country = ?6, timezone = ?7, latitude = ?8, longitude = ?9, updated_at = ?10 WHERE id = ?11 AND owner_id = ?12 AND NOT (name IS ?1 AND address IS ?2 AND city IS ?3 AND region IS ?4 AND postal_code IS ?5 AND country IS ?6 AND timezone IS ?7 AND latitude IS ?8 AND longitude IS ?9)";

/// Loads venue `id`; with `with_map` also parses its seat map.
pub fn load(conn: &Connection, id: &str, with_map: bool) -> ApiResult<Option<Venue>> {
    let rs = conn.execute(SELECT_VENUE, &[store::text(id)])?;
    let Some(r) = rs.rows().next() else { return Ok(None) };
    let tz = zone(&store::s(&r, "timezone")).map_err(|m| ApiError::Internal(anyhow::anyhow!(m)))?;
    let mut v = Venue {
        id: store::s(&r, "id"),
        owner_id: store::s(&r, "owner_id"),
        name: store::s(&r, "name"),
        address: store::s(&r, "address"),
        city: store::s(&r, "city"),
        region: store::s(&r, "region"),
        postal_code: store::s(&r, "postal_code"),
        country: store::s(&r, "country"),
        timezone: tz,
        latitude: store::of(&r, "latitude"),
        longitude: store::of(&r, "longitude"),
        seat_count: store::i(&r, "seat_count"),
        seat_map: None,
        ga_areas: serde_json::from_str(&store::s(&r, "ga_areas")).unwrap_or_default(),
        stage_label: Some(store::s(&r, "stage_label"))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| DEFAULT_STAGE_LABEL.into()),
    };
    if with_map && v.seat_count > 0 {
        let rs = conn.execute(SELECT_SEAT_MAP, &[store::text(id)])?;
        let text = rs.rows().next().and_then(|r| r.get::<&str>("seat_map").map(str::to_string));
        if let Some(text) = text {
            v.seat_map = Some(serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.into()))?);
        }
    }
    Ok(Some(v))
}

/// Inserts a new venue and returns its id.
pub fn insert(conn: &Connection, spec: &VenueSpec, owner: &str, external: Option<(&str, &str)>) -> ApiResult<String> {
    let id = platform::ids::new("ven");
    let now = platform::clock::now_ms();
    let seat_map = match &spec.seat_map {
        Some(m) => Some(serde_json::to_string(m).map_err(|e| ApiError::Internal(e.into()))?),
        None => None,
    };
    let seat_count = spec.seat_map.as_ref().map_or(0, |m| m.seat_count() as i64);
    conn.execute(
        INSERT_VENUE,
        &[
            store::text(&id),
            store::text(owner),
            store::text(&spec.name),
            store::text(&spec.address),
            store::text(&spec.city),
            store::text(&spec.region),
            store::text(&spec.postal_code),
            store::text(&spec.country),
            store::text(spec.timezone.name()),
            opt_real(spec.latitude),
            opt_real(spec.longitude),
            int(seat_count),
            opt_text(seat_map.as_deref()),
            store::text(&serde_json::to_string(&spec.ga_areas).unwrap_or_else(|_| "[]".into())),
            opt_text(external.map(|e| e.0)),
            opt_text(external.map(|e| e.1)),
            int(now),
            int(now),
            store::text(&spec.stage_label),
        ],
    )?;
    Ok(id)
}

/// `owner`'s venue imported from `source` with `external_id`: created on
/// `owner`'s first import of it, its address fields refreshed when the
/// source changed them.
///
/// An import only ever touches the importer's own venue record: venues are
/// keyed by (owner, source, external id) (migration 3), so when organizer B
/// imports the Ticketmaster venue that organizer A imported (or the seeded
/// one), B gets a venue of their own and A's name, address, zone and
/// coordinates stay as they are. This is what ticketing platforms do with
/// organizer-supplied venue data (an Eventbrite venue belongs to one
/// organizer): a feed is one organizer's claim, not the truth about a place
/// others sell tickets at; sharing a canonical venue would need a curated
/// record that no import can edit.
pub fn upsert_external(
    conn: &Connection,
    spec: &VenueSpec,
    owner: &str,
    source: &str,
    external_id: &str,
) -> ApiResult<String> {
    let rs = conn.execute(FIND_EXTERNAL, &[store::text(owner), store::text(source), store::text(external_id)])?;
    if let Some(id) = rs.rows().next().map(|r| store::s(&r, "id")) {
        let f = |s: &str| store::text(s);
        conn.execute(
            UPDATE_EXTERNAL,
            &[
                f(&spec.name),
                f(&spec.address),
                f(&spec.city),
                f(&spec.region),
                f(&spec.postal_code),
                f(&spec.country),
                f(spec.timezone.name()),
                opt_real(spec.latitude),
                opt_real(spec.longitude),
                int(platform::clock::now_ms()),
                f(&id),
                f(owner),
            ],
        )?;
        return Ok(id);
    }
    insert(conn, spec, owner, Some((source, external_id)))
}

/// JSON view of a venue (`seat_map` only when loaded).
pub fn view(v: &Venue) -> Json {
    let mut out = json!({
        "id": v.id,
        "name": v.name,
        "address": v.address,
        "city": v.city,
        "region": v.region,
        "postal_code": v.postal_code,
        "country": v.country,
        "timezone": v.timezone.name(),
        "latitude": v.latitude,
        "longitude": v.longitude,
        "seat_count": v.seat_count,
        "ga_areas": v.ga_areas,
        "stage_label": v.stage_label,
    });
    if let Some(m) = &v.seat_map {
        out["seat_map"] = serde_json::to_value(m).unwrap_or(Json::Null);
    }
    out
}

/// `v` as one line people read and maps search: its name, street address,
/// postal code and city, region and country, the parts it has, joined by
/// ", " (`Browser Hall, Rua Augusta 1, 1100-048 Lisbon, PT`). Tickets,
/// their e-mail and their calendar file's `LOCATION` say it.
pub fn location(v: &Venue) -> String {
    let town = [v.postal_code.as_str(), v.city.as_str()]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let parts = [v.name.as_str(), v.address.as_str(), town.as_str(), v.region.as_str(), v.country.as_str()];
    parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(", ")
}

/// `POST /api/venues`.
pub fn create(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[Role::Organizer])?;
    let conn = store::open()?;
    platform::idempotency::once(&conn, &req, &caller.user_id, || {
        let input: VenueInput = read_json(&req)?;
        let spec = input.validate()?;
        let id = insert(&conn, &spec, &caller.user_id, None)?;
        let venue = load(&conn, &id, true)?.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("venue vanished")))?;
        created(&format!("/api/venues/{id}"), &view(&venue))
    })
}

/// `GET /api/venues/{id}`.
pub fn get(req: Request, params: Params) -> ApiResult {
    let id = params.get("id").unwrap_or_default();
    let with_map = Query::of(&req).get("seat_map") != Some("false");
    let conn = store::open()?;
    let venue = load(&conn, id, with_map)?.ok_or_else(|| ApiError::NotFound(format!("venue {id} does not exist")))?;
    ok(&view(&venue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(address: &str, postal_code: &str, region: &str) -> Venue {
        Venue {
            id: "ven_1".into(),
            owner_id: "usr_1".into(),
            name: "Browser Hall".into(),
            address: address.into(),
            city: "Lisbon".into(),
            region: region.into(),
            postal_code: postal_code.into(),
            country: "PT".into(),
            timezone: Zone::utc(),
            latitude: None,
            longitude: None,
            seat_count: 0,
            seat_map: None,
            ga_areas: vec![],
            stage_label: DEFAULT_STAGE_LABEL.into(),
        }
    }

    #[test]
    fn a_location_line_has_the_parts_the_venue_has() {
        assert_eq!(
            location(&venue("Rua Augusta 1", "1100-048", "")),
            "Browser Hall, Rua Augusta 1, 1100-048 Lisbon, PT"
        );
        assert_eq!(location(&venue("", "", "Lisboa")), "Browser Hall, Lisbon, Lisboa, PT");
    }
}
