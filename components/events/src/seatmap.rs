//! Seat maps: sections → rows → seats, parsed from a compact input form into
//! the canonical form the venue stores.
//!
//! Input (`POST /api/venues`, field `seat_map`):
//!
//! ```json
//! {"sections": [
//!   {"code": "S1", "name": "Stalls left", "level": "Stage level",
//!    "rows": [
//!      {"label": "A", "seats": [1, 2, "3", {"number": "4", "x": 30.0, "y": 0.0, "accessible": true}]},
//!      {"label": "B", "count": 30, "accessible": ["1", "2"]},
//!      {"label": "C", "start": 19, "count": 18}
//!    ]}
//! ]}
//! ```
//!
//! Section codes, row labels and seat numbers are 1–12 ASCII letters or
//! digits; a seat's id is `<section>-<row>-<number>` (URL-safe, unique in the
//! venue). Seats without coordinates are laid out on a grid: 10 units per
//! seat, 12 per row, sections side by side wrapping at 1,600 units.
//! `position` (1-based) orders seats within a row for adjacency.

use crate::domain::{seat_label, text, Errors};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Most seats one venue may have.
pub const MAX_SEATS: usize = 100_000;
const SEAT_W: f64 = 10.0;
const ROW_H: f64 = 12.0;
const WRAP_X: f64 = 1600.0;
const GAP: f64 = 30.0;

/// Seat-map input (see module docs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatMapInput {
    /// Sections in drawing order.
    pub sections: Vec<SectionInput>,
}

/// One section of a seat-map input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    /// Short code used in seat ids (`S1`).
    pub code: String,
    /// Display name; defaults to the code.
    pub name: Option<String>,
    /// Level or tier of the building (`Balcony level`).
    pub level: Option<String>,
    /// Rows front to back.
    pub rows: Vec<RowInput>,
}

/// One row: explicit `seats`, or `count` seats numbered from `start` (1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowInput {
    /// Row label (`A`, `12`).
    pub label: String,
    /// Explicit seats, in order.
    pub seats: Option<Vec<SeatInput>>,
    /// Number of seats when not listed.
    pub count: Option<u32>,
    /// First seat number when `count` is used (default 1).
    pub start: Option<u32>,
    /// Numbers of the accessible seats of this row.
    #[serde(default)]
    pub accessible: Vec<Label>,
}

/// A seat number given as a JSON number or string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Label {
    /// `12`
    Number(u64),
    /// `"12A"`
    Text(String),
}

impl Label {
    fn text(&self) -> String {
        match self {
            Label::Number(n) => n.to_string(),
            Label::Text(s) => s.clone(),
        }
    }
}

/// One listed seat: a bare number, or an object with coordinates.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SeatInput {
    /// Just its number.
    Bare(Label),
    /// Number with drawing coordinates and accessibility.
    Full {
        /// Seat number.
        number: Label,
        /// Drawing x.
        x: Option<f64>,
        /// Drawing y.
        y: Option<f64>,
        /// Wheelchair-accessible.
        #[serde(default)]
        accessible: bool,
    },
}

/// The stored seat map.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SeatMap {
    /// Sections in drawing order.
    pub sections: Vec<Section>,
}

/// A stored section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Section {
    /// Code (`S1`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Level, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Rows.
    pub rows: Vec<Row>,
}

/// A stored row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// Label (`A`).
    pub label: String,
    /// Seats in order.
    pub seats: Vec<Seat>,
}

/// A stored seat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Seat {
    /// Number within the row (`12`).
    #[serde(rename = "n")]
    pub number: String,
    /// Drawing x.
    pub x: f64,
    /// Drawing y.
    pub y: f64,
    /// Wheelchair-accessible.
    #[serde(rename = "a", default, skip_serializing_if = "std::ops::Not::not")]
    pub accessible: bool,
}

/// A seat with its place in the map, as listed by [`SeatMap::seats`].
#[derive(Debug, Clone, Copy)]
pub struct SeatRef<'a> {
    /// Section.
    pub section: &'a Section,
    /// Row.
    pub row: &'a Row,
    /// Seat.
    pub seat: &'a Seat,
    /// 1-based position in the row.
    pub position: usize,
}

impl SeatRef<'_> {
    /// `<section>-<row>-<number>`.
    pub fn id(&self) -> String {
        seat_id(&self.section.code, &self.row.label, &self.seat.number)
    }
}

/// The id of a seat: `<section>-<row>-<number>`.
pub fn seat_id(section: &str, row: &str, number: &str) -> String {
    format!("{section}-{row}-{number}")
}

