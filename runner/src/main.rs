//! boxoffice-runner: serves a Spin application (spin.toml v2) locally, the way
//! `spin up` does, on wasmtime + wasmtime-wasi + wasmtime-wasi-http.
//!
//! One module per capability: `manifest`, `router`, `variables`,
//! `key_value`, `sqlite`, `outbound_http`, `files`, `server`, `tick`.

mod files;
mod key_value;
mod manifest;
mod outbound_http;
mod router;
mod server;
mod sqlite;
mod tick;
mod variables;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Host bindings for the Spin platform interfaces, generated from `wit/`.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "boxoffice:runner/host",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/key-value.store": crate::key_value::StoreHandle,
            "wasi:keyvalue/store.bucket": crate::key_value::Bucket,
            "wasi:keyvalue/atomics.cas": crate::key_value::CasHandle,
            "fermyon:spin/sqlite.connection": crate::sqlite::ConnV2,
            "spin:sqlite/sqlite.connection": crate::sqlite::ConnHandle,
        },
        require_store_data_send: true,
    });
}

/// Everything one component instance (one request) can reach.
pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub hooks: outbound_http::OutboundHooks,
    pub kv: key_value::KvState,
    pub sqlite: sqlite::SqliteState,
    pub variables: variables::VariablesState,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// The command line.
#[derive(Debug, Clone, PartialEq, clap::Parser)]
#[command(
    name = "boxoffice-runner",
    // a flag given twice keeps its last value, as the hand-written parser did
    args_override_self = true,
    about = "boxoffice-runner: serve a Spin application locally, as `spin up` would",
    after_help = "\
ENVIRONMENT:
    SPIN_VARIABLE_<NAME>           Overrides the app variable <name>

On start the runner prints one line to stdout:
    boxoffice-runner listening on http://<address>
Request logs and component output go to stderr."
)]
pub struct Cli {
    /// The application manifest.
    #[arg(long, short = 'f', value_name = "FILE", default_value = "spin.toml")]
    pub manifest: PathBuf,
    /// Runtime config (key_value_store / sqlite_database labels); relative
    /// key-value paths resolve against this file's directory, relative
    /// SQLite paths against the working directory, as in Spin.
    #[arg(long = "runtime-config-file", value_name = "FILE")]
    pub runtime_config: Option<PathBuf>,
    /// Address to listen on; use port 0 for any free port (the chosen
    /// address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Where the `default` key-value store and SQLite database live
    /// [default: .spin next to the manifest].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// POST to PATH every SECONDS seconds (repeatable), with
    /// `Authorization: Bearer <token>`.
    #[arg(long = "tick", value_name = "PATH>=<SECONDS", value_parser = parse_tick)]
    pub ticks: Vec<(String, Duration)>,
    /// App variable holding the tick token.
    #[arg(long, value_name = "NAME", default_value = "tick_token")]
    pub tick_token_variable: String,
}

fn parse_tick(s: &str) -> Result<(String, Duration)> {
    let (path, secs) = s.rsplit_once('=').context("--tick expects PATH=SECONDS")?;
    if !path.starts_with('/') {
        bail!("--tick path {path:?} must start with '/'");
    }
    let secs: f64 = secs.parse().with_context(|| format!("--tick seconds {secs:?} is not a number"))?;
    if secs.is_nan() || secs <= 0.0 {
        bail!("--tick seconds must be positive");
    }
    Ok((path.to_string(), Duration::from_secs_f64(secs)))
}

fn main() {
    // Help and bad arguments exit here (0 and 2).
    let cli = <Cli as clap::Parser>::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(server::run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Result<Cli, clap::Error> {
        <Cli as clap::Parser>::try_parse_from(std::iter::once("boxoffice-runner").chain(s.iter().copied()))
    }

    #[test]
    fn cli_parsing() {
        let c = args(&[]).unwrap();
        assert_eq!(c.manifest, PathBuf::from("spin.toml"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        let c = args(&[
            "--manifest",
            "app/spin.toml",
            "--listen=127.0.0.1:0",
            "--tick",
            "/api/holds/tick=2",
            "--tick=/x=0.5",
            "--state-dir",
            "/tmp/s",
            "-f",
            "other/spin.toml",
        ])
        .unwrap();
        assert_eq!(c.manifest, PathBuf::from("other/spin.toml"));
        assert_eq!(
            c.ticks,
            vec![("/api/holds/tick".into(), Duration::from_secs(2)), ("/x".into(), Duration::from_millis(500))]
        );
        assert_eq!(c.state_dir, Some(PathBuf::from("/tmp/s")));
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--tick", "nopath=1"]).is_err());
        assert!(args(&["--tick", "/a=0"]).is_err());
        assert!(args(&["--listen"]).is_err());
        assert!(args(&["--listen", "nowhere"]).is_err());
        assert_eq!(args(&["--help"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
