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

use crate::domain::{self, text, Category, Currency, Errors};
use crate::read;
use crate::store::{self, int, opt_int, opt_text};
use crate::venues::{self, Venue};
use platform::auth::{Caller, Role};
use platform::event_status::EventStatus;
use platform::web::{no_content, ok, read_json};
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Connection;
use std::collections::{HashMap, HashSet};

/// Default `order_limit` (tickets per order).
pub const DEFAULT_ORDER_LIMIT: i64 = 8;
/// Largest `order_limit`.
pub const MAX_ORDER_LIMIT: i64 = 50;
/// Most tiers per event.
pub const MAX_TIERS: usize = 50;

/// Body of `POST /api/events` (and, as a merge patch, `PATCH /api/events/{id}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// 1–200 characters.
    pub title: Option<String>,
    /// ≤ 10,000 characters, line breaks allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// One of [`Category`].
    pub category: Option<String>,
    /// Up to 50 names.
    #[serde(default)]
    pub performers: Vec<String>,
    /// http(s) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// `ven_…`
    pub venue_id: Option<String>,
    /// Local time in the venue's zone, or RFC 3339 with offset.
    pub starts_at: Option<String>,
    /// Same format; after `starts_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// The source had no start time (importers); shown as "time to be announced".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub time_tba: bool,
    /// Sales open (default: when published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_start: Option<String>,
    /// Sales close (default: the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_end: Option<String>,
    /// Tickets per order, 1..=50 (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_limit: Option<i64>,
    /// ISO 4217; defaults to the first tier's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Price tiers.
    #[serde(default)]
    pub tiers: Vec<TierInput>,
}

/// One price tier of an [`EventInput`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierInput {
    /// Existing tier id when editing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1–100 characters.
    pub name: String,
    /// Integer minor units, 0..=1e9.
    pub price_minor: i64,
    /// ISO 4217; must equal the event's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `seated` or `general_admission`.
    pub kind: String,
    /// GA: people admitted, 1..=1,000,000. Seated: computed (must match if given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i64>,
    /// Seated: whole sections (codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
    /// Seated: single seat ids (`S1-A-12`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<String>,
}

pub use platform::tier::TierKind;

/// A validated tier.
#[derive(Debug, Clone)]
pub struct TierSpec {
    /// Existing id, if editing.
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// Kind.
    pub kind: TierKind,
    /// Seats (seated) or admissions (GA).
    pub capacity: i64,
    /// Whole sections.
    pub sections: Vec<String>,
    /// Single seats.
    pub seats: Vec<String>,
}

/// A validated event.
#[derive(Debug, Clone)]
pub struct EventSpec {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: Category,
    /// Performers.
    pub performers: Vec<String>,
    /// Image.
    pub image_url: Option<String>,
    /// Venue (with seat map loaded).
    pub venue: Venue,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: Option<i64>,
    /// No start time known.
    pub time_tba: bool,
    /// Sales open.
    pub sales_start: Option<i64>,
    /// Sales close.
    pub sales_end: Option<i64>,
    /// Tickets per order.
    pub order_limit: i64,
    /// Currency of every tier.
    pub currency: Currency,
    /// Tiers.
    pub tiers: Vec<TierSpec>,
}

impl EventSpec {
    /// Lowest tier price.
    pub fn price_from(&self) -> Option<i64> {
        self.tiers.iter().map(|t| t.price_minor).min()
    }
}

