//! Importers: `POST /api/events/import/ticketmaster` (a Ticketmaster
//! Discovery API v2 events response) and `POST /api/events/import/jsonld`
//! (schema.org `Event` JSON-LD: one object, an array, or `@graph`).
//! Organizers and admins only.
//!
//! Query options: `shift_to_future=true` moves past events forward by whole
//! multiples of 364 days (so the weekday is kept) until they start at least
//! a day from now, keeping the local time of day in the venue's zone and
//! moving the sales window by the same amount; `timezone=<IANA>` is the zone
//! for JSON-LD events whose zone cannot be told from their address;
//! `status=draft` imports drafts instead of published events.
//!
//! Every record is imported on its own: a bad record is reported with its
//! field errors and the rest go on. Re-importing is idempotent: a record is
//! keyed by (organizer, source, external id); an unchanged record is left
//! alone (`unchanged`), a changed one is updated in place (`updated`), keeping
//! its tier ids when tier names match.
//!
//! Imported events are made sellable: a record without prices gets one
//! general-admission tier "General Admission" at [`DEFAULT_PRICE_MINOR`]
//! (50.00 in the currency of the venue's country) with
//! [`DEFAULT_GA_CAPACITY`] places; a sales window that has not opened yet,
//! or has closed, after shifting is dropped (on sale now, until the start).
//!
//! Answer (200):
//! `{"source","total","created","updated","unchanged","failed",
//!   "results":[{"index","external_id","status":"created|updated|unchanged|failed","event_id","errors":[{field,message}]}]}`

pub mod jsonld;
pub mod ticketmaster;

use crate::domain::{self, Errors, Zone};
use crate::read;
use crate::spec::{self, EventInput};
use crate::store;
use crate::venues::VenueSpec;
use crate::write::{self, Origin};
use chrono::NaiveDateTime;
use platform::auth::{Caller, Role};
use platform::event_status::EventStatus;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult, FieldError};
use serde_json::{json, Value as Json};
use sha2::Digest;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;

/// Price of the default tier of a record without prices, minor units.
pub const DEFAULT_PRICE_MINOR: i64 = 5000;
/// Capacity of each imported general-admission tier.
pub const DEFAULT_GA_CAPACITY: i64 = 1000;
/// Local start time used when the source gives none (`time_tba` is set).
pub const TBA_TIME: (u32, u32) = (19, 0);
/// Imported events are shifted until they start at least this far ahead, ms.
const MIN_LEAD_MS: i64 = 24 * 3600 * 1000;
const SHIFT_DAYS: i64 = 364;
/// Largest import body, bytes (Discovery pages are ~0.5 MB).
pub const MAX_IMPORT_BODY: usize = 4 * 1024 * 1024;

/// Import options from the query string.
#[derive(Debug, Clone)]
pub struct Options {
    /// Shift past events forward.
    pub shift_to_future: bool,
    /// Fallback zone for JSON-LD.
    pub timezone: Option<Zone>,
    /// Publish (default) or keep as drafts.
    pub publish: bool,
    /// Now, Unix ms.
    pub now: i64,
}

/// A record mapped from a source, ready to validate.
#[derive(Debug, Clone)]
pub struct Record {
    /// Id in the source.
    pub external_id: String,
    /// The venue and its id in the source.
    pub venue: VenueSpec,
    /// Venue id in the source.
    pub venue_external_id: String,
    /// The event, `venue_id` unset.
    pub event: EventInput,
    /// The source's status text.
    pub source_status: Option<String>,
}

/// Times of a record before shifting: local start/end in the venue's zone,
/// sales window as instants.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// Local start.
    pub start: NaiveDateTime,
    /// Local end.
    pub end: Option<NaiveDateTime>,
    /// Sales open, Unix ms.
    pub sales_start: Option<i64>,
    /// Sales close, Unix ms.
    pub sales_end: Option<i64>,
}

/// Fills `event`'s times from `t` in `zone`, shifting per `opts` (see the
/// module docs) and making the sales window consistent and current.
pub fn apply_times(event: &mut EventInput, t: Times, zone: &Zone, opts: &Options) {
    let mut shift_days = 0i64;
    if opts.shift_to_future {
        while domain::resolve_local_lenient(t.start + chrono::Duration::days(shift_days), zone) < opts.now + MIN_LEAD_MS
        {
            shift_days += SHIFT_DAYS;
        }
    }
    let shift = chrono::Duration::days(shift_days);
    let start = domain::resolve_local_lenient(t.start + shift, zone);
    let end = t.end.map(|e| domain::resolve_local_lenient(e + shift, zone)).filter(|e| *e > start);
    let shift_ms = shift_days * 86_400_000;
    let close = end.unwrap_or(start);
    let mut sales_end = t.sales_end.map(|s| (s + shift_ms).min(close));
    let mut sales_start = t.sales_start.map(|s| s + shift_ms).filter(|s| *s < start);
    if opts.shift_to_future {
        if sales_start.is_some_and(|s| s > opts.now) {
            sales_start = None;
        }
        if sales_end.is_some_and(|s| s <= opts.now) {
            sales_end = None;
        }
    }
    if let (Some(a), Some(b)) = (sales_start, sales_end) {
        if b <= a {
            sales_start = None;
        }
    }
    event.starts_at = Some(domain::local_rfc3339(start, zone));
    event.ends_at = end.map(|e| domain::local_rfc3339(e, zone));
    event.sales_start = sales_start.map(platform::clock::rfc3339);
    event.sales_end = sales_end.map(platform::clock::rfc3339);
}