impl SeatMap {
    /// Every seat in drawing order.
    pub fn seats(&self) -> impl Iterator<Item = SeatRef<'_>> {
        self.sections.iter().flat_map(|section| {
            section.rows.iter().flat_map(move |row| {
                row.seats.iter().enumerate().map(move |(i, seat)| SeatRef { section, row, seat, position: i + 1 })
            })
        })
    }

    /// Number of seats.
    pub fn seat_count(&self) -> usize {
        self.sections.iter().flat_map(|s| &s.rows).map(|r| r.seats.len()).sum()
    }

    /// The section with `code`.
    pub fn section(&self, code: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.code == code)
    }

    /// The number of seats `input` describes, counted from its rows (a
    /// listed row's length, or its `count`) without making any seat.
    pub fn planned_seats(input: &SeatMapInput) -> u64 {
        input.sections.iter().flat_map(|s| &s.rows).map(|r| row_len(r) as u64).fold(0, u64::saturating_add)
    }

    /// Parses and lays out an input map; errors are recorded under
    /// `seat_map/...` paths.
    ///
    /// A map of more than [`MAX_SEATS`] seats is refused from its
    /// arithmetic ([`SeatMap::planned_seats`]) before any seat is made, so
    /// a small request cannot make the component build millions of seats
    /// only to refuse them (OWASP ASVS 4.0 §11.1.4 / §13.1: limits checked
    /// before the work they limit).
    pub fn parse(input: &SeatMapInput, errors: &mut Errors) -> SeatMap {
        let mut out = SeatMap::default();
        let planned = Self::planned_seats(input);
        if planned > MAX_SEATS as u64 {
            errors.add("seat_map", format!("has {planned} seats; at most {MAX_SEATS} are supported"));
            return out;
        }
        let mut codes = HashSet::new();
        let mut total = 0usize;
        let (mut cursor_x, mut cursor_y, mut band_h) = (0.0f64, 0.0f64, 0.0f64);
        if input.sections.is_empty() {
            errors.add("seat_map/sections", "must list at least one section");
        }
        for (si, s) in input.sections.iter().enumerate() {
            let path = format!("seat_map/sections/{si}");
            let Some(code) = errors.take(&format!("{path}/code"), seat_label(&s.code)) else { continue };
            if !codes.insert(code.clone()) {
                errors.add(format!("{path}/code"), format!("section {code} appears twice"));
            }
            let name = match &s.name {
                Some(n) => errors.take(&format!("{path}/name"), text(n, 100, false, true)).unwrap_or_default(),
                None => code.clone(),
            };
            let level = s.level.as_ref().and_then(|l| errors.take(&format!("{path}/level"), text(l, 100, false, true)));
            let width = s.rows.iter().map(row_len).max().unwrap_or(0) as f64 * SEAT_W;
            if cursor_x > 0.0 && cursor_x + width > WRAP_X {
                cursor_x = 0.0;
                cursor_y += band_h + GAP;
                band_h = 0.0;
            }
            let mut rows = Vec::with_capacity(s.rows.len());
            let mut labels = HashSet::new();
            for (ri, r) in s.rows.iter().enumerate() {
                let rpath = format!("{path}/rows/{ri}");
                let Some(label) = errors.take(&format!("{rpath}/label"), seat_label(&r.label)) else { continue };
                if !labels.insert(label.clone()) {
                    errors.add(format!("{rpath}/label"), format!("row {label} appears twice in section {code}"));
                }
                let accessible: HashSet<String> = r.accessible.iter().map(Label::text).collect();
                let y = cursor_y + ri as f64 * ROW_H;
                let seats = row_seats(r, &rpath, cursor_x, y, &accessible, errors);
                total += seats.len();
                rows.push(Row { label, seats });
            }
            band_h = band_h.max(s.rows.len() as f64 * ROW_H);
            cursor_x += width + GAP;
            out.sections.push(Section { code, name, level, rows });
        }
        if total > MAX_SEATS {
            errors.add("seat_map", format!("has {total} seats; at most {MAX_SEATS} are supported"));
        }
        out
    }
}

fn row_len(r: &RowInput) -> usize {
    match (&r.seats, r.count) {
        (Some(s), _) => s.len(),
        (None, Some(n)) => n as usize,
        _ => 0,
    }
}

