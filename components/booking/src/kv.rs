//! The `holds` key-value store through `wasi:keyvalue` (store, atomics,
//! batch), with every failure mapped to a retryable 503.
//!
//! Only two operations are relied on for mutual exclusion, because only
//! they are atomic on every Spin backend (DESIGN §5): `increment`, and
//! compare-and-swap on a key that EXISTS. Compare-and-swap on an absent key
//! is never used. Keys that are incremented are never `set`.

use platform::{ApiError, ApiResult};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};
use std::collections::HashMap;

/// KV label of the holds store.
pub const STORE: &str = "holds";

/// An open `holds` bucket.
pub struct Kv {
    bucket: store::Bucket,
}

fn unavailable(e: impl std::fmt::Debug) -> ApiError {
    eprintln!("key-value error: {e:?}");
    ApiError::Unavailable("the hold store is unavailable; try again".into())
}

/// Result of [`Kv::update`].
pub enum Update<T> {
    /// The value was swapped atomically; `T` is what the closure returned.
    Swapped(T),
    /// The closure declined to change the value.
    Kept(T),
    /// The key does not exist.
    Missing,
}

impl Kv {
    /// Opens the `holds` store.
    pub fn open() -> ApiResult<Kv> {
        store::open(STORE).map(|bucket| Kv { bucket }).map_err(unavailable)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> ApiResult<Option<Vec<u8>>> {
        self.bucket.get(key).map_err(unavailable)
    }

    /// Writes `key` (only for keys no one else can know yet, or that only
    /// the current lock owner writes).
    pub fn set(&self, key: &str, value: &[u8]) -> ApiResult<()> {
        self.bucket.set(key, value).map_err(unavailable)
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &str) -> ApiResult<()> {
        self.bucket.delete(key).map_err(unavailable)
    }

    /// Atomically adds `delta` to the counter `key` (absent = 0) and
    /// returns the new value.
    pub fn incr(&self, key: &str, delta: i64) -> ApiResult<i64> {
        atomics::increment(&self.bucket, key, delta).map_err(unavailable)
    }

    /// Writes every `(key, value)` of `entries` in ONE store call
    /// (`wasi:keyvalue/batch.set-many`: one transaction on Spin's SQLite
    /// backend, one `MSET` on Redis — both sound, DESIGN §5). Same rule as
    /// [`Kv::set`]: only keys no one else can know yet, or that only the
    /// current lock owner writes; never a counter.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> ApiResult<()> {
        match entries {
            [] => Ok(()),
            [(k, v)] => self.set(k, v),
            _ => batch::set_many(&self.bucket, entries).map_err(unavailable),
        }
    }

    /// Values of `keys` (absent keys map to `None`).
    pub fn get_many(&self, keys: Vec<String>) -> ApiResult<HashMap<String, Vec<u8>>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(500) {
            let got = batch::get_many(&self.bucket, chunk).map_err(unavailable)?;
            out.extend(got.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        }
        Ok(out)
    }

    /// Compare-and-swap loop on an EXISTING key: `f` sees the current bytes
    /// and returns `(Some(new), t)` to swap or `(None, t)` to keep. Retries
    /// when another writer got in between (at most 16 times, then 503).
    pub fn update<T>(&self, key: &str, f: impl FnMut(&[u8]) -> ApiResult<(Option<Vec<u8>>, T)>) -> ApiResult<Update<T>> {
        self.update_tries(key, 16, f)
    }

    /// [`Kv::update`] with up to `tries` attempts (for hot keys such as a
    /// contended seat's lock counter).
    pub fn update_tries<T>(&self, key: &str, tries: u32, mut f: impl FnMut(&[u8]) -> ApiResult<(Option<Vec<u8>>, T)>) -> ApiResult<Update<T>> {
        for _ in 0..tries {
            let cas = atomics::Cas::new(&self.bucket, key).map_err(unavailable)?;
            let Some(current) = cas.current().map_err(unavailable)? else {
                return Ok(Update::Missing);
            };
            let (new, t) = f(&current)?;
            let Some(new) = new else {
                return Ok(Update::Kept(t));
            };
            match atomics::swap(cas, &new) {
                Ok(()) => return Ok(Update::Swapped(t)),
                Err(atomics::CasError::CasFailed(_)) => continue,
                Err(atomics::CasError::StoreError(e)) => return Err(unavailable(e)),
            }
        }
        Err(ApiError::Unavailable("the hold is changing too fast; try again".into()))
    }

    /// Every key of the store that starts with `prefix` (`wasi:keyvalue`
    /// `list-keys`, following its cursor). Spin's SQLite backend returns
    /// all keys in one page; Redis pages.
    pub fn keys_with_prefix(&self, prefix: &str) -> ApiResult<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.bucket.list_keys(cursor.as_deref()).map_err(unavailable)?;
            out.extend(page.keys.into_iter().filter(|k| k.starts_with(prefix)));
            match page.cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return Ok(out),
            }
        }
    }
}

/// Decodes a counter value: 8 little-endian bytes (Spin's SQLite backend)
/// or decimal text (Redis).
pub fn counter(bytes: &[u8]) -> i64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(b) if !bytes.iter().all(u8::is_ascii_digit) => i64::from_le_bytes(b),
        _ => std::str::from_utf8(bytes).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0),
    }
}

/// Encodes `value` for a compare-and-swap on a counter in the encoding its
/// current bytes use (8 little-endian bytes, or decimal text), so the
/// backend's own `increment` keeps reading it (DESIGN §5).
pub fn counter_like(current: &[u8], value: i64) -> Vec<u8> {
    if current.len() == 8 && !current.iter().all(u8::is_ascii_digit) {
        value.to_le_bytes().to_vec()
    } else {
        value.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_decode_both_backends() {
        assert_eq!(super::counter(&3i64.to_le_bytes()), 3);
        assert_eq!(super::counter(&(-1i64).to_le_bytes()), -1);
        assert_eq!(super::counter(b"42"), 42);
        assert_eq!(super::counter(b""), 0);
        assert_eq!(super::counter_like(&3i64.to_le_bytes(), 7), 7i64.to_le_bytes());
        assert_eq!(super::counter_like(b"42", 7), b"7");
    }
}