/// Cuts `s` to at most `max` characters (importers shorten over-long source
/// text rather than drop the record).
pub fn clip(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).take(max).collect()
}

/// The usual currency of a country (for default tiers).
pub fn country_currency(country: &str) -> &'static str {
    match country {
        "GB" => "GBP",
        "CA" => "CAD",
        "AU" => "AUD",
        "NZ" => "NZD",
        "MX" => "MXN",
        "IE" | "DE" | "FR" | "ES" | "IT" | "NL" | "BE" | "AT" | "PT" | "FI" => "EUR",
        _ => "USD",
    }
}

/// The default tier (see module docs).
pub fn default_tier(currency: &str) -> spec::TierInput {
    spec::TierInput {
        name: "General Admission".into(),
        price_minor: DEFAULT_PRICE_MINOR,
        currency: Some(currency.into()),
        kind: "general_admission".into(),
        capacity: Some(DEFAULT_GA_CAPACITY),
        ..Default::default()
    }
}

/// A general-admission tier of the import.
pub fn ga_tier(name: &str, price_minor: i64, currency: &str) -> spec::TierInput {
    spec::TierInput {
        name: name.into(),
        price_minor,
        currency: Some(currency.into()),
        kind: "general_admission".into(),
        capacity: Some(DEFAULT_GA_CAPACITY),
        ..Default::default()
    }
}

/// Outcome of one record.
#[derive(Debug)]
pub struct Outcome {
    index: usize,
    external_id: Option<String>,
    status: &'static str,
    event_id: Option<String>,
    errors: Vec<FieldError>,
}

/// A mapping failure of record `index`.
pub fn failed(index: usize, external_id: Option<String>, errors: Vec<FieldError>) -> Outcome {
    Outcome { index, external_id, status: "failed", event_id: None, errors }
}

fn fingerprint(r: &Record, publish: bool) -> String {
    let text = json!({"event": r.event, "status": r.source_status, "publish": publish}).to_string();
    let digest = sha2::Sha256::digest(text.as_bytes());
    hex::encode(digest)
}

const FIND: &str = "SELECT id FROM events WHERE organizer_id = ? AND source = ? AND external_id = ?";

/// Saves one record in its own transaction.
fn save(conn: &Connection, caller: &Caller, source: &str, index: usize, mut r: Record, opts: &Options) -> Outcome {
    let ext = Some(r.external_id.clone());
    let result = platform::db::transaction(conn, |c| -> ApiResult<(&'static str, String)> {
        let venue_id = crate::venues::upsert_external(c, &r.venue, &caller.user_id, source, &r.venue_external_id)?;
        r.event.venue_id = Some(venue_id);
        let fp = fingerprint(&r, opts.publish);
        let existing = c
            .execute(FIND, &[store::text(&caller.user_id), store::text(source), store::text(&r.external_id)])?
            .rows()
            .next()
            .map(|row| store::s(&row, "id"));
        let origin = Origin {
            source: Some(source.into()),
            external_id: Some(r.external_id.clone()),
            source_status: r.source_status.clone(),
            fingerprint: Some(fp.clone()),
        };
        match existing.and_then(|id| read::event(c, &id).transpose()) {
            None => {
                let spec = spec::validate(c, &r.event)?;
                let status = if opts.publish { EventStatus::Published } else { EventStatus::Draft };
                Ok(("created", write::insert(c, &spec, &caller.user_id, status, &origin)?))
            }
            Some(current) => {
                let current = current?;
                if current.fingerprint.as_deref() == Some(fp.as_str()) {
                    return Ok(("unchanged", current.id));
                }
                if current.status == EventStatus::Cancelled {
                    return Err(ApiError::conflict(
                        "event-cancelled",
                        "this event was cancelled here; it is not re-imported",
                    ));
                }
                let old = read::tiers(c, &current.id)?;
                for t in &mut r.event.tiers {
                    t.id = old.iter().find(|o| o.name == t.name).map(|o| o.id.clone());
                }
                let spec = spec::validate(c, &r.event)?;
                if current.status == EventStatus::Published {
                    // an import never reprices a published tier (no chained
                    // read inside this transaction)
                    crate::events::check_keeps_sales(&current, &old, &spec, &std::collections::HashSet::new())?;
                }
                write::update(c, &current.id, current.version, &spec, &origin)?;
                Ok(("updated", current.id))
            }
        }
    });
    match result {
        Ok((status, id)) => Outcome { index, external_id: ext, status, event_id: Some(id), errors: vec![] },
        Err(e) => match e.field_errors() {
            Ok(errors) => failed(index, ext, errors),
            Err(e) => failed(
                index,
                ext,
                vec![FieldError::new("", e.problem().detail.unwrap_or_else(|| "internal error".into()))],
            ),
        },
    }
}

