//! Best available seats (pure, no I/O): how seats are ranked when an
//! event version is copied ([`rank_rows`]), and which free seats a request
//! for "N seats in tier T" gets ([`best_available`]).
//!
//! ## Ranking (once per event version)
//!
//! The stage is where the seat map draws it (and where the frontend's seat
//! map does): centred above the seats, at `(cx, top)` with `cx` halfway
//! between the leftmost and rightmost seat and `top` the smallest `y`. A
//! row's place is the mean of its seats' coordinates; rows are ranked by
//! their distance from the stage's centre, nearest first (ties keep map
//! order), so the front rows of the middle sections come first and a side
//! section's front row comes before a middle section's back row only when
//! it is nearer. Every seat carries its row's rank and the row's middle
//! (`min + max` of the row's positions, doubled to stay an integer).
//!
//! ## Choosing (per request, over the free seats of the tier)
//!
//! Rows are looked at best rank first; within a row, seats are ordered by
//! `position` and "adjacent" means positions that differ by exactly one
//! (a seat of another tier in between breaks adjacency). In order:
//!
//! 1. **Block**: all N seats adjacent in one row, placed so that no single
//!    free seat is stranded between the block and a taken seat or a row
//!    end; the best-ranked row that allows it wins, and in it the block
//!    nearest the row's middle (ties: the lower positions).
//! 2. **Stranding**: otherwise adjacent in one row even if that strands a
//!    single seat (best-ranked row, block nearest the middle).
//! 3. **Spread**: otherwise the fewest rows possible: rows with the most
//!    free seats first (ties: better rank), seats nearest each row's
//!    middle.
//!
//! The caller feeds rows in rank order and may feed only the best part of
//! the tier: a [`Pick::Block`] found among the first rows is final, since
//! no later row can beat it; the other two rules need every free seat of
//! the tier (or as many as the caller's budget allows) to be exact.

use std::collections::HashSet;

/// A seat of the layout as ranking sees it.
#[derive(Debug, Clone)]
pub struct LayoutSeat<'a> {
    /// Section code.
    pub section: &'a str,
    /// Row label within the section.
    pub row: &'a str,
    /// Order within the row.
    pub position: i64,
    /// Drawing x.
    pub x: f64,
    /// Drawing y (the stage is at the smallest y).
    pub y: f64,
}

/// `(row_rank, row_mid2)` of every seat of `seats`, in the same order:
/// `row_rank` 0 is the row nearest the stage's centre; `row_mid2` is the
/// sum of the smallest and largest position of the seat's row (twice its
/// middle). See the module docs.
pub fn rank_rows(seats: &[LayoutSeat]) -> Vec<(i64, i64)> {
    if seats.is_empty() {
        return Vec::new();
    }
    let (min_x, max_x) =
        seats.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(s.x), hi.max(s.x)));
    let top = seats.iter().map(|s| s.y).fold(f64::INFINITY, f64::min);
    let cx = (min_x + max_x) / 2.0;
    struct Row {
        sum_x: f64,
        sum_y: f64,
        n: f64,
        min_pos: i64,
        max_pos: i64,
    }
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut index: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut of_seat = Vec::with_capacity(seats.len());
    for s in seats {
        let k = (s.section, s.row);
        let i = *index.entry(k).or_insert_with(|| {
            keys.push(k);
            rows.push(Row { sum_x: 0.0, sum_y: 0.0, n: 0.0, min_pos: i64::MAX, max_pos: i64::MIN });
            rows.len() - 1
        });
        let r = &mut rows[i];
        r.sum_x += s.x;
        r.sum_y += s.y;
        r.n += 1.0;
        r.min_pos = r.min_pos.min(s.position);
        r.max_pos = r.max_pos.max(s.position);
        of_seat.push(i);
    }
    let dist = |r: &Row| {
        let (x, y) = (r.sum_x / r.n, r.sum_y / r.n);
        (x - cx).hypot(y - top)
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| dist(&rows[a]).total_cmp(&dist(&rows[b])).then(a.cmp(&b)));
    let mut rank = vec![0i64; rows.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as i64;
    }
    of_seat.into_iter().map(|i| (rank[i], rows[i].min_pos + rows[i].max_pos)).collect()
}

/// A free seat of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeSeat {
    /// Seat id.
    pub id: String,
    /// Order within the row.
    pub position: i64,
}

