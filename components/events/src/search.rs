//! `GET /api/events` — search.
//!
//! Parameters: `q` (full text over title, performers, venue, city,
//! description; ≤ 200 characters; words are matched as prefixes, any
//! punctuation is ignored, so SQL or FTS syntax in `q` is just text),
//! `category`, `city` (case-insensitive, surrounding spaces ignored),
//! `from` / `to` (RFC 3339 or `YYYY-MM-DD`, on the start time; `to` as a date
//! includes that day), `price_min` / `price_max` (minor units: the event has
//! a tier priced within), `sort` = `date` (default without `q`) |
//! `relevance` (default with `q`) | `price` (lowest tier first, events
//! without tiers last), `cursor`, `limit` (1..=100, default 20),
//! `past=true` to include events that already started.
//!
//! Only published events are listed. Pages are keyset-paginated on the sort
//! key plus the event id, so inserts between pages never make a page skip or
//! repeat an event. Relevance is a fixed per-field weight (title 8,
//! performers 4, venue or city 2, description 1 per matching word) rather
//! than bm25, whose corpus statistics move when events are inserted and
//! would reorder pages under a reader.
//!
//! Answer: `{"items":[{id,title,category,starts_at,timezone,venue:{name,city},
//! price_from:{amount_minor,currency}|null,image_url,status}],"next_cursor":…|null}`.

use crate::domain::{self, Category};
use crate::store::{self, int};
use base64::Engine;
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use spin_sdk::http::{Params, Request};
use spin_sdk::sqlite3::Value;

/// Largest page.
pub const MAX_LIMIT: u32 = 100;
/// Default page.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most words of `q` used.
const MAX_TERMS: usize = 8;
const NO_PRICE: i64 = i64::MAX;

/// Sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Start time, then id.
    Date,
    /// Score (desc), start time, id.
    Relevance,
    /// Lowest price, then start time, id.
    Price,
}

/// Position after the last item of a page. Encoded as base64url JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort it belongs to.
    pub s: Sort,
    /// Score (relevance) or price (price) of the last item.
    #[serde(default)]
    pub k: i64,
    /// Start time of the last item.
    pub t: i64,
    /// Id of the last item.
    pub i: String,
}

impl Cursor {
    /// Opaque text form.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses [`Cursor::encode`] output.
    pub fn decode(text: &str) -> Result<Cursor, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| "is not a valid cursor".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "is not a valid cursor".to_string())
    }
}

/// The words of a query: runs of letters and digits, lower-cased, at most
/// [`MAX_TERMS`].
pub fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(MAX_TERMS).map(str::to_lowercase).collect()
}

/// An FTS5 query matching every term as a prefix: `"rock"* "roll"*`. Terms
/// hold only letters and digits, so nothing in them is FTS syntax.
pub fn fts_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" ")
}

/// Parsed search parameters.
#[derive(Debug)]
pub struct SearchParams {
    terms: Vec<String>,
    has_q: bool,
    category: Option<Category>,
    city: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    price_min: Option<i64>,
    price_max: Option<i64>,
    sort: Sort,
    cursor: Option<Cursor>,
    limit: u32,
    past: bool,
}

