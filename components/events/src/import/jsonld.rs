//! schema.org `Event` JSON-LD (https://schema.org/Event): a single object,
//! an array of them, or an object with `@graph`.
//!
//! Mapping: `@type` → category (MusicEvent → concert, TheaterEvent →
//! theatre, ScreeningEvent → film, SportsEvent → sports, ComedyEvent →
//! comedy, Festival → festival, DanceEvent → theatre, anything else →
//! other); `name`, `description`, `image`, `performer[].name`;
//! `startDate`/`endDate` (ISO 8601: with an offset it is an instant, without
//! one it is local time in the venue's zone, a bare date is 19:00 with
//! `time_tba`); `location` (a Place: `name` and a PostalAddress or address
//! text); `offers` (Offer `price`/`priceCurrency`/`name`, AggregateOffer
//! `lowPrice`/`highPrice`); `eventStatus` kept as the source status.
//!
//! The zone comes from the address (US state, or country for one-zone
//! countries), else from the import's `timezone` option; otherwise the
//! record fails. The external id is `@id`, else `url`, else
//! `name|startDate|location name`; the venue's is the Place's `@id`,
//! `sameAs` or `url`, else `name|city`.

use super::{
    apply_times, clip, country_currency, default_tier, failed, ga_tier, Options, Outcome, Record, Times, TBA_TIME,
};
use crate::domain::{self, Currency, Zone};
use crate::spec::EventInput;
use crate::venues::VenueInput;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use platform::{ApiError, ApiResult, FieldError};
use serde_json::Value as Json;

/// Source name stored with imported events.
pub const SOURCE: &str = "jsonld";

/// US states: code, name, the zone most of the state keeps.
const US_STATES: &[(&str, &str, &str)] = &[
    ("AL", "Alabama", "America/Chicago"),
    ("AK", "Alaska", "America/Anchorage"),
    ("AZ", "Arizona", "America/Phoenix"),
    ("AR", "Arkansas", "America/Chicago"),
    ("CA", "California", "America/Los_Angeles"),
    ("CO", "Colorado", "America/Denver"),
    ("CT", "Connecticut", "America/New_York"),
    ("DE", "Delaware", "America/New_York"),
    ("DC", "District of Columbia", "America/New_York"),
    ("FL", "Florida", "America/New_York"),
    ("GA", "Georgia", "America/New_York"),
    ("HI", "Hawaii", "Pacific/Honolulu"),
    ("ID", "Idaho", "America/Boise"),
    ("IL", "Illinois", "America/Chicago"),
    ("IN", "Indiana", "America/Indiana/Indianapolis"),
    ("IA", "Iowa", "America/Chicago"),
    ("KS", "Kansas", "America/Chicago"),
    ("KY", "Kentucky", "America/New_York"),
    ("LA", "Louisiana", "America/Chicago"),
    ("ME", "Maine", "America/New_York"),
    ("MD", "Maryland", "America/New_York"),
    ("MA", "Massachusetts", "America/New_York"),
    ("MI", "Michigan", "America/Detroit"),
    ("MN", "Minnesota", "America/Chicago"),
    ("MS", "Mississippi", "America/Chicago"),
    ("MO", "Missouri", "America/Chicago"),
    ("MT", "Montana", "America/Denver"),
    ("NE", "Nebraska", "America/Chicago"),
    ("NV", "Nevada", "America/Los_Angeles"),
    ("NH", "New Hampshire", "America/New_York"),
    ("NJ", "New Jersey", "America/New_York"),
    ("NM", "New Mexico", "America/Denver"),
    ("NY", "New York", "America/New_York"),
    ("NC", "North Carolina", "America/New_York"),
    ("ND", "North Dakota", "America/Chicago"),
    ("OH", "Ohio", "America/New_York"),
    ("OK", "Oklahoma", "America/Chicago"),
    ("OR", "Oregon", "America/Los_Angeles"),
    ("PA", "Pennsylvania", "America/New_York"),
    ("RI", "Rhode Island", "America/New_York"),
    ("SC", "South Carolina", "America/New_York"),
    ("SD", "South Dakota", "America/Chicago"),
    ("TN", "Tennessee", "America/Chicago"),
    ("TX", "Texas", "America/Chicago"),
    ("UT", "Utah", "America/Denver"),
    ("VT", "Vermont", "America/New_York"),
    ("VA", "Virginia", "America/New_York"),
    ("WA", "Washington", "America/Los_Angeles"),
    ("WV", "West Virginia", "America/New_York"),
    ("WI", "Wisconsin", "America/Chicago"),
    ("WY", "Wyoming", "America/Denver"),
];

