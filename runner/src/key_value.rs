//! Key-value stores on SQLite, with Spin's semantics.
//!
//! Each label is backed by one SQLite file (or an in-memory database) holding
//! a single table keyed by (store label, key). All operations on a label go
//! through one shared connection guarded by a mutex, so single operations are
//! serialised. The connection uses SQLite's defaults (rollback journal,
//! synchronous=FULL), like Spin's.
//!
//! As in Spin 4.0.2 (crates/key-value-spin/src/lib.rs and store.rs):
//! - a label's parent directory is created when the app loads, but its
//!   SQLite file and `spin_key_value` table only when a component first
//!   opens the label;
//! - `increment` runs in a transaction; the counter is 8 little-endian
//!   bytes, and adding wraps around on overflow (Spin's release build);
//! - incrementing a value that is not 8 bytes long panics Spin's host while
//!   it holds the label's connection lock: the calling component traps (a
//!   500) and the poisoned lock makes every later operation on that label
//!   trap too, until the host restarts. The runner does the same
//!   ([`Poisoned`]); opening the label still succeeds, as in Spin.
//!
//! Atomicity:
//! - compare-and-swap on a key that existed when `current` was read is a
//!   conditional UPDATE on the old value: exactly one racer wins.
//! - compare-and-swap on a key that was ABSENT when `current` was read is an
//!   unconditional upsert: several racers can all "win".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context as _;
use rusqlite::{params, Connection, OptionalExtension};
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::key_value as spin_kv;
use crate::bindings::wasi::keyvalue::{atomics, batch, store as wasi_kv};
use crate::manifest::StoreLocation;
use crate::HostState;

/// Error kinds shared by both key-value interfaces.
#[derive(Debug)]
pub enum KvError {
    NoSuchStore,
    AccessDenied,
    /// `error::other`, with the text Spin gives it.
    Other(String),
    /// Not an error value: the calling component traps.
    Trap(Poisoned),
}

/// A SQLite failure as Spin reports it: `other` with the error's `Debug`
/// text (Spin 4.0.2 crates/factor-key-value/src/host.rs `log_error`).
fn other(e: impl std::fmt::Debug) -> KvError {
    KvError::Other(format!("{e:?}"))
}

/// A label's connection is poisoned: a component incremented a value that
/// is not an 8-byte counter. Every later operation on the label is a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poisoned(pub String);

impl std::fmt::Display for Poisoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key-value store {:?} is poisoned: an earlier increment found a value that is not an 8-byte counter (Spin's host panics here and the store fails until restart)", self.0)
    }
}

impl std::error::Error for Poisoned {}

/// A label's shared connection and whether an increment poisoned it.
struct Shared {
    conn: Mutex<Connection>,
    poisoned: std::sync::atomic::AtomicBool,
}

/// The store manager for one label: a connection opened on first use.
struct LabelStore {
    location: StoreLocation,
    conn: OnceLock<Arc<Shared>>,
}

impl LabelStore {
    fn connection(&self) -> Result<Arc<Shared>, KvError> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let conn = blocking(|| match &self.location {
            StoreLocation::InMemory => Connection::open_in_memory(),
            StoreLocation::Path(p) => Connection::open(p),
        })
        .map_err(other)?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )
        .map_err(other)?;
        let shared = Shared { conn: Mutex::new(conn), poisoned: std::sync::atomic::AtomicBool::new(false) };
        Ok(self.conn.get_or_init(|| Arc::new(shared)).clone())
    }
}

/// All configured key-value labels, shared by every request.
pub struct KvManager {
    stores: BTreeMap<String, LabelStore>,
}

impl KvManager {
    /// One store per label. Creates the parent directory of every
    /// file-backed label now, as Spin does when it loads the runtime config
    /// (Spin 4.0.2 crates/key-value-spin/src/lib.rs `make_store`); the file
    /// itself is created on first use.
    ///
    /// Errors: a parent directory that cannot be created (named).
    pub fn new(locations: &BTreeMap<String, StoreLocation>) -> anyhow::Result<Self> {
        let mut stores = BTreeMap::new();
        for (label, loc) in locations {
            if let StoreLocation::Path(p) = loc {
                if let Some(parent) = p.parent().filter(|p| !p.exists()) {
                    std::fs::create_dir_all(parent).with_context(|| {
                        format!("key-value store {label:?}: cannot create its directory {}", parent.display())
                    })?;
                }
            }
            stores.insert(label.clone(), LabelStore { location: loc.clone(), conn: OnceLock::new() });
        }
        Ok(KvManager { stores })
    }