fn parse(q: &Query) -> ApiResult<SearchParams> {
    let mut errors = Vec::new();
    let mut field = |f: &str, m: String| errors.push(FieldError::new(f, m));
    let raw_q = q.get("q").unwrap_or("");
    if raw_q.chars().count() > 200 {
        field("q", "must be at most 200 characters".into());
    }
    let category = match q.get("category") {
        Some(c) => Category::parse(c).map_err(|m| field("category", m)).ok(),
        None => None,
    };
    let city = q.get("city").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if city.as_ref().is_some_and(|c| c.chars().count() > 100) {
        field("city", "must be at most 100 characters".into());
    }
    let from = q.get("from").and_then(|v| domain::search_bound(v, false).map_err(|m| field("from", m)).ok());
    let to = q.get("to").and_then(|v| {
        let date_only = v.len() == 10;
        domain::search_bound(v, date_only).map_err(|m| field("to", m)).ok()
    });
    let price = |name: &str, field: &mut dyn FnMut(&str, String)| -> Option<i64> {
        let v = q.get(name)?;
        match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                field(name, "must be a non-negative integer amount in minor units".into());
                None
            }
        }
    };
    let price_min = price("price_min", &mut field);
    let price_max = price("price_max", &mut field);
    if let (Some(a), Some(b)) = (price_min, price_max) {
        if b < a {
            field("price_max", "must not be below price_min".into());
        }
    }
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            field("to", "must not be before from".into());
        }
    }
    let terms = terms(raw_q);
    let has_q = !raw_q.trim().is_empty();
    let sort = match q.get("sort") {
        None if has_q => Sort::Relevance,
        None => Sort::Date,
        Some("date") => Sort::Date,
        Some("relevance") => Sort::Relevance,
        Some("price") => Sort::Price,
        Some(_) => {
            field("sort", "must be date, relevance or price".into());
            Sort::Date
        }
    };
    let cursor = match q.get("cursor") {
        None => None,
        Some(c) => match Cursor::decode(c) {
            Ok(c) if c.s == sort => Some(c),
            Ok(_) => {
                field("cursor", "belongs to a different sort order".into());
                None
            }
            Err(m) => {
                field("cursor", m);
                None
            }
        },
    };
    let limit = match q.limit(DEFAULT_LIMIT, MAX_LIMIT) {
        Ok(l) => l,
        Err(_) => {
            field("limit", format!("must be an integer between 1 and {MAX_LIMIT}"));
            DEFAULT_LIMIT
        }
    };
    let past = q.get("past") == Some("true");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(SearchParams { terms, has_q, category, city, from, to, price_min, price_max, sort, cursor, limit, past })
}

/// Builds the SQL and parameters of one page (limit + 1 rows, to know
/// whether there is a next page).
pub fn build(p: &SearchParams, now: i64) -> (String, Vec<Value>) {
    let mut args: Vec<Value> = Vec::new();
    let score = if p.sort == Sort::Relevance && !p.terms.is_empty() {
        let parts: Vec<String> = p
            .terms
            .iter()
            .map(|t| {
                args.push(store::text(t));
                let n = args.len();
                format!(
                    "(8 * (instr(lower(e.title), ?{n}) > 0) + 4 * (instr(lower(e.performers), ?{n}) > 0) + 2 * (instr(lower(v.name || ' ' || v.city), ?{n}) > 0) + (instr(lower(e.description), ?{n}) > 0))"
                )
            })
            .collect();
        parts.join(" + ")
    } else {
        "0".to_string()
    };
    let mut sql = format!(
        "SELECT * FROM (SELECT e.id, e.title, e.category, e.starts_at, e.timezone, e.price_from, e.currency, e.image_url, e.status, \
         v.name AS venue_name, v.city AS venue_city, COALESCE(e.price_from, {NO_PRICE}) AS price_key, {score} AS score \
         FROM events e JOIN venues v ON v.id = e.venue_id WHERE e.status = 'published'"
    );
    let mut push = |sql: &mut String, clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&clause.replace("?#", &format!("?{}", args.len())));
    };
    if !p.past {
        push(&mut sql, " AND e.starts_at >= ?#", int(now));
    }
    if p.has_q {
        // a query with no words matches nothing (rather than everything)
        let fts = if p.terms.is_empty() { "\"\"".to_string() } else { fts_query(&p.terms) };
        push(&mut sql, " AND e.rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?#)", store::text(&fts));
    }
    if let Some(c) = p.category {
        push(&mut sql, " AND e.category = ?#", store::text(c.as_str()));
    }
    if let Some(c) = &p.city {
        push(&mut sql, " AND lower(trim(v.city)) = lower(?#)", store::text(c));
    }
    if let Some(f) = p.from {
        push(&mut sql, " AND e.starts_at >= ?#", int(f));
    }
    if let Some(t) = p.to {
        push(&mut sql, " AND e.starts_at < ?#", int(t));
    }
    if p.price_min.is_some() || p.price_max.is_some() {
        push(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM tiers t WHERE t.event_id = e.id AND t.price_minor >= ?#",
            int(p.price_min.unwrap_or(0)),
        );
        push(&mut sql, " AND t.price_minor <= ?#)", int(p.price_max.unwrap_or(i64::MAX)));
    }
    sql.push(')');
    if let Some(c) = &p.cursor {
        args.push(int(c.k));
        let k = args.len();
        args.push(int(c.t));
        let t = args.len();
        args.push(store::text(&c.i));
        let i = args.len();
        sql.push_str(&match p.sort {
            Sort::Date => format!(" WHERE (starts_at, id) > (?{t}, ?{i})"),
            Sort::Price => format!(" WHERE (price_key, starts_at, id) > (?{k}, ?{t}, ?{i})"),
            Sort::Relevance => format!(" WHERE score < ?{k} OR (score = ?{k} AND (starts_at, id) > (?{t}, ?{i}))"),
        });
    }
    sql.push_str(match p.sort {
        Sort::Date => " ORDER BY starts_at, id",
        Sort::Price => " ORDER BY price_key, starts_at, id",
        Sort::Relevance => " ORDER BY score DESC, starts_at, id",
    });
    args.push(int(i64::from(p.limit) + 1));
    sql.push_str(&format!(" LIMIT ?{}", args.len()));
    (sql, args)
}