/// Countries with one zone: names and codes as they appear in addresses.
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("GB", "UK", "Europe/London"),
    ("GB", "United Kingdom", "Europe/London"),
    ("GB", "GB", "Europe/London"),
    ("IE", "Ireland", "Europe/Dublin"),
    ("DE", "Germany", "Europe/Berlin"),
    ("FR", "France", "Europe/Paris"),
    ("NL", "Netherlands", "Europe/Amsterdam"),
    ("ES", "Spain", "Europe/Madrid"),
    ("IT", "Italy", "Europe/Rome"),
    ("JP", "Japan", "Asia/Tokyo"),
    ("US", "USA", ""),
    ("US", "US", ""),
    ("US", "United States", ""),
];

/// Where a venue is, as far as its address tells.
#[derive(Debug, Default, PartialEq)]
pub struct Place {
    /// Street.
    pub street: String,
    /// City.
    pub city: String,
    /// Region code or name.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO country code.
    pub country: String,
    /// Zone inferred from region/country.
    pub zone: Option<Zone>,
}

fn state(token: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    US_STATES.iter().find(|(c, n, _)| c.eq_ignore_ascii_case(token) || n.eq_ignore_ascii_case(token))
}

fn country(token: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    COUNTRIES
        .iter()
        .find(|(c, n, _)| n.eq_ignore_ascii_case(token) || c.eq_ignore_ascii_case(token) && token.len() == 2)
}

/// Reads a PostalAddress object or address text (`"79 Washington St.,
/// Providence, RI"`, `"London, UK"`).
pub fn place(address: Option<&Json>) -> Place {
    let mut p = Place::default();
    match address {
        Some(Json::Object(a)) => {
            let f = |k: &str| a.get(k).and_then(Json::as_str).unwrap_or("").trim().to_string();
            p.street = f("streetAddress");
            p.city = f("addressLocality");
            p.region = f("addressRegion");
            p.postal_code = f("postalCode");
            p.country = match a.get("addressCountry") {
                Some(Json::String(c)) => c.clone(),
                Some(Json::Object(c)) => c.get("name").and_then(Json::as_str).unwrap_or("").to_string(),
                _ => String::new(),
            };
        }
        Some(Json::String(text)) => {
            let parts: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            // the region is the first part that names a state or country; the city precedes it
            let at = parts.iter().position(|t| state(t).is_some() || country(t).is_some());
            match at {
                Some(i) => {
                    if state(parts[i]).is_some() {
                        p.region = parts[i].to_string();
                    } else {
                        p.country = parts[i].to_string();
                    }
                    p.city = if i > 0 { parts[i - 1].to_string() } else { String::new() };
                    p.street = parts[..i.saturating_sub(1)].join(", ");
                    for t in &parts[i + 1..] {
                        if country(t).is_some() {
                            p.country = t.to_string();
                        } else if t.chars().any(|c| c.is_ascii_digit()) {
                            p.postal_code = t.to_string();
                        }
                    }
                }
                None => p.city = parts.last().map(|s| s.to_string()).unwrap_or_default(),
            }
        }
        _ => {}
    }
    let st = state(&p.region);
    let co = country(&p.country);
    p.country = match (co, st) {
        (Some(c), _) => c.0.to_string(),
        (None, Some(_)) => "US".to_string(),
        (None, None) if p.country.len() == 2 => p.country.to_ascii_uppercase(),
        _ => String::new(),
    };
    if let Some(s) = st {
        p.region = s.0.to_string();
    }
    p.zone = match (st, co) {
        (Some(s), _) if p.country == "US" => s.2.parse().ok(),
        (_, Some(c)) if !c.2.is_empty() => c.2.parse().ok(),
        _ => None,
    };
    p
}

fn items(doc: &Json) -> Vec<&Json> {
    match doc {
        Json::Array(a) => a.iter().flat_map(items).collect(),
        Json::Object(o) => match o.get("@graph") {
            Some(g) => items(g),
            None => vec![doc],
        },
        _ => vec![],
    }
}

fn type_of(e: &Json) -> String {
    match e.get("@type") {
        Some(Json::String(t)) => t.clone(),
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).next().unwrap_or("").to_string(),
        _ => String::new(),
    }
}

/// Our category of a schema.org type.
pub fn category(t: &str) -> &'static str {
    match t.rsplit('/').next().unwrap_or(t) {
        "MusicEvent" => "concert",
        "TheaterEvent" | "DanceEvent" => "theatre",
        "ScreeningEvent" => "film",
        "SportsEvent" => "sports",
        "ComedyEvent" => "comedy",
        "Festival" => "festival",
        _ => "other",
    }
}

