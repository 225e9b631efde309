//! Opaque, URL-safe, time-sortable identifiers (docs/DESIGN.md §6).
//!
//! Shape: `<prefix>_<ULID>` where the ULID (ulid/spec: 48-bit millisecond
//! timestamp + 80 random bits, Crockford base32, 26 characters) is
//! lower-cased, e.g. `bkg_01jdx3v9k7m2q8w4e6r5t0y1za`. Ids made later sort
//! after ids made earlier (within a millisecond the order is random).

/// A new id with the given prefix (`"evt"`, `"bkg"`, `"hold"`...): the
/// current Unix time in ms and 80 bits from the host's CSPRNG (`getrandom`,
/// WASI `random` in a component).
///
/// # Panics
/// When the host has no random source (never on WASI or Linux).
pub fn new(prefix: &str) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("the host's random source");
    let id = ulid::Ulid::from_parts(now_ms, u128::from_le_bytes(random));
    format!("{prefix}_{}", id.to_string().to_ascii_lowercase())
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
    fn ids_carry_the_current_time_and_never_repeat() {
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new("x")).collect();
        let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        assert_eq!(ids.len(), 10_000, "80 random bits: no two ids alike, even within one millisecond");
        assert!(ids.iter().all(|id| (before..=after).contains(&timestamp_ms(id).unwrap())));
    }

    #[test]
    fn rejects_garbage() {
        assert!(!is_valid("evt", "evt_"));
        assert!(!is_valid("evt", "evt_../../etc/passwd"));
        assert!(!is_valid("evt", "evt_01JDX3V9K7M2Q8W4E6R5T0Y1Z!"));
    }
}