    fn open(&self, label: &str) -> Result<StoreHandle, KvError> {
        let s = self.stores.get(label).ok_or(KvError::NoSuchStore)?;
        Ok(StoreHandle { label: label.to_string(), conn: s.connection()? })
    }
}

/// Per-request key-value state.
pub struct KvState {
    pub manager: Arc<KvManager>,
    pub allowed: Arc<Vec<String>>,
}

impl KvState {
    fn open(&self, label: &str) -> Result<StoreHandle, KvError> {
        if !self.allowed.iter().any(|l| l == label) {
            return Err(KvError::AccessDenied);
        }
        self.manager.open(label)
    }
}

/// An open store (`fermyon:spin/key-value.store` and `wasi:keyvalue/store.bucket`).
pub struct StoreHandle {
    label: String,
    conn: Arc<Shared>,
}

/// A `wasi:keyvalue` bucket: the same store, as a distinct resource type.
pub struct Bucket(StoreHandle);

/// An in-progress compare-and-swap (`wasi:keyvalue/atomics.cas`).
pub struct CasHandle {
    label: String,
    key: String,
    conn: Arc<Shared>,
    /// The value read by `current`; `None` if never read or absent.
    seen: Option<Vec<u8>>,
}

/// Key/value pairs as the batch interface returns them.
pub type Entries = Vec<(String, Option<Vec<u8>>)>;

/// Blocking SQLite work: tell tokio so other tasks keep running.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

impl Shared {
    /// The label's connection, once no other operation holds it; a trap
    /// when the label is poisoned (checked after waiting, as a Rust mutex
    /// poisoned while a waiter queued fails that waiter too).
    fn lock(&self, label: &str) -> Result<std::sync::MutexGuard<'_, Connection>, KvError> {
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(KvError::Trap(Poisoned(label.to_string())));
        }
        Ok(guard)
    }
}

impl StoreHandle {
    fn with<R>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<R>) -> Result<R, KvError> {
        blocking(|| {
            let mut c = self.conn.lock(&self.label)?;
            f(&mut c).map_err(other)
        })
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.with(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![self.label, key], |r| r.get(0))
                .optional()
        })
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.with(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![self.label, key, value])
            .map(drop)
        })
    }

    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.with(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![self.label, key])
                .map(drop)
        })
    }

    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.get(key)?.is_some())
    }

    pub fn keys(&self) -> Result<Vec<String>, KvError> {
        self.with(|c| {
            let mut st = c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?;
            let rows = st.query_map(params![self.label], |r| r.get(0))?;
            rows.collect()
        })
    }

    pub fn get_many(&self, keys: &[String]) -> Result<Entries, KvError> {
        // Like Spin: no keys asked, nothing read; only keys that exist are returned.
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|c| {
            let mut out = Vec::new();
            let mut st = c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?;
            for k in keys {
                if let Some(v) = st.query_row(params![self.label, k], |r| r.get::<_, Vec<u8>>(0)).optional()? {
                    out.push((k.clone(), Some(v)));
                }
            }
            Ok(out)
        })
    }

    pub fn set_many(&self, kvs: &[(String, Vec<u8>)]) -> Result<(), KvError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for (k, v) in kvs {
                tx.prepare_cached(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![self.label, k, v])?;
            }
            tx.commit()
        })
    }

    pub fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
        self.with(|c| {
            let tx = c.transaction()?;
            for k in keys {
                tx.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                    .execute(params![self.label, k])?;
            }
            tx.commit()
        })
    }

    /// Add `delta` to the 8-byte little-endian counter at `key` (absent: 0),
    /// wrapping on overflow, in one transaction; returns the new value.
    ///
    /// A value of any other length poisons the label and traps, as Spin's
    /// `expect("incorrect length")` does under the connection lock (Spin
    /// 4.0.2 crates/key-value-spin/src/store.rs `increment`).
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        blocking(|| {
            let mut c = self.conn.lock(&self.label)?;
            let tx = c.transaction().map_err(other)?;
            let old: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")
                .and_then(|mut s| s.query_row(params![self.label, key], |r| r.get(0)).optional())
                .map_err(other)?;
            let current = match old.map(<[u8; 8]>::try_from) {
                None => 0,
                Some(Ok(bytes)) => i64::from_le_bytes(bytes),
                Some(Err(value)) => {
                    self.conn.poisoned.store(true, std::sync::atomic::Ordering::SeqCst);
                    eprintln!(
                        "error: increment of {key:?} in key-value store {:?}: its value is {} bytes, not an 8-byte counter; the store is poisoned until restart, as on Spin",
                        self.label,
                        value.len()
                    );
                    return Err(KvError::Trap(Poisoned(self.label.clone())));
                }
            };
            let new = current.wrapping_add(delta);
            tx.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![self.label, key, new.to_le_bytes().to_vec()]))
            .map_err(other)?;
            tx.commit().map_err(other)?;
            Ok(new)
        })
    }

    fn new_cas(&self, key: &str) -> CasHandle {
        CasHandle { label: self.label.clone(), key: key.to_string(), conn: self.conn.clone(), seen: None }
    }
}

