//! Ticketmaster Discovery API v2 events (`GET /discovery/v2/events`):
//! `_embedded.events[]`, each with `_embedded.venues[]`, `dates`,
//! `classifications`, `priceRanges`, `sales`, `_embedded.attractions[]`.
//!
//! Mapping (source field → ours):
//! * `id` → external id; `name` → title; `info` + `pleaseNote` → description;
//!   attractions' names → performers; the widest 16:9 image → image URL.
//! * venue: `id`, `name`, `address.line1/2`, `city.name` (trimmed: the data
//!   has `"Las Vegas "`), `state.stateCode`, `postalCode`,
//!   `country.countryCode`, `timezone`, `location.latitude/longitude`.
//! * zone: `dates.timezone`, else the venue's `timezone`.
//! * start: `dates.start.localDate` + `localTime`; without a time
//!   (`noSpecificTime`, `timeTBA`) 19:00 local and `time_tba`. End:
//!   `dates.end.localDate/localTime` when present and after the start.
//! * sales: `sales.public.startDateTime` / `endDateTime`.
//! * category from the primary classification: Sports → sports; Music with
//!   a Jazz or Blues genre → live_music, a name with "festival" → festival,
//!   other Music → concert; Arts & Theatre with a Comedy genre → comedy,
//!   other Arts & Theatre → theatre; Film → film; anything else → other.
//! * `priceRanges` (the `standard` type; "standard including fees" only when
//!   there is no plain one): one GA tier "Standard" at `min`, plus
//!   "Premium" at `max` when higher. No prices → the default tier.
//! * `dates.status.code` (onsale, offsale, rescheduled, cancelled) is kept as
//!   the source status; the import itself publishes (module docs of
//!   [`crate::import`]).

use super::{
    apply_times, clip, country_currency, default_tier, failed, ga_tier, Options, Outcome, Record, Times, TBA_TIME,
};
use crate::domain::{self, Currency};
use crate::spec::EventInput;
use crate::venues::VenueInput;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use platform::{ApiError, ApiResult, FieldError};
use serde_json::Value as Json;

/// Source name stored with imported events.
pub const SOURCE: &str = "ticketmaster";

fn s<'a>(v: &'a Json, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Maps a Discovery response into records (one per event).
pub fn map(doc: &Json, opts: &Options) -> ApiResult<Vec<Result<Record, Outcome>>> {
    let events =
        doc.get("_embedded").and_then(|e| e.get("events")).and_then(Json::as_array).ok_or_else(|| {
            ApiError::field("_embedded/events", "a Discovery v2 events response has _embedded.events[]")
        })?;
    Ok(events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = e.get("id").and_then(Json::as_str).map(str::to_string);
            map_event(e, opts).map_err(|errs| {
                let errs = errs
                    .into_iter()
                    .map(|f| FieldError::new(format!("_embedded/events/{i}/{}", f.field), f.message))
                    .collect();
                failed(i, id, errs)
            })
        })
        .collect())
}

