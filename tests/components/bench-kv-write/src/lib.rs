//! The benchmark's second ceiling (`cargo xtask bench`, phase 5): one
//! key-value write per request and nothing else. A hold must at least
//! write its seat claims to the `holds` store, so "holds per second as a
//! share of this component's writes per second" says how close the hold
//! path is to the storage floor of the same host and KV backend.
//!
//! `POST /bench/kv-write/{key}` opens the `default` store (a SQLite file
//! in the app's state directory on both hosts, like `holds`) and sets
//! `{key}` to 16 bytes; `200` with no body, `500` when the write fails.
//! Callers use a key per client so writes do not all land on one row.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::key_value::Store;

#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(req: Request) -> impl IntoResponse {
        let key = req.path().rsplit('/').next().unwrap_or("k").to_string();
        let written = Store::open_default().and_then(|s| s.set(&format!("ceiling:{key}"), b"0123456789abcdef"));
        match written {
            Ok(()) => Response::new(200, ()),
            Err(_) => Response::new(500, ()),
        }
    }
}