/// Validates `input`, loading its venue from `conn`; 422 naming every bad field.
pub fn validate(conn: &Connection, input: &EventInput) -> ApiResult<EventSpec> {
    let mut e = Errors::default();
    let required = |e: &mut Errors, field: &str, v: &Option<String>| -> Option<String> {
        if v.is_none() {
            e.add(field, "is required");
        }
        v.clone()
    };
    let title = required(&mut e, "title", &input.title).and_then(|t| e.take("title", text(&t, 200, false, true)));
    let description = e.take("description", text(input.description.as_deref().unwrap_or(""), 10_000, true, false));
    let category = required(&mut e, "category", &input.category).and_then(|c| e.take("category", Category::parse(&c)));
    if input.performers.len() > 50 {
        e.add("performers", "at most 50 performers");
    }
    for (k, p) in input.performers.iter().enumerate() {
        e.take(&format!("performers/{k}"), text(p, 200, false, true));
    }
    let image_url = input.image_url.as_ref().and_then(|u| e.take("image_url", domain::url(u)));
    let venue = match required(&mut e, "venue_id", &input.venue_id) {
        Some(id) => {
            let v = venues::load(conn, &id, true)?;
            if v.is_none() {
                e.add("venue_id", format!("venue {id} does not exist"));
            }
            v
        }
        None => None,
    };
    let order_limit = input.order_limit.unwrap_or(DEFAULT_ORDER_LIMIT);
    if !(1..=MAX_ORDER_LIMIT).contains(&order_limit) {
        e.add("order_limit", format!("must be between 1 and {MAX_ORDER_LIMIT}"));
    }
    let currency_code = input.currency.clone().or_else(|| input.tiers.iter().find_map(|t| t.currency.clone()));
    let currency = match &currency_code {
        Some(c) => e.take(if input.currency.is_some() { "currency" } else { "tiers/0/currency" }, Currency::parse(c)),
        None => {
            e.add("currency", "is required (or give it on a tier)");
            None
        }
    };
    let starts_at_text = required(&mut e, "starts_at", &input.starts_at);
    let (mut starts_at, mut ends_at, mut sales_start, mut sales_end) = (None, None, None, None);
    if let Some(v) = &venue {
        let tz = &v.timezone;
        starts_at = starts_at_text.and_then(|t| e.take("starts_at", domain::event_time(&t, tz)));
        ends_at = input.ends_at.as_ref().and_then(|t| e.take("ends_at", domain::event_time(t, tz)));
        sales_start = input.sales_start.as_ref().and_then(|t| e.take("sales_start", domain::event_time(t, tz)));
        sales_end = input.sales_end.as_ref().and_then(|t| e.take("sales_end", domain::event_time(t, tz)));
    }
    if let Some(start) = starts_at {
        if ends_at.is_some_and(|end| end <= start) {
            e.add("ends_at", "must be after starts_at");
        }
        let close = ends_at.filter(|end| *end > start).unwrap_or(start);
        if sales_end.is_some_and(|s| s > close) {
            e.add("sales_end", "sales must close no later than the event ends");
        }
        if sales_start.is_some_and(|s| s >= start) {
            e.add("sales_start", "sales must open before the event starts");
        }
        if let (Some(a), Some(b)) = (sales_start, sales_end) {
            if b <= a {
                e.add("sales_end", "must be after sales_start");
            }
        }
    }
    let tiers = validate_tiers(&input.tiers, venue.as_ref(), currency, &mut e);
    let (Some(title), Some(category), Some(venue), Some(starts_at), Some(currency)) =
        (title, category, venue, starts_at, currency)
    else {
        return Err(e.into_error());
    };
    e.finish(|| EventSpec {
        title,
        description: description.unwrap_or_default(),
        category,
        performers: input.performers.clone(),
        image_url,
        venue,
        starts_at,
        ends_at,
        time_tba: input.time_tba,
        sales_start,
        sales_end,
        order_limit,
        currency,
        tiers,
    })
}

