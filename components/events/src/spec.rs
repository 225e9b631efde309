//! What an organizer or an importer sends to create or edit an event, and
//! its validation into an [`EventSpec`] (the rules are in the module docs
//! of [`crate::events`]: times in the venue's zone, the sales window,
//! tiers over the venue's seat map).

use crate::domain::{self, text, Category, Currency, Errors};
use crate::venues::{self, Venue};
use platform::ApiResult;
use serde::{Deserialize, Serialize};
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