impl CasHandle {
    fn current(&mut self) -> Result<Option<Vec<u8>>, KvError> {
        let store = StoreHandle { label: self.label.clone(), conn: self.conn.clone() };
        let v = store.get(&self.key)?;
        self.seen.clone_from(&v);
        Ok(v)
    }

    /// Returns Ok(true) if swapped, Ok(false) if the value changed underneath.
    fn swap(&self, value: &[u8]) -> Result<bool, KvError> {
        blocking(|| {
            let c = self.conn.lock(&self.label)?;
            let changed = match &self.seen {
                Some(old) => c
                    .prepare_cached("UPDATE spin_key_value SET value = ?4 WHERE store = ?1 AND key = ?2 AND value = ?3")
                    .and_then(|mut s| s.execute(params![self.label, self.key, old, value])),
                // Absent when read: an unconditional upsert (not atomic, as in Spin).
                None => c
                    .prepare_cached(
                        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
                    )
                    .and_then(|mut s| s.execute(params![self.label, self.key, value])),
            }
            .map_err(other)?;
            Ok(changed == 1)
        })
    }
}

// ---- fermyon:spin/key-value@2.0.0 ----

fn to_spin(e: KvError) -> spin_kv::Error {
    match e {
        KvError::NoSuchStore => spin_kv::Error::NoSuchStore,
        KvError::AccessDenied => spin_kv::Error::AccessDenied,
        KvError::Other(m) => spin_kv::Error::Other(m),
        KvError::Trap(p) => spin_kv::Error::Other(p.to_string()),
    }
}

fn to_wasi(e: KvError) -> wasi_kv::Error {
    match e {
        KvError::NoSuchStore => wasi_kv::Error::NoSuchStore,
        KvError::AccessDenied => wasi_kv::Error::AccessDenied,
        KvError::Other(m) => wasi_kv::Error::Other(m),
        KvError::Trap(p) => wasi_kv::Error::Other(p.to_string()),
    }
}

/// The trap a poisoned label raises in the calling component.
fn trap(p: Poisoned) -> wasmtime::Error {
    wasmtime::format_err!("{p}")
}

/// An operation's outcome for `fermyon:spin/key-value`: a value, an error
/// value, or (poisoned label) a trap.
fn spin<T>(r: Result<T, KvError>) -> SpinResult<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(KvError::Trap(p)) => Err(trap(p)),
        Err(e) => Ok(Err(to_spin(e))),
    }
}

/// The same for `wasi:keyvalue`.
fn wasi<T>(r: Result<T, KvError>) -> WasiResult<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(KvError::Trap(p)) => Err(trap(p)),
        Err(e) => Ok(Err(to_wasi(e))),
    }
}

type SpinResult<T> = wasmtime::Result<Result<T, spin_kv::Error>>;

impl spin_kv::Host for HostState {}

impl spin_kv::HostStore for HostState {
    async fn open(&mut self, label: String) -> SpinResult<Resource<StoreHandle>> {
        Ok(match self.kv.open(&label) {
            Ok(h) => Ok(self.table.push(h)?),
            Err(e) => Err(to_spin(e)),
        })
    }

