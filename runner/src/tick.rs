//! Ticks: POST to a route every N seconds, with the tick token.
//!
//! This stands in for a cron trigger or a Kubernetes CronJob. Requests go
//! through the normal router, as an outside request would. Failures are
//! logged and never stop the runner.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

use crate::server::Runtime;

pub fn spawn(runtime: Arc<Runtime>, ticks: Vec<(String, Duration)>, token: Option<String>) {
    for (path, every) in ticks {
        let runtime = runtime.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await; // the first tick fires immediately; wait a full period
            loop {
                interval.tick().await;
                let mut req = http::Request::builder()
                    .method(http::Method::POST)
                    .uri(path.as_str())
                    .header(http::header::HOST, "localhost");
                if let Some(t) = &token {
                    req = req.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
                }
                let req = match req.body(Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync()) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("tick {path}: cannot build request: {e}");
                        continue;
                    }
                };
                let resp = match runtime.handle(req, ([127, 0, 0, 1], 0).into()).await {
                    Ok(resp) => resp,
                    Err(refused) => {
                        eprintln!("tick {path}: refused: {refused}");
                        continue;
                    }
                };
                let status = resp.status();
                // Drain the body so the component finishes its work.
                let _ = resp.into_body().collect().await;
                if !status.is_success() {
                    eprintln!("tick {path}: failed with status {}", status.as_u16());
                }
            }
        });
    }
}