/// The free seats of one row of the tier, ordered by `position`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeRow {
    /// The row's rank (see [`rank_rows`]).
    pub rank: i64,
    /// Twice the row's middle position.
    pub mid2: i64,
    /// Its free seats, by position.
    pub seats: Vec<FreeSeat>,
}

/// What [`best_available`] chose, by the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Rule 1: adjacent in one row, nothing stranded (final).
    Block(Vec<String>),
    /// Rule 2: adjacent in one row, strands a single seat.
    Stranding(Vec<String>),
    /// Rule 3: over the fewest rows.
    Spread(Vec<String>),
}

impl Pick {
    /// The seat ids chosen.
    pub fn seats(&self) -> &[String] {
        match self {
            Pick::Block(s) | Pick::Stranding(s) | Pick::Spread(s) => s,
        }
    }

    /// The seat ids chosen, owned.
    pub fn into_seats(self) -> Vec<String> {
        match self {
            Pick::Block(s) | Pick::Stranding(s) | Pick::Spread(s) => s,
        }
    }
}

/// Chooses `n` seats among the free seats of `rows` (given best rank
/// first), never one in `avoid`, by the rules of the module docs. `None`
/// when fewer than `n` are free.
pub fn best_available(rows: &[FreeRow], n: usize, avoid: &HashSet<String>) -> Option<Pick> {
    if n == 0 {
        return Some(Pick::Block(vec![]));
    }
    let usable: Vec<(&FreeRow, Vec<&FreeSeat>)> =
        rows.iter().map(|r| (r, r.seats.iter().filter(|s| !avoid.contains(&s.id)).collect::<Vec<_>>())).collect();
    if usable.iter().map(|(_, s)| s.len()).sum::<usize>() < n {
        return None;
    }
    let mut stranding: Option<Vec<String>> = None;
    for (row, seats) in &usable {
        // best block of this row: (strands, distance from the middle, start)
        let mut best: Option<(bool, i64, usize)> = None;
        let mut i = 0;
        while i < seats.len() {
            let start = i;
            while i + 1 < seats.len() && seats[i + 1].position == seats[i].position + 1 {
                i += 1;
            }
            let len = i + 1 - start;
            i += 1;
            if len < n {
                continue;
            }
            for off in 0..=(len - n) {
                let (left, right) = (off, len - n - off);
                let strands = left == 1 || right == 1;
                let first = seats[start + off].position;
                let last = seats[start + off + n - 1].position;
                let key = (strands, (first + last - row.mid2).abs(), start + off);
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
        }
        let Some((strands, _, at)) = best else { continue };
        let ids = seats[at..at + n].iter().map(|s| s.id.clone()).collect();
        if !strands {
            return Some(Pick::Block(ids));
        }
        stranding.get_or_insert(ids);
    }
    if let Some(ids) = stranding {
        return Some(Pick::Stranding(ids));
    }
    let mut by_free: Vec<&(&FreeRow, Vec<&FreeSeat>)> = usable.iter().filter(|(_, s)| !s.is_empty()).collect();
    by_free.sort_by_key(|(r, s)| (std::cmp::Reverse(s.len()), r.rank));
    let mut out = Vec::with_capacity(n);
    for (row, seats) in by_free {
        let mut near: Vec<&&FreeSeat> = seats.iter().collect();
        near.sort_by_key(|s| ((2 * s.position - row.mid2).abs(), s.position));
        out.extend(near.into_iter().take(n - out.len()).map(|s| s.id.clone()));
        if out.len() == n {
            break;
        }
    }
    Some(Pick::Spread(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row `name` (rank `rank`) of positions 1..=len with `taken` not free.
    fn row(name: &str, rank: i64, taken: &[i64], len: i64) -> FreeRow {
        FreeRow {
            rank,
            mid2: 1 + len,
            seats: (1..=len)
                .filter(|p| !taken.contains(p))
                .map(|p| FreeSeat { id: format!("{name}{p}"), position: p })
                .collect(),
        }
    }

    fn pick(rows: &[FreeRow], n: usize) -> Pick {
        best_available(rows, n, &HashSet::new()).unwrap()
    }

    #[test]
    fn an_empty_row_fills_from_its_middle_outwards() {
        let mut r = row("A", 0, &[], 10);
        assert_eq!(pick(&[r.clone()], 2), Pick::Block(vec!["A5".into(), "A6".into()]));
        r.seats.retain(|s| s.position != 5 && s.position != 6);
        // 1..4 and 7..10 left: the blocks touching the taken middle are nearest it
        assert_eq!(pick(&[r.clone()], 2), Pick::Block(vec!["A3".into(), "A4".into()]));
        assert_eq!(pick(&[row("A", 0, &[], 10)], 3), Pick::Block(vec!["A4".into(), "A5".into(), "A6".into()]));
    }

    #[test]
    fn never_strands_a_single_seat_when_avoidable() {
        // free 1, 3..6: 3-4 strands nothing (5-6 remain), 4-5 would strand 3
        let a = row("A", 0, &[2], 6);
        assert_eq!(pick(&[a], 2), Pick::Block(vec!["A3".into(), "A4".into()]));
        // free run 2..4 of 5 seats, n=2: every choice strands one seat...
        let a = row("A", 0, &[1, 5], 5);
        // ...so a worse row that strands nothing wins
        assert_eq!(pick(&[a.clone(), row("B", 1, &[], 4)], 2), Pick::Block(vec!["B1".into(), "B2".into()]));
        // with only A the stranding choice is still made, nearest the middle
        assert_eq!(pick(&[a], 2), Pick::Stranding(vec!["A2".into(), "A3".into()]));
    }

    #[test]
    fn better_rows_win_and_adjacency_means_consecutive_positions() {
        let front = row("A", 0, &[], 6);
        let back = row("Z", 5, &[], 6);
        assert_eq!(
            pick(&[front, back.clone()], 4),
            Pick::Block(vec!["A1".into(), "A2".into(), "A3".into(), "A4".into()])
        );
        // positions 1,2 and 4,5 (3 belongs to another tier): no block of 3 in A
        let gap = FreeRow {
            rank: 0,
            mid2: 6,
            seats: [1, 2, 4, 5].iter().map(|&p| FreeSeat { id: format!("A{p}"), position: p }).collect(),
        };
        assert_eq!(pick(&[gap, back], 3), Pick::Block(vec!["Z1".into(), "Z2".into(), "Z3".into()]));
    }

    #[test]
    fn falls_back_to_fewest_rows_and_respects_avoid() {
        let a = row("A", 0, &[2, 4], 5); // free 1, 3, 5
        let b = row("B", 1, &[1, 3], 3); // free 2
        let got = pick(&[a.clone(), b.clone()], 4);
        assert!(matches!(got, Pick::Spread(_)), "{got:?}");
        let mut ids = got.into_seats();
        ids.sort();
        assert_eq!(ids, ["A1", "A3", "A5", "B2"]);
        assert!(best_available(&[a, b], 5, &HashSet::new()).is_none());
        let avoid: HashSet<String> = ["A1".to_string()].into();
        assert_eq!(
            best_available(&[row("A", 0, &[], 3)], 2, &avoid),
            Some(Pick::Block(vec!["A2".into(), "A3".into()]))
        );
        // avoiding the middle seat leaves no two adjacent
        let avoid: HashSet<String> = ["A2".to_string()].into();
        assert_eq!(
            best_available(&[row("A", 0, &[], 3)], 2, &avoid),
            Some(Pick::Spread(vec!["A1".into(), "A3".into()]))
        );
    }

    #[test]
    fn rows_are_ranked_by_distance_from_the_stage_centre() {
        // three sections side by side, two rows each; the stage is above the middle one
        let mut seats = Vec::new();
        let names: Vec<(String, String)> =
            (0..3).flat_map(|s| (0..2).map(move |r| (format!("S{s}"), format!("R{r}")))).collect();
        for (k, (sec, r)) in names.iter().enumerate() {
            let (s, rr) = (k / 2, k % 2);
            for p in 1..=5 {
                seats.push(LayoutSeat {
                    section: sec,
                    row: r,
                    position: p,
                    x: (s * 100 + p as usize * 10) as f64,
                    y: (rr * 12) as f64,
                });
            }
        }
        let ranks = rank_rows(&seats);
        let rank_of = |sec: &str, r: &str| ranks[seats.iter().position(|s| s.section == sec && s.row == r).unwrap()].0;
        assert_eq!(rank_of("S1", "R0"), 0, "the middle front row first");
        assert!(rank_of("S1", "R1") < rank_of("S0", "R1"), "middle back row before a side back row");
        assert!(rank_of("S0", "R0") < rank_of("S0", "R1"));
        assert_eq!(ranks[0].1, 6, "row middle: 1 + 5");
        assert!(rank_rows(&[]).is_empty());
    }
}
