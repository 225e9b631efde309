//! The seat layout of an event version: what never changes between two
//! versions, served once and cached by browsers and CDNs
//! (`GET /api/holds/layout/:event_id/:version`).
//!
//! ```json
//! {"event_id":"evt_…","version":7,"currency":"EUR","seat_count":20000,
//!  "tiers":[{"id":"tier_…","name":"Lower","price_minor":9000,"kind":"seated","capacity":10000}],
//!  "rows":[{"section":"S1","row":"R1",
//!           "seats":[["S1-R1-1","1",1,10.0,12.0,0,1], …]}]}
//! ```
//!
//! A seat is `[id, number, position, x, y, tier, accessible]`: `tier` is
//! an index into `tiers`, `accessible` 1 or 0. Seats are in **layout
//! order** — rows in the order they first appear in the events inventory,
//! seats in inventory order within a row — and the i-th seat of that order
//! is the i-th 2-bit entry of the live status document
//! ([`crate::availability`]). The document is built once per version when
//! booking copies the event ([`crate::inventory::store`]) and kept
//! gzip-compressed; at 20,000 seats it is about 0.9 MB of JSON and a tenth
//! of that compressed.

use crate::document::Document;
use crate::selection::{rank_rows, LayoutSeat};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A built layout.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Indices into the document's `seats`, in layout order.
    pub order: Vec<usize>,
    /// `(row_rank, row_mid2)` of each seat in layout order
    /// ([`rank_rows`]).
    pub ranks: Vec<(i64, i64)>,
    /// The layout document (JSON bytes).
    pub json: Vec<u8>,
}

impl Layout {
    /// Builds the layout of `doc`.
    pub fn of(doc: &Document) -> Layout {
        let mut rows: Vec<(&str, &str)> = Vec::new();
        let mut members: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, s) in doc.seats.iter().enumerate() {
            let key = (s.section.as_str(), s.row.as_str());
            members
                .entry(key)
                .or_insert_with(|| {
                    rows.push(key);
                    Vec::new()
                })
                .push(i);
        }
        let order: Vec<usize> = rows.iter().flat_map(|k| members[k].iter().copied()).collect();
        let seen: Vec<LayoutSeat> = order
            .iter()
            .map(|&i| {
                let s = &doc.seats[i];
                LayoutSeat { section: &s.section, row: &s.row, position: s.position, x: s.x, y: s.y }
            })
            .collect();
        let ranks = rank_rows(&seen);
        let tier_index: HashMap<&str, usize> = doc.tiers.iter().enumerate().map(|(k, t)| (t.id.as_str(), k)).collect();
        let row_docs: Vec<Value> = rows
            .iter()
            .map(|k| {
                let seats: Vec<Value> = members[k]
                    .iter()
                    .map(|&i| {
                        let s = &doc.seats[i];
                        json!([
                            s.id,
                            s.number,
                            s.position,
                            s.x,
                            s.y,
                            tier_index.get(s.tier_id.as_str()),
                            u8::from(s.accessible)
                        ])
                    })
                    .collect();
                json!({"section": k.0, "row": k.1, "seats": seats})
            })
            .collect();
        let tiers: Vec<Value> = doc
            .tiers
            .iter()
            .map(|t| json!({"id": t.id, "name": t.name, "price_minor": t.price_minor, "kind": t.kind, "capacity": t.capacity}))
            .collect();
        let body = json!({
            "event_id": doc.event_id,
            "version": doc.version,
            "currency": doc.currency,
            "seat_count": order.len(),
            "tiers": tiers,
            "rows": row_docs,
        });
        Layout { order, ranks, json: serde_json::to_vec(&body).unwrap_or_default() }
    }
}

/// The path of the layout of `event_id` at `version`.
pub fn url(event_id: &str, version: i64) -> String {
    format!("/api/holds/layout/{event_id}/{version}")
}

/// The strong entity tag of a layout (one per event version).
pub fn etag(event_id: &str, version: i64) -> String {
    format!("\"layout-{event_id}-{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_grouped_by_row_in_first_appearance_order() {
        let mut doc = crate::inventory::tests::sample(platform::clock::now_ms());
        // interleave a second row: A1, B1, A2, ...
        let mut b = doc.seats[0].clone();
        b.id = "S1-B-1".into();
        b.row = "B".into();
        b.y = 14.0;
        doc.seats.insert(1, b);
        let l = Layout::of(&doc);
        assert_eq!(l.order, [0, 2, 3, 4, 5, 6, 1]);
        let v: Value = serde_json::from_slice(&l.json).unwrap();
        assert_eq!(v["seat_count"], 7);
        assert_eq!(v["rows"][0]["row"], "A");
        assert_eq!(v["rows"][0]["seats"][0], json!(["S1-A-1", "1", 1, 1.0, 2.0, 0, 0]));
        assert_eq!(v["rows"][1]["seats"][0][0], "S1-B-1");
        assert_eq!(v["tiers"][1]["kind"], "general_admission");
        // row A (nearer the stage) ranks first
        assert_eq!(l.ranks[0].0, 0);
        assert_eq!(l.ranks[6].0, 1);
        assert_eq!(url("evt_1", 3), "/api/holds/layout/evt_1/3");
    }
}
