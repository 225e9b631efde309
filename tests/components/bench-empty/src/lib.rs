//! The benchmark's first ceiling (`cargo xtask bench`, phase 5): the
//! cheapest request a host can serve — instantiate a component, call its
//! handler, send `200` with no body. No router, no JSON, no storage, so
//! what it costs is the host's own per-request work; every on-sale figure
//! is also printed as a ratio to it. The bench adds it on `/bench/empty`.

use spin_sdk::http::{IntoResponse, Request, Response};

#[spin_sdk::http_component]
fn handle(_req: Request) -> impl IntoResponse {
    Response::new(200, ())
}
