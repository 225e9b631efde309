//! The `holds` key-value store through `wasi:keyvalue` (store, atomics,
//! batch), with every failure mapped to a retryable 503.
//!
//! ## Which operations, and why only these
//!
//! Holds must be correct on every key-value backend Spin really ships,
//! because production with more than one replica (SpinKube, docs/DESIGN.md §5)
//! puts this store on Redis while a single `spin up` keeps it in a SQLite
//! file. The two differ, and Spin 4.0.2's Redis backend
//! (`crates/key-value-redis` at tag v4.0.2) has bugs:
//!
//! | operation | SQLite file | Redis in Spin 4.0.2 | used here |
//! |---|---|---|---|
//! | `get`, `set`, `delete`, `exists` | sound | sound | yes |
//! | `increment` | atomic | atomic (`INCRBY`) | yes: the only mutual exclusion |
//! | `set-many` | one transaction | one `MSET` | yes |
//! | `get-many` | sound | **always fails** (it sends `KEYS k1 k2 …`) | no: [`Kv::get_many`] reads key by key |
//! | compare-and-swap | a plain upsert on an absent key | **every swap reports `CasFailed`**, applied or not (`swap` ends with `UNWATCH <key>`, which Redis rejects) | no |
//! | `list-keys` | the store's keys | every key of the database (`KEYS *`), all labels | only for the orphan scan, filtered by this store's prefix |
//!
//! So nothing in booking uses compare-and-swap: a caller that retried on
//! `CasFailed` would apply its change again (a seat-lock give-back that
//! decrements twice is how a seat came to be held three times on Redis).
//! Every "exactly one of us wins" decision is an `increment` whose result
//! is 1 ([`Kv::claim_first`]), and every counter only ever moves by
//! relative increments, so concurrent changes commute.
//!
//! **Labels share one Redis database** in Spin 4.0.2 (the store name is
//! not part of the key), so every key this module writes is prefixed with
//! the label, [`NAMESPACE`] (`holds/lock:…`): another label's keys can
//! never collide with booking's, and the orphan scan skips them.
//!
//! **With a later Spin** whose Redis `get-many` and compare-and-swap work
//! (and report the truth), [`Kv::get_many`] can go back to one
//! `wasi:keyvalue/batch.get-many` call per 500 keys, and a hold's state
//! change could again be one compare-and-swap of its record instead of an
//! exit claim plus a write (see [`crate::holds`]). The increment-based seat
//! locks would stay: compare-and-swap on an absent key is still an upsert
//! on the SQLite backend, so it never decides a first claim.
//!
//! Keys that are incremented are never `set` (incrementing a value that is
//! not an 8-byte counter poisons the SQLite-backed store on Spin 4.0.2).

use platform::{ApiError, ApiResult};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};
use std::collections::HashMap;

/// KV label of the holds store.
pub const STORE: &str = "holds";

/// Prefix of every key in the store: the label and a slash, because Spin
/// 4.0.2's Redis backend puts every label in one database.
pub const NAMESPACE: &str = "holds/";

/// An open `holds` bucket.
pub struct Kv {
    bucket: store::Bucket,
}

fn unavailable(e: impl std::fmt::Debug) -> ApiError {
    platform::log::error!("key-value error: {e:?}");
    ApiError::storage("the hold store is unavailable; try again")
}

/// `key` as stored: inside [`NAMESPACE`].
fn ns(key: &str) -> String {
    format!("{NAMESPACE}{key}")
}

impl Kv {
    /// Opens the `holds` store.
    pub fn open() -> ApiResult<Kv> {
        store::open(STORE).map(|bucket| Kv { bucket }).map_err(unavailable)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> ApiResult<Option<Vec<u8>>> {
        self.bucket.get(&ns(key)).map_err(unavailable)
    }

    /// Writes `key` (only for keys no one else can know yet, or that only
    /// the winner of a claim writes).
    pub fn set(&self, key: &str, value: &[u8]) -> ApiResult<()> {
        self.bucket.set(&ns(key), value).map_err(unavailable)
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &str) -> ApiResult<()> {
        self.bucket.delete(&ns(key)).map_err(unavailable)
    }

    /// Atomically adds `delta` to the counter `key` (absent = 0) and
    /// returns the new value.
    pub fn incr(&self, key: &str, delta: i64) -> ApiResult<i64> {
        atomics::increment(&self.bucket, &ns(key), delta).map_err(unavailable)
    }

    /// True for exactly one caller per `key`, ever: the one whose
    /// `increment(key, +1)` found it absent. Every decision "who does this
    /// piece of work" in booking is one of these claims; a claim key is
    /// never decremented, so a later caller can never win it again.
    pub fn claim_first(&self, key: &str) -> ApiResult<bool> {
        Ok(self.incr(key, 1)? == 1)
    }

    /// Writes every `(key, value)` of `entries` in ONE store call
    /// (`wasi:keyvalue/batch.set-many`: one transaction on Spin's SQLite
    /// backend, one `MSET` on Redis — both sound). Same rule as
    /// [`Kv::set`]: only keys no one else can know yet, or that only the
    /// winner of a claim writes; never a counter.
    pub fn set_many(&self, entries: &[(String, Vec<u8>)]) -> ApiResult<()> {
        match entries {
            [] => Ok(()),
            [(k, v)] => self.set(k, v),
            _ => {
                let entries: Vec<(String, Vec<u8>)> = entries.iter().map(|(k, v)| (ns(k), v.clone())).collect();
                batch::set_many(&self.bucket, &entries).map_err(unavailable)
            }
        }
    }

    /// Values of `keys` (absent keys left out), one `get` per key: Spin
    /// 4.0.2's Redis `get-many` always fails (module docs). Only the
    /// tick's orphan scan reads many keys.
    pub fn get_many(&self, keys: Vec<String>) -> ApiResult<HashMap<String, Vec<u8>>> {
        let mut out = HashMap::new();
        for key in keys {
            if let Some(v) = self.get(&key)? {
                out.insert(key, v);
            }
        }
        Ok(out)
    }

    /// Every key of the store that starts with `prefix` (without
    /// [`NAMESPACE`]), following `list-keys`' cursor. Spin's SQLite
    /// backend lists the store's keys; its Redis backend lists the whole
    /// database, every label's, which the namespace filters out.
    pub fn keys_with_prefix(&self, prefix: &str) -> ApiResult<Vec<String>> {
        let full = ns(prefix);
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.bucket.list_keys(cursor.as_deref()).map_err(unavailable)?;
            out.extend(
                page.keys.into_iter().filter(|k| k.starts_with(&full)).map(|k| k[NAMESPACE.len()..].to_string()),
            );
            match page.cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return Ok(out),
            }
        }
    }
}

/// Decodes a counter value: 8 little-endian bytes (Spin's SQLite backend)
/// or decimal text (Redis `INCRBY`).
pub fn counter(bytes: &[u8]) -> i64 {
    match <[u8; 8]>::try_from(bytes) {
        Ok(b) if !bytes.iter().all(u8::is_ascii_digit) => i64::from_le_bytes(b),
        _ => std::str::from_utf8(bytes).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counters_decode_both_backends() {
        assert_eq!(super::counter(&3i64.to_le_bytes()), 3);
        assert_eq!(super::counter(&(-1i64).to_le_bytes()), -1);
        assert_eq!(super::counter(b"42"), 42);
        assert_eq!(super::counter(b"-2"), -2);
        assert_eq!(super::counter(b""), 0);
    }

    #[test]
    fn keys_live_in_the_label_namespace() {
        assert_eq!(super::ns("lock:evt_1:A1"), "holds/lock:evt_1:A1");
    }
}