/// Validates the tiers against the venue.
///
/// Sizes first (OWASP ASVS 4.0 §11.1.4): more than [`MAX_TIERS`] tiers is
/// one error and nothing else is looked at. A section is expanded into its
/// seats at most once across all tiers (listed twice, or already another
/// tier's: one error for the section), and the venue's seat ids are
/// collected once, so the work is bounded by the venue's size plus the
/// request's own length, never their product.
fn validate_tiers(
    input: &[TierInput],
    venue: Option<&Venue>,
    currency: Option<Currency>,
    e: &mut Errors,
) -> Vec<TierSpec> {
    if input.len() > MAX_TIERS {
        e.add("tiers", format!("has {} tiers; at most {MAX_TIERS} are allowed", input.len()));
        return Vec::new();
    }
    let map = venue.and_then(|v| v.seat_map.as_ref());
    let by_code: HashMap<&str, &crate::seatmap::Section> =
        map.map(|m| m.sections.iter().map(|s| (s.code.as_str(), s)).collect()).unwrap_or_default();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut section_owner: HashMap<&str, usize> = HashMap::new();
    let mut known: Option<HashSet<String>> = None;
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (k, t) in input.iter().enumerate() {
        let p = format!("tiers/{k}");
        let name = e.take(&format!("{p}/name"), text(&t.name, 100, false, true));
        if name.as_ref().is_some_and(|n| !names.insert(n.clone())) {
            e.add(format!("{p}/name"), "two tiers have this name");
        }
        let price = e.take(&format!("{p}/price_minor"), domain::price_minor(t.price_minor));
        if let (Some(code), Some(cur)) = (&t.currency, currency) {
            match Currency::parse(code) {
                Err(m) => e.add(format!("{p}/currency"), m),
                Ok(c) if c != cur => {
                    e.add(format!("{p}/currency"), format!("every tier must be priced in {}", cur.code()))
                }
                Ok(_) => {}
            }
        }
        let Some(kind) = e.take(&format!("{p}/kind"), TierKind::parse(&t.kind)) else { continue };
        let capacity = match kind {
            TierKind::GeneralAdmission => {
                if !t.sections.is_empty() || !t.seats.is_empty() {
                    e.add(format!("{p}/sections"), "a general-admission tier has no seats");
                }
                match t.capacity {
                    Some(c) if (1..=1_000_000).contains(&c) => c,
                    Some(_) => {
                        e.add(format!("{p}/capacity"), "must be between 1 and 1000000");
                        0
                    }
                    None => {
                        e.add(format!("{p}/capacity"), "is required for a general-admission tier");
                        0
                    }
                }
            }
            TierKind::Seated => {
                let Some(map) = map else {
                    e.add(format!("{p}/kind"), "the venue has no seat map; use general_admission");
                    continue;
                };
                let mut count = 0i64;
                let mut claim = |seat: String, field: String, e: &mut Errors| match owner.insert(seat.clone(), k) {
                    Some(other) if other != k => e.add(field, format!("seat {seat} is already in tier {other}")),
                    Some(_) => e.add(field, format!("seat {seat} is listed twice")),
                    None => count += 1,
                };
                for (j, code) in t.sections.iter().enumerate() {
                    let field = format!("{p}/sections/{j}");
                    match (by_code.get(code.as_str()), section_owner.get(code.as_str())) {
                        (None, _) => e.add(field, format!("section {code} is not in the venue's seat map")),
                        (Some(_), Some(&other)) if other == k => {
                            e.add(field, format!("section {code} is listed twice"))
                        }
                        (Some(_), Some(&other)) => e.add(field, format!("section {code} is already in tier {other}")),
                        (Some(section), None) => {
                            section_owner.insert(code.as_str(), k);
                            for row in &section.rows {
                                for s in &row.seats {
                                    claim(crate::seatmap::seat_id(code, &row.label, &s.number), field.clone(), e);
                                }
                            }
                        }
                    }
                }
                if !t.seats.is_empty() && known.is_none() {
                    known = Some(map.seats().map(|s| s.id()).collect());
                }
                for (j, seat) in t.seats.iter().enumerate() {
                    if known.as_ref().is_some_and(|k| !k.contains(seat)) {
                        e.add(format!("{p}/seats/{j}"), format!("seat {seat} is not in the venue's seat map"));
                    } else {
                        claim(seat.clone(), format!("{p}/seats/{j}"), e);
                    }
                }
                if count == 0 && t.sections.is_empty() && t.seats.is_empty() {
                    e.add(format!("{p}/sections"), "a seated tier needs sections or seats");
                }
                if t.capacity.is_some_and(|c| c != count) {
                    e.add(format!("{p}/capacity"), format!("a seated tier's capacity is its seat count ({count})"));
                }
                count
            }
        };
        out.push(TierSpec {
            id: t.id.clone(),
            name: name.unwrap_or_default(),
            price_minor: price.unwrap_or_default(),
            kind,
            capacity,
            sections: t.sections.clone(),
            seats: t.seats.clone(),
        });
    }
    out
}