    async fn get(&mut self, store: Resource<StoreHandle>, key: String) -> SpinResult<Option<Vec<u8>>> {
        spin(self.table.get(&store)?.get(&key))
    }

    async fn set(&mut self, store: Resource<StoreHandle>, key: String, value: Vec<u8>) -> SpinResult<()> {
        spin(self.table.get(&store)?.set(&key, &value))
    }

    async fn delete(&mut self, store: Resource<StoreHandle>, key: String) -> SpinResult<()> {
        spin(self.table.get(&store)?.delete(&key))
    }

    async fn exists(&mut self, store: Resource<StoreHandle>, key: String) -> SpinResult<bool> {
        spin(self.table.get(&store)?.exists(&key))
    }

    async fn get_keys(&mut self, store: Resource<StoreHandle>) -> SpinResult<Vec<String>> {
        spin(self.table.get(&store)?.keys())
    }

    async fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

// ---- wasi:keyvalue@0.2.0-draft2 ----

type WasiResult<T> = wasmtime::Result<Result<T, wasi_kv::Error>>;

impl wasi_kv::Host for HostState {
    async fn open(&mut self, identifier: String) -> WasiResult<Resource<Bucket>> {
        Ok(match self.kv.open(&identifier) {
            Ok(h) => Ok(self.table.push(Bucket(h))?),
            Err(e) => Err(to_wasi(e)),
        })
    }
}

impl wasi_kv::HostBucket for HostState {
    async fn get(&mut self, b: Resource<Bucket>, key: String) -> WasiResult<Option<Vec<u8>>> {
        wasi(self.table.get(&b)?.0.get(&key))
    }

    async fn set(&mut self, b: Resource<Bucket>, key: String, value: Vec<u8>) -> WasiResult<()> {
        wasi(self.table.get(&b)?.0.set(&key, &value))
    }

    async fn delete(&mut self, b: Resource<Bucket>, key: String) -> WasiResult<()> {
        wasi(self.table.get(&b)?.0.delete(&key))
    }

    async fn exists(&mut self, b: Resource<Bucket>, key: String) -> WasiResult<bool> {
        wasi(self.table.get(&b)?.0.exists(&key))
    }