fn map_event(e: &Json, opts: &Options) -> Result<Record, Vec<FieldError>> {
    let err = |f: &str, m: &str| vec![FieldError::new(f, m)];
    let external_id = s(e, &["id"]).ok_or_else(|| err("id", "is missing"))?.to_string();
    let v = e
        .get("_embedded")
        .and_then(|x| x.get("venues"))
        .and_then(|x| x.get(0))
        .ok_or_else(|| err("_embedded/venues", "the event has no venue"))?;
    let venue_external_id = s(v, &["id"]).ok_or_else(|| err("_embedded/venues/0/id", "is missing"))?.to_string();
    let zone_name = s(e, &["dates", "timezone"])
        .or_else(|| s(v, &["timezone"]))
        .ok_or_else(|| err("dates/timezone", "neither the event nor its venue gives a time zone"))?;
    let zone = domain::zone(zone_name).map_err(|m| err("dates/timezone", &m))?;
    let address =
        [s(v, &["address", "line1"]), s(v, &["address", "line2"])].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let country = s(v, &["country", "countryCode"]).unwrap_or("US").to_string();
    let venue_input = VenueInput {
        name: s(v, &["name"]).unwrap_or_default().trim().to_string(),
        address: Some(clip(&address, 300)),
        city: s(v, &["city", "name"]).unwrap_or_default().trim().to_string(),
        region: s(v, &["state", "stateCode"]).or_else(|| s(v, &["state", "name"])).map(str::to_string),
        postal_code: s(v, &["postalCode"]).map(|p| clip(p.trim(), 20)),
        country: country.clone(),
        timezone: zone.name().to_string(),
        latitude: s(v, &["location", "latitude"]).and_then(|x| x.parse().ok()),
        longitude: s(v, &["location", "longitude"]).and_then(|x| x.parse().ok()),
        seat_map: None,
        ga_areas: vec![],
        stage_label: None,
    };
    let venue = venue_input.validate().map_err(|e| match e.field_errors() {
        Ok(f) => f.into_iter().map(|f| FieldError::new(format!("_embedded/venues/0/{}", f.field), f.message)).collect(),
        Err(other) => err("_embedded/venues/0", &other.to_string()),
    })?;

    let start_date = s(e, &["dates", "start", "localDate"])
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| err("dates/start/localDate", "the event has no start date"))?;
    let start_time = s(e, &["dates", "start", "localTime"]).and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").ok());
    let tba = start_time.is_none();
    let start = NaiveDateTime::new(
        start_date,
        start_time.unwrap_or_else(|| NaiveTime::from_hms_opt(TBA_TIME.0, TBA_TIME.1, 0).unwrap_or_default()),
    );
    let end = s(e, &["dates", "end", "localDate"])
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| {
            let t = s(e, &["dates", "end", "localTime"]).and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").ok())?;
            Some(NaiveDateTime::new(d, t))
        });
    let times = Times {
        start,
        end,
        sales_start: s(e, &["sales", "public", "startDateTime"]).and_then(platform::clock::parse_rfc3339),
        sales_end: s(e, &["sales", "public", "endDateTime"]).and_then(platform::clock::parse_rfc3339),
    };

    let description = [s(e, &["info"]), s(e, &["pleaseNote"])].into_iter().flatten().collect::<Vec<_>>().join("\n\n");
    let performers: Vec<String> = e
        .get("_embedded")
        .and_then(|x| x.get("attractions"))
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("name").and_then(Json::as_str))
                .map(|n| clip(n.trim(), 200))
                .take(50)
                .collect()
        })
        .unwrap_or_default();
    let mut event = EventInput {
        title: Some(clip(s(e, &["name"]).unwrap_or_default().trim(), 200)),
        description: Some(clip(&description, 10_000)),
        category: Some(category(e).to_string()),
        performers,
        image_url: image(e),
        time_tba: tba,
        tiers: tiers(e, &country),
        ..EventInput::default()
    };
    event.currency = event.tiers.first().and_then(|t| t.currency.clone());
    apply_times(&mut event, times, &zone, opts);
    Ok(Record {
        external_id,
        venue,
        venue_external_id,
        event,
        source_status: s(e, &["dates", "status", "code"]).map(str::to_string),
    })
}

/// Our category of a Discovery event (see module docs).
pub fn category(e: &Json) -> &'static str {
    let classes = e.get("classifications").and_then(Json::as_array);
    let primary =
        classes.and_then(|c| c.iter().find(|x| x.get("primary") == Some(&Json::Bool(true))).or_else(|| c.first()));
    let Some(c) = primary else { return "other" };
    let segment = s(c, &["segment", "name"]).unwrap_or("");
    let genre = s(c, &["genre", "name"]).unwrap_or("");
    let name = s(e, &["name"]).unwrap_or("").to_lowercase();
    match segment {
        "Sports" => "sports",
        "Music" if genre.contains("Jazz") || genre == "Blues" => "live_music",
        "Music" if name.contains("festival") => "festival",
        "Music" => "concert",
        "Arts & Theatre" if genre.contains("Comedy") => "comedy",
        "Arts & Theatre" => "theatre",
        "Film" => "film",
        _ => "other",
    }
}