const INSERT_EVENT: &str = "INSERT INTO events (id, organizer_id, venue_id, title, description, category, performers, image_url, starts_at, ends_at, timezone, time_tba, sales_start, sales_end, order_limit, currency, price_from, status, published_at, source, external_id, source_status, fingerprint, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
const UPDATE_EVENT: &str = "UPDATE events SET venue_id = ?, title = ?, description = ?, category = ?, performers = ?, image_url = ?, starts_at = ?, ends_at = ?, timezone = ?, time_tba = ?, sales_start = ?, sales_end = ?, order_limit = ?, currency = ?, price_from = ?, source_status = ?, fingerprint = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING version, status";
const DELETE_TIERS: &str = "DELETE FROM tiers WHERE event_id = ?";
const INSERT_TIER: &str = "INSERT INTO tiers (id, event_id, position, name, price_minor, currency, kind, capacity, sections, seats) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const DELETE_FTS: &str = "DELETE FROM events_fts WHERE rowid = (SELECT rowid FROM events WHERE id = ?)";
const INSERT_FTS: &str = "INSERT INTO events_fts (rowid, title, performers, venue, city, description) SELECT rowid, ?, ?, ?, ?, ? FROM events WHERE id = ?";
const PUBLISH: &str = "UPDATE events SET status = 'published', published_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'draft' RETURNING version";
const CANCEL: &str = "UPDATE events SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = 'published' RETURNING title, version";
const DELETE_DRAFT: &str = "DELETE FROM events WHERE id = ? AND status = 'draft' RETURNING version";

/// Where an event came from, for importers.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Importer name (`ticketmaster`, `jsonld`).
    pub source: Option<String>,
    /// Id in the source.
    pub external_id: Option<String>,
    /// The source's status text.
    pub source_status: Option<String>,
    /// Digest of the imported record.
    pub fingerprint: Option<String>,
}

/// The values of the columns `venue_id` … `price_from`, in the order both
/// INSERT_EVENT and UPDATE_EVENT list them.
fn spec_values(spec: &EventSpec) -> Vec<spin_sdk::sqlite3::Value> {
    vec![
        store::text(&spec.venue.id),
        store::text(&spec.title),
        store::text(&spec.description),
        store::text(spec.category.as_str()),
        store::text(&serde_json::to_string(&spec.performers).unwrap_or_default()),
        opt_text(spec.image_url.as_deref()),
        int(spec.starts_at),
        opt_int(spec.ends_at),
        store::text(spec.venue.timezone.name()),
        int(i64::from(spec.time_tba)),
        opt_int(spec.sales_start),
        opt_int(spec.sales_end),
        int(spec.order_limit),
        store::text(spec.currency.code()),
        opt_int(spec.price_from()),
    ]
}

/// Inserts a new event (in `status`) with its tiers and search row; returns its id.
/// Call inside a transaction.
pub fn insert(
    conn: &Connection,
    spec: &EventSpec,
    organizer: &str,
    status: EventStatus,
    origin: &Origin,
) -> ApiResult<String> {
    let id = platform::ids::new("evt");
    let now = platform::clock::now_ms();
    let mut args = vec![store::text(&id), store::text(organizer)];
    args.extend(spec_values(spec));
    args.extend([
        store::text(status.as_str()),
        opt_int((status == EventStatus::Published).then_some(now)),
        opt_text(origin.source.as_deref()),
        opt_text(origin.external_id.as_deref()),
        opt_text(origin.source_status.as_deref()),
        opt_text(origin.fingerprint.as_deref()),
        int(now),
        int(now),
    ]);
    conn.execute(INSERT_EVENT, &args)?;
    write_tiers(conn, &id, spec)?;
    write_fts(conn, &id, spec)?;
    if status != EventStatus::Draft {
        crate::outbox::changed(conn, &id, 1, status)?;
    }
    Ok(id)
}