fn options(req: &Request) -> ApiResult<Options> {
    let q = Query::of(req);
    let mut e = Errors::default();
    let flag = |e: &mut Errors, name: &str| match q.get(name) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            e.add(name, "must be true or false");
            false
        }
    };
    let shift_to_future = flag(&mut e, "shift_to_future");
    let timezone = q.get("timezone").and_then(|z| e.take("timezone", domain::zone(z)));
    let publish = match q.get("status") {
        None | Some("published") => true,
        Some("draft") => false,
        Some(_) => {
            e.add("status", "must be published or draft");
            true
        }
    };
    e.finish(|| Options { shift_to_future, timezone, publish, now: platform::clock::now_ms() })
}

/// The import document: at most [`MAX_IMPORT_BODY`] bytes (413), sent as
/// JSON (`application/json`, or `application/ld+json` for JSON-LD; 415
/// otherwise, see [`platform::web::require_json_content_type`]).
fn body(req: &Request) -> ApiResult<Json> {
    if req.body().len() > MAX_IMPORT_BODY {
        return Err(ApiError::PayloadTooLarge(format!("an import body is at most {MAX_IMPORT_BODY} bytes")));
    }
    platform::web::read_json_within(req, MAX_IMPORT_BODY)
}

/// Runs one import: maps the body with `map`, saves each record, reports.
fn run(
    req: Request,
    source: &str,
    map: impl Fn(&Json, &Options) -> ApiResult<Vec<Result<Record, Outcome>>>,
) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    caller.require_role(&[Role::Organizer])?;
    let conn = store::open()?;
    // Records are idempotent by source id already; a key replays the first
    // report instead of answering "unchanged" for everything.
    platform::idempotency::once(&conn, &req, &caller.user_id, || report(&req, &conn, &caller, source, &map))
}

fn report(
    req: &Request,
    conn: &Connection,
    caller: &Caller,
    source: &str,
    map: &impl Fn(&Json, &Options) -> ApiResult<Vec<Result<Record, Outcome>>>,
) -> ApiResult {
    let opts = options(req)?;
    let doc = body(req)?;
    let records = map(&doc, &opts)?;
    let outcomes: Vec<Outcome> = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(rec) => save(conn, caller, source, i, rec, &opts),
            Err(o) => o,
        })
        .collect();
    let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
    let results: Vec<Json> = outcomes
        .iter()
        .map(|o| json!({"index": o.index, "external_id": o.external_id, "status": o.status, "event_id": o.event_id, "errors": o.errors}))
        .collect();
    ok(&json!({
        "source": source,
        "total": outcomes.len(),
        "created": count("created"),
        "updated": count("updated"),
        "unchanged": count("unchanged"),
        "failed": count("failed"),
        "results": results,
    }))
}

/// `POST /api/events/import/ticketmaster`.
pub fn import_ticketmaster(req: Request, _: Params) -> ApiResult {
    run(req, ticketmaster::SOURCE, ticketmaster::map)
}

/// `POST /api/events/import/jsonld`.
pub fn import_jsonld(req: Request, _: Params) -> ApiResult {
    run(req, jsonld::SOURCE, jsonld::map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn shifting_keeps_local_time_and_weekday() {
        let tz = domain::zone("America/Chicago").unwrap();
        let now = platform::clock::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
        let opts = Options { shift_to_future: true, timezone: None, publish: true, now };
        let mut e = EventInput::default();
        let sales = platform::clock::parse_rfc3339("2019-07-17T17:00:00Z").unwrap();
        apply_times(
            &mut e,
            Times {
                start: naive("2019-09-08T17:30:00"),
                end: None,
                sales_start: Some(sales),
                sales_end: Some(sales + 86_400_000 * 60),
            },
            &tz,
            &opts,
        );
        let start = e.starts_at.clone().unwrap();
        assert!(start.ends_with("T17:30:00-05:00"), "{start}");
        let shifted = chrono::DateTime::parse_from_rfc3339(&start).unwrap();
        assert_eq!(chrono::Datelike::weekday(&shifted), chrono::Weekday::Sun, "2019-09-08 was a Sunday");
        assert!(shifted.timestamp_millis() > now);
        assert_eq!(e.sales_start, None, "a window that has not opened yet after the shift is dropped: on sale now");
        assert_eq!(
            e.sales_end,
            e.starts_at.map(|s| platform::clock::rfc3339(
                chrono::DateTime::parse_from_rfc3339(&s).unwrap().timestamp_millis()
            )),
            "sales close at the start"
        );
    }

    #[test]
    fn clip_drops_controls_and_counts_characters() {
        assert_eq!(clip("a\u{0}b\ncé", 4), "ab\nc");
    }
}
