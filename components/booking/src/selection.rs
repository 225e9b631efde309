//! Best available seats for "N seats in tier T" (pure, no I/O).
//!
//! Rules, in order:
//! 1. all N seats adjacent in one row, placed so that no single empty seat
//!    is stranded between the block and a row end or a taken seat;
//! 2. otherwise adjacent in one row even if that strands a single seat;
//! 3. otherwise the fewest rows possible, filling rows in map order.
//!
//! Rows are tried in the order they first appear in the seat map (the
//! events component lists better rows first); within a row, seats are
//! ordered by `position`, and "adjacent" means consecutive in that order.

use std::collections::HashSet;

/// A seat as the selector sees it.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Seat id.
    pub id: &'a str,
    /// Section + row identify the row.
    pub section: &'a str,
    /// Row.
    pub row: &'a str,
    /// Order within the row.
    pub position: i64,
    /// Whether it can be taken.
    pub free: bool,
}

/// Chooses `n` seats among `seats` (all seats of the tier, free or not),
/// skipping `avoid`. `None` when fewer than `n` are free.
pub fn best_available(seats: &[Candidate], n: usize, avoid: &HashSet<String>) -> Option<Vec<String>> {
    if n == 0 {
        return Some(vec![]);
    }
    let mut rows: Vec<((&str, &str), Vec<&Candidate>)> = Vec::new();
    for s in seats {
        match rows.iter_mut().find(|(k, _)| *k == (s.section, s.row)) {
            Some((_, v)) => v.push(s),
            None => rows.push(((s.section, s.row), vec![s])),
        }
    }
    for (_, row) in rows.iter_mut() {
        row.sort_by_key(|s| s.position);
    }
    let is_free = |s: &Candidate| s.free && !avoid.contains(s.id);
    let free_total = seats.iter().filter(|s| is_free(s)).count();
    if free_total < n {
        return None;
    }
    let mut fallback: Option<Vec<String>> = None;
    for (_, row) in &rows {
        // maximal runs of free seats: (start index, length)
        let mut i = 0;
        while i < row.len() {
            if !is_free(row[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < row.len() && is_free(row[i]) {
                i += 1;
            }
            let len = i - start;
            if len < n {
                continue;
            }
            // try offsets: no stranded single seat on either side
            for off in 0..=(len - n) {
                let left = off;
                let right = len - n - off;
                let pick = || row[start + off..start + off + n].iter().map(|s| s.id.to_string()).collect::<Vec<_>>();
                if left != 1 && right != 1 {
                    return Some(pick());
                }
                if fallback.is_none() {
                    fallback = Some(pick());
                }
            }
        }
    }
    if fallback.is_some() {
        return fallback;
    }
    // fewest rows: take rows with the most free seats first
    let mut by_free: Vec<Vec<&Candidate>> =
        rows.iter().map(|(_, r)| r.iter().copied().filter(|s| is_free(s)).collect()).collect();
    by_free.sort_by_key(|r| std::cmp::Reverse(r.len()));
    Some(by_free.into_iter().flatten().take(n).map(|s| s.id.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &'static str, taken: &[i64], len: i64) -> Vec<Candidate<'static>> {
        let ids: Vec<&'static str> =
            (1..=len).map(|p| &*Box::leak(format!("{name}{p}").into_boxed_str())).collect();
        (1..=len)
            .map(|p| Candidate { id: ids[(p - 1) as usize], section: "S", row: name, position: p, free: !taken.contains(&p) })
            .collect()
    }

    fn pick(seats: &[Candidate], n: usize) -> Vec<String> {
        best_available(seats, n, &HashSet::new()).unwrap()
    }

    #[test]
    fn adjacent_from_the_row_end() {
        assert_eq!(pick(&row("A", &[], 10), 3), ["A1", "A2", "A3"]);
    }

    #[test]
    fn never_strands_a_single_seat_when_avoidable() {
        // A1 taken: picking A2-A3 is fine (no gap); with A2 taken, A3.. would leave A1 alone? A1 is free.
        let seats = row("A", &[2], 6); // free: 1, 3,4,5,6
        // run 3..6 (len 4), n=2: offset 0 leaves right=2 → OK: A3,A4
        assert_eq!(pick(&seats, 2), ["A3", "A4"]);
        let seats = row("A", &[1, 5], 5); // free run 2..4 (len 3), n=2 → any choice strands one seat
        let mut all = seats.clone();
        all.extend(row("B", &[], 4)); // B has room without stranding
        assert_eq!(pick(&all, 2), ["B1", "B2"]);
        // only A: the stranding choice is still made
        assert_eq!(pick(&seats, 2), ["A2", "A3"]);
    }

    #[test]
    fn falls_back_to_fewest_rows_and_respects_avoid() {
        let mut seats = row("A", &[2, 4], 5); // free 1,3,5
        seats.extend(row("B", &[1, 3], 3)); // free 2
        let got = pick(&seats, 4);
        assert_eq!(got.len(), 4);
        assert!(best_available(&seats, 5, &HashSet::new()).is_none());
        let avoid: HashSet<String> = ["A1".to_string()].into();
        assert_eq!(best_available(&row("A", &[], 3), 2, &avoid).unwrap(), ["A2", "A3"]);
    }
}
