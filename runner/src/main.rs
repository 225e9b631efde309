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

const USAGE: &str = "\
boxoffice-runner: serve a Spin application locally, as `spin up` would

USAGE:
    boxoffice-runner [OPTIONS]

OPTIONS:
    --manifest <FILE>              The application manifest [default: spin.toml]
    --runtime-config-file <FILE>   Runtime config (key_value_store / sqlite_database labels);
                                   relative key-value paths resolve against this file's
                                   directory, relative SQLite paths against the working
                                   directory, as in Spin
    --listen <ADDR>                Address to listen on [default: 127.0.0.1:3000]; use port 0
                                   for any free port (the chosen address is printed)
    --state-dir <DIR>              Where the `default` key-value store and SQLite database
                                   live [default: .spin next to the manifest]
    --tick <PATH>=<SECONDS>        POST to PATH every SECONDS seconds (repeatable), with
                                   `Authorization: Bearer <token>`
    --tick-token-variable <NAME>   App variable holding the tick token [default: tick_token]
    -h, --help                     Print this help

ENVIRONMENT:
    SPIN_VARIABLE_<NAME>           Overrides the app variable <name>

On start the runner prints one line to stdout:
    boxoffice-runner listening on http://<address>
Request logs and component output go to stderr.";

#[derive(Debug, Clone, PartialEq)]
pub struct Cli {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub listen: SocketAddr,
    pub state_dir: Option<PathBuf>,
    pub ticks: Vec<(String, Duration)>,
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

/// Parse the command line. `Ok(None)` means help was printed.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Cli>> {
    let mut cli = Cli {
        manifest: PathBuf::from("spin.toml"),
        runtime_config: None,
        listen: "127.0.0.1:3000".parse()?,
        state_dir: None,
        ticks: Vec::new(),
        tick_token_variable: "tick_token".into(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            return Ok(None);
        }
        let mut value = || -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--manifest" | "-f" => cli.manifest = value()?.into(),
            "--runtime-config-file" => cli.runtime_config = Some(value()?.into()),
            "--listen" => cli.listen = value()?.parse().context("--listen expects HOST:PORT")?,
            "--state-dir" => cli.state_dir = Some(value()?.into()),
            "--tick" => cli.ticks.push(parse_tick(&value()?)?),
            "--tick-token-variable" => cli.tick_token_variable = value()?,
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(cli))
}

fn main() {
    let cli = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cli)) => cli,
        Ok(None) => return,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(server::run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Result<Option<Cli>> {
        parse_args(s.iter().map(|s| s.to_string()))
    }

    #[test]
    fn cli_parsing() {
        let c = args(&[]).unwrap().unwrap();
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
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.ticks, vec![("/api/holds/tick".into(), Duration::from_secs(2)), ("/x".into(), Duration::from_millis(500))]);
        assert_eq!(c.state_dir, Some(PathBuf::from("/tmp/s")));
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--tick", "nopath=1"]).is_err());
        assert!(args(&["--tick", "/a=0"]).is_err());
        assert!(args(&["--listen"]).is_err());
    }
}