/// Maps a JSON-LD document into records.
pub fn map(doc: &Json, opts: &Options) -> ApiResult<Vec<Result<Record, Outcome>>> {
    let list = items(doc);
    if list.is_empty() {
        return Err(ApiError::field("", "expected a schema.org Event object, an array of them, or @graph"));
    }
    Ok(list
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            map_event(e, opts).map_err(|errs| {
                let id = e.get("@id").or_else(|| e.get("url")).and_then(Json::as_str).map(str::to_string);
                failed(
                    i,
                    id,
                    errs.into_iter().map(|f| FieldError::new(format!("{i}/{}", f.field), f.message)).collect(),
                )
            })
        })
        .collect())
}

fn text_of(v: Option<&Json>) -> Option<String> {
    match v? {
        Json::String(s) => Some(s.trim().to_string()),
        Json::Array(a) => a.iter().find_map(|x| text_of(Some(x))),
        Json::Object(o) => {
            o.get("url").or_else(|| o.get("@id")).or_else(|| o.get("name")).and_then(|x| text_of(Some(x)))
        }
        _ => None,
    }
}

fn list(v: Option<&Json>) -> Vec<&Json> {
    match v {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(other @ Json::Object(_)) => vec![other],
        _ => vec![],
    }
}

fn number(v: Option<&Json>) -> Option<f64> {
    match v? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A start/end value: `(local time, instant if an offset was given, date only)`.
fn when(text: &str) -> Option<(Option<NaiveDateTime>, Option<i64>, bool)> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some((None, Some(dt.timestamp_millis()), false));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, f) {
            return Some((None, Some(dt.timestamp_millis()), false));
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(text, f) {
            return Some((Some(n), None, false));
        }
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some((Some(d.and_time(NaiveTime::from_hms_opt(TBA_TIME.0, TBA_TIME.1, 0)?)), None, true))
}

