//! The benchmark's first ceiling (`cargo xtask bench`, phase 5): the
//! cheapest request a host can serve — instantiate a component, call its
//! handler, send `200` with no body. No router, no JSON, no storage, so
//! what it costs is the host's own per-request work; every on-sale figure
//! is also printed as a ratio to it. The bench adds it on `/bench/empty`.

use spin_sdk::http::{IntoResponse, Request, Response};

#[allow(unsafe_code)] // `http_component` expands to wit-bindgen's export glue (unsafe, `export_name`)
mod entry {
    use super::*;

    #[spin_sdk::http_component]
    fn handle(_req: Request) -> impl IntoResponse {
        Response::new(200, ())
    }
}