/// Replaces event `id`'s editable fields, tiers and search row, if its
/// version is still `version`; 409 when someone else changed it meanwhile.
/// Emits `EventChanged` (not for drafts) and, when a published event's
/// start or end moved, `EventRescheduled` ([`crate::outbox::rescheduled`]),
/// so its buyers hear of it — whether an organizer or an import moved it.
/// Call inside a transaction.
pub fn update(conn: &Connection, id: &str, version: i64, spec: &EventSpec, origin: &Origin) -> ApiResult<()> {
    let before = conn.execute("SELECT starts_at, ends_at FROM events WHERE id = ?", &[store::text(id)])?;
    let before = before.rows().next().map(|r| (store::i(&r, "starts_at"), r.get::<i64>("ends_at")));
    let mut args = spec_values(spec);
    args.extend([
        opt_text(origin.source_status.as_deref()),
        opt_text(origin.fingerprint.as_deref()),
        int(platform::clock::now_ms()),
        store::text(id),
        int(version),
    ]);
    let rs = conn.execute(UPDATE_EVENT, &args)?;
    let Some((new_version, status)) = rs
        .rows()
        .next()
        .map(|r| (store::i(&r, "version"), EventStatus::parse(&store::s(&r, "status")).unwrap_or(EventStatus::Draft)))
    else {
        return Err(ApiError::conflict("edit-conflict", "the event changed meanwhile; reload and try again"));
    };
    conn.execute(DELETE_TIERS, &[store::text(id)])?;
    write_tiers(conn, id, spec)?;
    conn.execute(DELETE_FTS, &[store::text(id)])?;
    write_fts(conn, id, spec)?;
    if status != EventStatus::Draft {
        crate::outbox::changed(conn, id, new_version, status)?;
    }
    match before {
        Some((starts, ends))
            if status == EventStatus::Published && (starts != spec.starts_at || ends != spec.ends_at) =>
        {
            let at = |ms: Option<i64>| ms.map(platform::clock::rfc3339);
            crate::outbox::rescheduled(
                conn,
                &saga::contract::EventRescheduled {
                    event_id: id.to_string(),
                    version: new_version,
                    title: spec.title.clone(),
                    starts_at: platform::clock::rfc3339(spec.starts_at),
                    ends_at: at(spec.ends_at),
                    previous_starts_at: Some(platform::clock::rfc3339(starts)),
                    previous_ends_at: at(ends),
                    timezone: spec.venue.timezone.name().to_string(),
                    sales_close_at: platform::clock::rfc3339(spec.sales_end.unwrap_or(spec.starts_at)),
                },
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn write_tiers(conn: &Connection, event_id: &str, spec: &EventSpec) -> ApiResult<()> {
    for (k, t) in spec.tiers.iter().enumerate() {
        let id = t.id.clone().unwrap_or_else(|| platform::ids::new("tier"));
        conn.execute(
            INSERT_TIER,
            &[
                store::text(&id),
                store::text(event_id),
                int(k as i64),
                store::text(&t.name),
                int(t.price_minor),
                store::text(spec.currency.code()),
                store::text(t.kind.as_str()),
                int(t.capacity),
                store::text(&serde_json::to_string(&t.sections).unwrap_or_default()),
                store::text(&serde_json::to_string(&t.seats).unwrap_or_default()),
            ],
        )?;
    }
    Ok(())
}

fn write_fts(conn: &Connection, id: &str, spec: &EventSpec) -> ApiResult<()> {
    conn.execute(
        INSERT_FTS,
        &[
            store::text(&spec.title),
            store::text(&spec.performers.join(" ")),
            store::text(&spec.venue.name),
            store::text(&spec.venue.city),
            store::text(&spec.description),
            store::text(id),
        ],
    )?;
    Ok(())
}

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
    let deleted = platform::db::transaction(&conn, |c| -> ApiResult<bool> {
        c.execute(DELETE_FTS, &[store::text(&id)])?;
        c.execute(DELETE_TIERS, &[store::text(&id)])?;
        let rs = c.execute(DELETE_DRAFT, &[store::text(&id)])?;
        if rs.rows.is_empty() {
            return Err(ApiError::conflict("event-not-draft", "only drafts can be deleted; cancel a published event"));
        }
        Ok(true)
    })?;
    debug_assert!(deleted);
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

    #[test]
    fn tier_kinds() {
        assert_eq!(TierKind::parse("seated"), Ok(TierKind::Seated));
        assert!(TierKind::parse("standing").is_err());
    }
}