fn map_event(e: &Json, opts: &Options) -> Result<Record, Vec<FieldError>> {
    let err = |f: &str, m: &str| vec![FieldError::new(f, m)];
    let ty = type_of(e);
    if !ty.ends_with("Event") && ty != "Festival" {
        return Err(err("@type", "is not a schema.org Event type"));
    }
    let name = e.get("name").and_then(Json::as_str).ok_or_else(|| err("name", "is missing"))?.trim().to_string();
    let loc = e.get("location").ok_or_else(|| err("location", "is missing"))?;
    let venue_name = loc.get("name").and_then(Json::as_str).map(str::trim).filter(|n| !n.is_empty());
    let venue_name = venue_name.ok_or_else(|| err("location/name", "the place has no name"))?.to_string();
    let p = place(loc.get("address"));
    if p.city.is_empty() {
        return Err(err("location/address", "the place has no city (addressLocality)"));
    }
    let zone = p.zone.clone().or_else(|| opts.timezone.clone()).ok_or_else(|| {
        err("location/address", "the time zone cannot be told from the address; pass ?timezone=<IANA zone>")
    })?;
    let country = if p.country.is_empty() { "US".to_string() } else { p.country.clone() };
    let venue = VenueInput {
        name: clip(&venue_name, 200),
        address: Some(clip(&p.street, 300)),
        city: clip(&p.city, 100),
        region: Some(p.region.clone()),
        postal_code: Some(clip(&p.postal_code, 20)),
        country: country.clone(),
        timezone: zone.name().to_string(),
        latitude: None,
        longitude: None,
        seat_map: None,
        ga_areas: vec![],
        stage_label: None,
    }
    .validate()
    .map_err(|e| match e.field_errors() {
        Ok(f) => f.into_iter().map(|f| FieldError::new(format!("location/{}", f.field), f.message)).collect(),
        Err(other) => err("location", &other.to_string()),
    })?;
    let venue_external_id = ["@id", "sameAs", "url"]
        .iter()
        .find_map(|k| text_of(loc.get(*k)))
        .unwrap_or_else(|| format!("{}|{}", venue_name.to_lowercase(), p.city.to_lowercase()));

    let start_text = e.get("startDate").and_then(Json::as_str).ok_or_else(|| err("startDate", "is missing"))?;
    let (local, instant, date_only) =
        when(start_text).ok_or_else(|| err("startDate", "is not an ISO 8601 date-time"))?;
    let start = local.or_else(|| instant.map(|ms| domain::local_naive(ms, &zone))).unwrap_or_default();
    let end = e
        .get("endDate")
        .and_then(Json::as_str)
        .and_then(when)
        .and_then(|(l, i, _)| l.or_else(|| i.map(|ms| domain::local_naive(ms, &zone))));

    let offers = list(e.get("offers"));
    let mut tiers = Vec::new();
    let mut currency: Option<Currency> = None;
    for (k, o) in offers.iter().enumerate() {
        let cur = o.get("priceCurrency").and_then(Json::as_str).and_then(|c| Currency::parse(c).ok());
        let low = number(o.get("price")).or_else(|| number(o.get("lowPrice")));
        let (Some(cur), Some(low)) = (cur, low) else { continue };
        if currency.is_some_and(|c| c != cur) {
            continue; // one currency per event: later offers in another currency are skipped
        }
        currency = Some(cur);
        let Some(low) = cur.to_minor(low) else { continue };
        let label = o.get("name").and_then(Json::as_str).map(|n| clip(n.trim(), 100)).filter(|n| !n.is_empty());
        let label = label.unwrap_or_else(|| if k == 0 { "Standard".into() } else { format!("Offer {}", k + 1) });
        if tiers.iter().any(|t: &crate::spec::TierInput| t.name == label) {
            continue;
        }
        tiers.push(ga_tier(&label, low, cur.code()));
        if let Some(high) = number(o.get("highPrice")).and_then(|h| cur.to_minor(h)).filter(|h| *h > low) {
            tiers.push(ga_tier("Premium", high, cur.code()));
        }
    }
    if tiers.is_empty() {
        tiers.push(default_tier(country_currency(&country)));
    }
    let performers: Vec<String> = list(e.get("performer"))
        .iter()
        .filter_map(|p| p.get("name").and_then(Json::as_str))
        .map(|n| clip(n.trim(), 200))
        .take(50)
        .collect();
    let mut event = EventInput {
        title: Some(clip(&name, 200)),
        description: e.get("description").and_then(Json::as_str).map(|d| clip(d, 10_000)),
        category: Some(category(&ty).to_string()),
        performers,
        image_url: text_of(e.get("image")).and_then(|u| domain::url(&u).ok()),
        time_tba: date_only,
        currency: tiers.first().and_then(|t| t.currency.clone()),
        tiers,
        ..EventInput::default()
    };
    apply_times(&mut event, Times { start, end, sales_start: None, sales_end: None }, &zone, opts);
    let external_id = ["@id", "url"]
        .iter()
        .find_map(|k| text_of(e.get(*k)))
        .unwrap_or_else(|| format!("{}|{}|{}", name, start_text, venue_name));
    let status = e.get("eventStatus").and_then(Json::as_str).map(|s| s.rsplit('/').next().unwrap_or(s).to_string());
    Ok(Record {
        external_id: clip(&external_id, 500),
        venue,
        venue_external_id: clip(&venue_external_id, 500),
        event,
        source_status: status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses() {
        let p = place(Some(&json!("79 Washington St., Providence, RI")));
        assert_eq!((p.city.as_str(), p.region.as_str(), p.country.as_str()), ("Providence", "RI", "US"));
        assert_eq!(p.zone.unwrap().name(), "America/New_York");
        let p = place(Some(&json!("220 S. Michigan Ave, Chicago, Illinois, USA")));
        assert_eq!((p.city.as_str(), p.region.as_str(), p.street.as_str()), ("Chicago", "IL", "220 S. Michigan Ave"));
        assert_eq!(p.zone.unwrap().name(), "America/Chicago");
        let p = place(Some(&json!("London, UK")));
        assert_eq!((p.city.as_str(), p.country.as_str()), ("London", "GB"));
        assert_eq!(p.zone.unwrap().name(), "Europe/London");
        let p = place(Some(&json!("Lynn, MA, 01901")));
        assert_eq!((p.city.as_str(), p.postal_code.as_str()), ("Lynn", "01901"));
        let p = place(Some(&json!({"addressLocality": "Denver", "addressRegion": "CO"})));
        assert_eq!(p.zone.unwrap().name(), "America/Denver");
        assert_eq!(place(None).zone, None);
    }

    #[test]
    fn dates() {
        assert!(when("2015-09-25T19:45:00-07:00").unwrap().1.is_some());
        assert!(when("2013-09-14T21:30").unwrap().0.is_some());
        assert!(when("2014-04-12").unwrap().2);
        assert!(when("soon").is_none());
    }

    #[test]
    fn offers_and_types() {
        let opts = Options { shift_to_future: true, timezone: None, publish: true, now: 1_780_000_000_000 };
        let doc = json!({"@type": "Event", "name": "Typhoon", "startDate": "2013-09-14T21:30",
            "location": {"@type": "Place", "name": "The Hi-Dive", "address": {"addressLocality": "Denver", "addressRegion": "CO"}},
            "offers": {"@type": "Offer", "price": "13.00", "priceCurrency": "USD"}});
        let out = map(&doc, &opts).unwrap();
        let r = out[0].as_ref().unwrap();
        assert_eq!(r.event.tiers[0].price_minor, 1300);
        assert_eq!(r.event.category.as_deref(), Some("other"));
        assert!(r.event.starts_at.as_deref().unwrap().contains("T21:30:00-0"), "{:?}", r.event.starts_at);
        let missing =
            map(&json!({"@type": "ScreeningEvent", "name": "Jaws", "location": {"name": "ACME"}}), &opts).unwrap();
        assert!(missing[0].is_err());
    }
}
