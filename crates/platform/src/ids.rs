//! Opaque, URL-safe, time-sortable identifiers (docs/DESIGN.md §6).
//!
//! Shape: `<prefix>_<ULID>` where the ULID (ulid/spec: 48-bit millisecond
//! timestamp + 80 random bits, Crockford base32, 26 characters) is
//! lower-cased, e.g. `bkg_01jdx3v9k7m2q8w4e6r5t0y1za`. Ids made later sort
//! after ids made earlier (within a millisecond the order is random).

/// A new id with the given prefix (`"evt"`, `"bkg"`, `"hold"`...).
pub fn new(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_ascii_lowercase())
}

/// True when `id` has the shape [`new`] produces for `prefix`.
pub fn is_valid(prefix: &str, id: &str) -> bool {
    match id.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) {
        Some(rest) => rest.len() == 26 && ulid::Ulid::from_string(&rest.to_ascii_uppercase()).is_ok(),
        None => false,
    }
}

/// Milliseconds since the Unix epoch encoded in an id made by [`new`].
pub fn timestamp_ms(id: &str) -> Option<u64> {
    let (_, rest) = id.rsplit_once('_')?;
    ulid::Ulid::from_string(&rest.to_ascii_uppercase()).ok().map(|u| u.timestamp_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_valid_and_url_safe() {
        let id = new("evt");
        assert!(id.starts_with("evt_"));
        assert!(is_valid("evt", &id));
        assert!(!is_valid("bkg", &id));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new("x");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new("x");
        assert!(a < b);
        assert!(timestamp_ms(&a).unwrap() <= timestamp_ms(&b).unwrap());
    }

    #[test]
    fn rejects_garbage() {
        assert!(!is_valid("evt", "evt_"));
        assert!(!is_valid("evt", "evt_../../etc/passwd"));
        assert!(!is_valid("evt", "evt_01JDX3V9K7M2Q8W4E6R5T0Y1Z!"));
    }
}