/// `GET /api/events`.
pub fn search(req: Request, _: Params) -> ApiResult {
    let p = parse(&Query::of(&req))?;
    let (sql, args) = build(&p, platform::clock::now_ms());
    let conn = store::open()?;
    let rs = conn.execute(&sql, &args)?;
    let mut items = Vec::new();
    let mut last: Option<Cursor> = None;
    for r in rs.rows().take(p.limit as usize) {
        let currency = store::s(&r, "currency");
        items.push(json!({
            "id": store::s(&r, "id"),
            "title": store::s(&r, "title"),
            "category": store::s(&r, "category"),
            "starts_at": platform::clock::rfc3339(store::i(&r, "starts_at")),
            "timezone": store::s(&r, "timezone"),
            "venue": {"name": store::s(&r, "venue_name"), "city": store::s(&r, "venue_city")},
            "price_from": crate::read::price_from_json(store::oi(&r, "price_from"), &currency),
            "image_url": store::os(&r, "image_url"),
            "status": store::s(&r, "status"),
        }));
        last = Some(Cursor {
            s: p.sort,
            k: match p.sort {
                Sort::Date => 0,
                Sort::Price => store::i(&r, "price_key"),
                Sort::Relevance => store::i(&r, "score"),
            },
            t: store::i(&r, "starts_at"),
            i: store::s(&r, "id"),
        });
    }
    let next = if rs.rows.len() > p.limit as usize { last.map(|c| c.encode()) } else { None };
    ok(&json!({"items": items, "next_cursor": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_strip_syntax() {
        assert_eq!(
            terms("P!NK \"summer\" OR 1=1; DROP TABLE events--"),
            vec!["p", "nk", "summer", "or", "1", "1", "drop", "table"]
        );
        assert_eq!(fts_query(&terms("rock'n roll")), "\"rock\"* \"n\"* \"roll\"*");
        assert!(terms("'; --").is_empty());
        assert_eq!(terms("Beyoncé"), vec!["beyoncé"]);
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = Cursor { s: Sort::Price, k: 4500, t: 1_700_000_000_000, i: "evt_x".into() };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "!!!", "e30", "not-a-cursor"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameters_are_validated() {
        for bad in [
            "limit=0",
            "limit=-1",
            "limit=1000000",
            "limit=abc",
            "cursor=zzz",
            "category=opera",
            "sort=name",
            "price_min=-5",
            "price_min=1.5",
            "from=tomorrow",
        ] {
            assert!(parse(&Query::parse(bad)).is_err(), "{bad}");
        }
        let p = parse(&Query::parse("q=rock&city=%20Las%20Vegas%20")).unwrap();
        assert_eq!(p.sort, Sort::Relevance);
        assert_eq!(p.city.as_deref(), Some("Las Vegas"));
    }

    #[test]
    fn sql_numbers_its_parameters() {
        let p = parse(&Query::parse("q=rock+roll&category=concert&price_min=100&sort=relevance")).unwrap();
        let (sql, args) = build(&p, 0);
        let highest = (1..=args.len()).rev().find(|n| sql.contains(&format!("?{n}"))).unwrap();
        assert_eq!(highest, args.len(), "{sql}");
    }
}