fn image(e: &Json) -> Option<String> {
    let images = e.get("images")?.as_array()?;
    let width = |x: &Json| x.get("width").and_then(Json::as_i64).unwrap_or(0);
    let best = images
        .iter()
        .filter(|x| x.get("ratio").and_then(Json::as_str) == Some("16_9"))
        .max_by_key(|x| width(x))
        .or_else(|| images.iter().max_by_key(|x| width(x)))?;
    let url = best.get("url")?.as_str()?;
    domain::url(url).ok()
}

fn tiers(e: &Json, country: &str) -> Vec<crate::spec::TierInput> {
    let ranges = e.get("priceRanges").and_then(Json::as_array).cloned().unwrap_or_default();
    let pick =
        ranges.iter().find(|r| r.get("type").and_then(Json::as_str) == Some("standard")).or_else(|| ranges.first());
    let Some(r) = pick else { return vec![default_tier(country_currency(country))] };
    let Some(cur) = r.get("currency").and_then(Json::as_str).and_then(|c| Currency::parse(c).ok()) else {
        return vec![default_tier(country_currency(country))];
    };
    let min = r.get("min").and_then(Json::as_f64).and_then(|m| cur.to_minor(m));
    let max = r.get("max").and_then(Json::as_f64).and_then(|m| cur.to_minor(m));
    match (min, max) {
        (Some(lo), Some(hi)) if hi > lo => {
            vec![ga_tier("Standard", lo, cur.code()), ga_tier("Premium", hi, cur.code())]
        }
        (Some(p), _) | (None, Some(p)) => vec![ga_tier("Standard", p, cur.code())],
        _ => vec![default_tier(cur.code())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> Options {
        Options {
            shift_to_future: true,
            timezone: None,
            publish: true,
            now: platform::clock::parse_rfc3339("2026-06-01T00:00:00Z").unwrap(),
        }
    }

    fn sample() -> Json {
        json!({"_embedded": {"events": [{
            "name": "Jazz Night", "id": "E1",
            "dates": {"start": {"localDate": "2019-09-08", "noSpecificTime": true}, "status": {"code": "offsale"}},
            "classifications": [{"primary": true, "segment": {"name": "Music"}, "genre": {"name": "Jazz"}}],
            "_embedded": {"venues": [{"id": "V1", "name": "Club", "timezone": "America/Chicago", "city": {"name": "Chicago "},
                                      "country": {"countryCode": "US"}, "state": {"stateCode": "IL"}}]}
        }, {"name": "No venue", "id": "E2", "dates": {"start": {"localDate": "2019-09-08"}}}]}})
    }

    #[test]
    fn maps_messy_records() {
        let out = map(&sample(), &opts()).unwrap();
        let r = out[0].as_ref().unwrap();
        assert_eq!(r.venue.city, "Chicago", "trailing space trimmed");
        assert_eq!(r.venue.timezone.name(), "America/Chicago", "zone from the venue");
        assert_eq!(r.event.category.as_deref(), Some("live_music"));
        assert!(r.event.time_tba);
        assert!(r.event.starts_at.as_deref().unwrap().contains("T19:00:00"));
        assert_eq!(r.event.tiers.len(), 1, "default tier");
        assert_eq!(r.event.tiers[0].price_minor, super::super::DEFAULT_PRICE_MINOR);
        assert_eq!(r.source_status.as_deref(), Some("offsale"));
        assert!(out[1].is_err(), "a record without venue is a per-record error");
    }

    #[test]
    fn price_ranges_prefer_standard() {
        let e = json!({"priceRanges": [{"type": "standard including fees", "currency": "GBP", "min": 47.45, "max": 178.9},
                                       {"type": "standard", "currency": "GBP", "min": 40.0, "max": 159.5}]});
        let t = tiers(&e, "GB");
        assert_eq!((t[0].price_minor, t[1].price_minor), (4000, 15950));
        assert_eq!(t[0].currency.as_deref(), Some("GBP"));
    }

    #[test]
    fn not_a_discovery_response() {
        assert!(map(&json!({"events": []}), &opts()).is_err());
    }
}
