//! Seat ids for people.
//!
//! A seat id is `<section>-<row>-<number>` (events' seat maps; each part
//! 1-12 ASCII letters or digits, so `-` only ever separates them). Buyers
//! read "Section A, Row 1, Seat 5", as the site shows it, never the id.

/// `Section A, Row 1, Seat 5` for `A-1-5`; `General admission` for no
/// seat; an id of another shape as it is.
pub fn label(seat_id: Option<&str>) -> String {
    let Some(id) = seat_id else { return "General admission".into() };
    let mut parts = id.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(section), Some(row), Some(number)) if !section.is_empty() && !row.is_empty() && !number.is_empty() => {
            format!("Section {section}, Row {row}, Seat {number}")
        }
        _ => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_read_as_section_row_and_number() {
        assert_eq!(label(Some("AUD1-G-1")), "Section AUD1, Row G, Seat 1");
        assert_eq!(label(Some("S101-12-7")), "Section S101, Row 12, Seat 7");
        assert_eq!(label(None), "General admission");
        assert_eq!(label(Some("odd")), "odd");
        assert_eq!(label(Some("A--1")), "A--1");
    }
}