    async fn list_keys(&mut self, b: Resource<Bucket>, cursor: Option<String>) -> WasiResult<wasi_kv::KeyResponse> {
        if cursor.is_some() {
            return Ok(Err(wasi_kv::Error::Other("list_keys: cursor not supported".into())));
        }
        wasi(self.table.get(&b)?.0.keys().map(|keys| wasi_kv::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> WasiResult<Entries> {
        wasi(self.table.get(&b)?.0.get_many(&keys))
    }

    async fn set_many(&mut self, b: Resource<Bucket>, kvs: Vec<(String, Vec<u8>)>) -> WasiResult<()> {
        if kvs.is_empty() {
            return Ok(Ok(()));
        }
        wasi(self.table.get(&b)?.0.set_many(&kvs))
    }

    async fn delete_many(&mut self, b: Resource<Bucket>, keys: Vec<String>) -> WasiResult<()> {
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        wasi(self.table.get(&b)?.0.delete_many(&keys))
    }
}

impl atomics::HostCas for HostState {
    async fn new(&mut self, b: Resource<Bucket>, key: String) -> WasiResult<Resource<CasHandle>> {
        let cas = self.table.get(&b)?.0.new_cas(&key);
        Ok(Ok(self.table.push(cas)?))
    }

    async fn current(&mut self, cas: Resource<CasHandle>) -> WasiResult<Option<Vec<u8>>> {
        wasi(self.table.get_mut(&cas)?.current())
    }

    async fn drop(&mut self, cas: Resource<CasHandle>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl atomics::Host for HostState {
    async fn increment(&mut self, b: Resource<Bucket>, key: String, delta: i64) -> WasiResult<i64> {
        wasi(self.table.get(&b)?.0.increment(&key, delta))
    }

    async fn swap(
        &mut self,
        cas: Resource<CasHandle>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.delete(cas)?;
        match handle.swap(&value) {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Hand back a fresh handle that already holds the new current value.
                let mut fresh = CasHandle { seen: None, ..handle };
                match fresh.current() {
                    Ok(_) => {}
                    Err(KvError::Trap(p)) => return Err(trap(p)),
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(to_wasi(e)))),
                }
                Ok(Err(atomics::CasError::CasFailed(self.table.push(fresh)?)))
            }
            Err(KvError::Trap(p)) => Err(trap(p)),
            Err(e) => Ok(Err(atomics::CasError::StoreError(to_wasi(e)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager() -> KvManager {
        let mut locs = BTreeMap::new();
        locs.insert("default".to_string(), StoreLocation::InMemory);
        KvManager::new(&locs).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn basic_ops_and_semantics() {
        let m = manager();
        let s = m.open("default").unwrap();
        assert!(matches!(m.open("other"), Err(KvError::NoSuchStore)));
        assert_eq!(s.get("a").unwrap(), None);
        s.set("a", b"1").unwrap();
        assert!(s.exists("a").unwrap());
        assert_eq!(s.increment("n", 5).unwrap(), 5);
        assert_eq!(s.increment("n", -2).unwrap(), 3);
        assert_eq!(s.get("n").unwrap().unwrap(), 3i64.to_le_bytes().to_vec());
        // CAS on an existing key: second swap with a stale view loses.
        let mut c1 = s.new_cas("a");
        let mut c2 = s.new_cas("a");
        c1.current().unwrap();
        c2.current().unwrap();
        assert!(c1.swap(b"2").unwrap());
        assert!(!c2.swap(b"3").unwrap());
        // CAS on an absent key: both racers "win" (upsert).
        let mut d1 = s.new_cas("fresh");
        let mut d2 = s.new_cas("fresh");
        assert_eq!(d1.current().unwrap(), None);
        assert_eq!(d2.current().unwrap(), None);
        assert!(d1.swap(b"x").unwrap());
        assert!(d2.swap(b"y").unwrap());
        assert_eq!(s.get("fresh").unwrap().unwrap(), b"y");
        let mut keys = s.keys().unwrap();
        keys.sort();
        assert_eq!(keys, vec!["a", "fresh", "n"]);
        s.set_many(&[("b".into(), b"B".to_vec())]).unwrap();
        let got = s.get_many(&["b".into(), "missing".into()]).unwrap();
        assert_eq!(got, vec![("b".to_string(), Some(b"B".to_vec()))]);
        s.delete_many(&["a".into(), "b".into()]).unwrap();
        assert!(!s.exists("a").unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn increment_wraps_and_a_non_counter_poisons_the_label() {
        let mut locs = BTreeMap::new();
        locs.insert("default".to_string(), StoreLocation::InMemory);
        locs.insert("other".to_string(), StoreLocation::InMemory);
        let m = KvManager::new(&locs).unwrap();
        let s = m.open("default").unwrap();
        s.set("max", &i64::MAX.to_le_bytes()).unwrap();
        assert_eq!(s.increment("max", 1).unwrap(), i64::MIN);
        s.set("text", b"hello").unwrap();
        assert!(matches!(s.increment("text", 1), Err(KvError::Trap(_))));
        // Every later operation on the label traps, through any handle.
        assert!(matches!(s.get("max"), Err(KvError::Trap(_))));
        let again = m.open("default").expect("opening still succeeds, as in Spin");
        assert!(matches!(again.set("k", b"v"), Err(KvError::Trap(_))));
        assert!(matches!(again.keys(), Err(KvError::Trap(_))));
        let mut cas = again.new_cas("k");
        assert!(matches!(cas.current(), Err(KvError::Trap(_))));
        // Other labels are untouched.
        let other = m.open("other").unwrap();
        other.set("k", b"v").unwrap();
        assert_eq!(other.get("k").unwrap().unwrap(), b"v");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_files_are_created_on_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kv/sub/store.db");
        let mut locs = BTreeMap::new();
        locs.insert("default".to_string(), StoreLocation::Path(file.clone()));
        let m = KvManager::new(&locs).unwrap();
        assert!(file.parent().unwrap().is_dir(), "the directory is made at load");
        assert!(!file.exists(), "the file is not");
        m.open("default").unwrap();
        assert!(file.exists());
    }
}