fn row_seats(
    r: &RowInput,
    path: &str,
    x0: f64,
    y: f64,
    accessible: &HashSet<String>,
    errors: &mut Errors,
) -> Vec<Seat> {
    let mut numbers = HashSet::new();
    let mut seats = Vec::new();
    let mut push = |number: String, x: Option<f64>, yy: Option<f64>, acc: bool, errors: &mut Errors| {
        let i = seats.len();
        match seat_label(&number) {
            Ok(n) => {
                if !numbers.insert(n.clone()) {
                    errors.add(format!("{path}/seats/{i}"), format!("seat {n} appears twice in row {}", r.label));
                }
                let acc = acc || accessible.contains(&n);
                let coord_ok = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v.abs() <= 1e6);
                if !coord_ok(x) || !coord_ok(yy) {
                    errors.add(format!("{path}/seats/{i}"), "coordinates must be finite numbers within ±1,000,000");
                }
                seats.push(Seat {
                    number: n,
                    x: x.unwrap_or(x0 + i as f64 * SEAT_W),
                    y: yy.unwrap_or(y),
                    accessible: acc,
                });
            }
            Err(m) => errors.add(format!("{path}/seats/{i}"), m),
        }
    };
    match (&r.seats, r.count) {
        (Some(_), Some(_)) => errors.add(format!("{path}/count"), "give either seats or count, not both"),
        (Some(list), None) => {
            for s in list {
                match s {
                    SeatInput::Bare(l) => push(l.text(), None, None, false, errors),
                    SeatInput::Full { number, x, y, accessible } => push(number.text(), *x, *y, *accessible, errors),
                }
            }
        }
        (None, Some(n)) => {
            let start = r.start.unwrap_or(1);
            for k in 0..n {
                push((u64::from(start) + u64::from(k)).to_string(), None, None, false, errors);
            }
        }
        (None, None) => {}
    }
    if seats.is_empty() {
        errors.add(format!("{path}/seats"), "a row needs at least one seat (seats or count)");
    }
    seats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> (SeatMap, Errors) {
        let input: SeatMapInput = serde_json::from_value(json).unwrap();
        let mut e = Errors::default();
        (SeatMap::parse(&input, &mut e), e)
    }

    #[test]
    fn compact_and_explicit_rows() {
        let (m, e) = parse(serde_json::json!({"sections": [
            {"code": "S1", "rows": [{"label": "A", "seats": [1, "2", {"number": 3, "x": 5.0, "y": 6.0, "accessible": true}]},
                                    {"label": "B", "count": 4, "start": 19, "accessible": [20]}]}
        ]}));
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(m.seat_count(), 7);
        let ids: Vec<String> = m.seats().map(|s| s.id()).collect();
        assert_eq!(ids[0], "S1-A-1");
        assert_eq!(ids[3], "S1-B-19");
        let third = m.seats().nth(2).unwrap();
        assert!(third.seat.accessible && third.seat.x == 5.0 && third.position == 3);
        assert!(m.seats().nth(4).unwrap().seat.accessible, "B-20 accessible");
    }

    #[test]
    fn duplicates_and_bad_labels_are_field_errors() {
        let (_, e) = parse(serde_json::json!({"sections": [
            {"code": "S1", "rows": [{"label": "A", "seats": [1, 1]}, {"label": "A", "count": 2}]},
            {"code": "S1", "rows": [{"label": "B-2", "count": 1}]}
        ]}));
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"seat_map/sections/0/rows/0/seats/1"), "{fields:?}");
        assert!(fields.contains(&"seat_map/sections/0/rows/1/label"), "{fields:?}");
        assert!(fields.contains(&"seat_map/sections/1/code"), "{fields:?}");
        assert!(fields.contains(&"seat_map/sections/1/rows/0/label"), "{fields:?}");
    }

    #[test]
    fn an_oversized_map_is_refused_before_any_seat_is_made() {
        let (m, e) = parse(serde_json::json!({"sections": [
            {"code": "S1", "rows": [{"label": "A", "count": 60_000}, {"label": "B", "count": 40_001}]}
        ]}));
        assert_eq!(m.seat_count(), 0);
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "seat_map");
        assert!(e.0[0].message.contains("100001 seats"), "{:?}", e.0);
        let (m, e) = parse(
            serde_json::json!({"sections": [{"code": "S1", "rows": [{"label": "A", "count": u32::MAX}]},
                                                           {"code": "S2", "rows": [{"label": "A", "count": u32::MAX}]}]}),
        );
        assert_eq!((m.seat_count(), e.0.len()), (0, 1));
    }

    #[test]
    fn twenty_thousand_seats_round_trip() {
        let sections: Vec<_> = (1..=40)
            .map(|s| serde_json::json!({"code": format!("S{s}"), "rows": (1..=20).map(|r| serde_json::json!({"label": format!("R{r}"), "count": 25})).collect::<Vec<_>>()}))
            .collect();
        let (m, e) = parse(serde_json::json!({ "sections": sections }));
        assert!(e.is_empty());
        assert_eq!(m.seat_count(), 20_000);
        let text = serde_json::to_string(&m).unwrap();
        let back: SeatMap = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        let unique: HashSet<String> = m.seats().map(|s| s.id()).collect();
        assert_eq!(unique.len(), 20_000);
    }
}
