//! The HTTP trigger: load the app, pre-instantiate components, route each
//! request to a fresh instance, add Spin's `spin-*` headers.
//!
//! What a component or a client can observe follows Spin 4.0.2
//! (crates/trigger-http/src/server.rs, headers.rs, outbound_http.rs):
//!
//! * a request from outside whose `Host` names `<id>.spin.internal` loses
//!   that header; a routed request left without an authority (or whose
//!   `Host` and absolute-form target disagree) gets its connection closed
//!   with no answer;
//! * `/.well-known/spin/health` and `/.well-known/spin/info` are answered
//!   by the host; an unmatched route is a 404 and a failed component a 500,
//!   both with an empty body;
//! * a chained request (`http://<id>.spin.internal/...`) has no `Host`, so
//!   `spin-full-url` is `http://localhost/<path>`, comes from `0.0.0.0:0`
//!   and is matched as by the route `/...`;
//! * accepted sockets keep Nagle's algorithm (no `TCP_NODELAY`), as Spin's
//!   do. A response written in several small pieces (a streamed body) holds
//!   each later piece until the client ACKs the earlier one, and a client
//!   that delays its ACKs (Linux does, up to ~40 ms) stalls that long,
//!   typically on kept-alive connections. The runner is as slow there as
//!   Spin; load tests that care measure with one request per connection or
//!   a client that ACKs at once.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpView};

use crate::files::Preopen;
use crate::key_value::{KvManager, KvState};
use crate::manifest::{self, RouteConfig, StoreLocation};
use crate::outbound_http::{AllowedHosts, OutboundHooks};
use crate::router::{RouteMatch, Router};
use crate::sqlite::SqliteState;
use crate::variables::{AppVariables, ComponentVariables, VariablesState};
use crate::{Cli, HostState};

struct ComponentRuntime {
    pre: ProxyPre<HostState>,
    variables: Arc<ComponentVariables>,
    allowed_hosts: Arc<AllowedHosts>,
    kv_allowed: Arc<Vec<String>>,
    sqlite_allowed: Arc<Vec<String>>,
    preopens: Vec<Preopen>,
    environment: Vec<(String, String)>,
}

/// The loaded application, shared by every request.
pub struct Runtime {
    engine: Engine,
    router: Router,
    components: HashMap<String, ComponentRuntime>,
    kv: Arc<KvManager>,
    sqlite_locations: Arc<BTreeMap<String, StoreLocation>>,
    pub app_variables: AppVariables,
    /// `[application] name` and `version` (empty when absent), for
    /// `/.well-known/spin/info`.
    app_name: String,
    app_version: String,
    listen: std::sync::OnceLock<SocketAddr>,
}

fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(1000)
        .total_core_instances(4000)
        .total_memories(1000)
        .total_tables(4000)
        .total_stacks(1000)
        .max_core_instances_per_component(64)
        .max_memories_per_component(16)
        .max_tables_per_component(64)
        .table_elements(100_000)
        .max_memory_size(1 << 30);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // `BOXOFFICE_RUNNER_PROFILE=perfmap` writes /tmp/perf-<pid>.map so that
    // `perf record -p <pid>` / `perf report` name the components' functions.
    if std::env::var("BOXOFFICE_RUNNER_PROFILE").is_ok_and(|v| v == "perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    // Compiled components are cached on disk, so a restart does not recompile.
    match wasmtime::Cache::from_file(None) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => eprintln!("warning: compilation cache disabled: {e}"),
    }
    Engine::new(&config).map_err(|e| anyhow!("{e:#}"))
}

impl Runtime {
    /// Load and validate everything; any problem is a startup error.
    pub fn load(cli: &Cli) -> Result<Self> {
        let app = manifest::load_manifest(&cli.manifest)?;
        let rc_text = match &cli.runtime_config {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("cannot read runtime config {}", p.display()))?,
            ),
            None => None,
        };
        let rc_path = cli.runtime_config.as_deref().map(std::path::absolute).transpose()?;
        let state_dir = cli.state_dir.as_deref().map(std::path::absolute).transpose()?;
        let rc =
            manifest::resolve_runtime_config(rc_text.as_deref(), rc_path.as_deref(), state_dir.as_deref(), &app.dir)
                .with_context(|| "runtime config".to_string())?;
        manifest::check_labels(&app, &rc)?;
        let app_variables = AppVariables::resolve(&app, |k| std::env::var(k).ok())?;
        manifest::check_sources(&app)?;

        let routes: Vec<(&str, &str)> = app
            .triggers
            .iter()
            .filter_map(|t| match &t.route {
                RouteConfig::Route(r) => Some((r.as_str(), t.component.as_str())),
                RouteConfig::Private => None,
            })
            .collect();
        let router = Router::build(routes)?;

        let engine = engine()?;
        let mut base_linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut base_linker).map_err(|e| anyhow!("{e:#}"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut base_linker).map_err(|e| anyhow!("{e:#}"))?;
        crate::bindings::Host_::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut base_linker, |s| s)
            .map_err(|e| anyhow!("{e:#}"))?;

        let staging_root = rc.state_dir.join("files");
        let component_ids: Vec<String> = app.components.keys().cloned().collect();
        let mut components = HashMap::new();
        for (id, c) in &app.components {
            let started = Instant::now();
            let component = Component::from_file(&engine, &c.source)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| format!("component {id:?}: cannot load {}", c.source.display()))?;
            let mut linker = base_linker.clone();
            // Interfaces Spin offers but the runner does not (e.g. redis, llm) trap when called.
            define_unsupported(&mut linker, &engine, &component)?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| format!("component {id:?}: cannot link"))?;
            let pre = ProxyPre::new(pre)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| format!("component {id:?} does not export wasi:http/incoming-handler"))?;
            let variables = ComponentVariables::resolve(&c.variables, &app_variables)
                .with_context(|| format!("component {id:?}"))?;
            let rendered_hosts = c
                .allowed_outbound_hosts
                .iter()
                .map(|h| app_variables.render(h))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("component {id:?}: allowed_outbound_hosts"))?;
            let allowed_hosts =
                AllowedHosts::parse(&rendered_hosts, &component_ids).with_context(|| format!("component {id:?}"))?;
            let preopens = crate::files::prepare(id, &c.files, &c.exclude_files, &app.dir, &staging_root.join(id))?;
            eprintln!("loaded component {id} ({} ms)", started.elapsed().as_millis());
            components.insert(
                id.clone(),
                ComponentRuntime {
                    pre,
                    variables: Arc::new(variables),
                    allowed_hosts: Arc::new(allowed_hosts),
                    kv_allowed: Arc::new(c.key_value_stores.clone()),
                    sqlite_allowed: Arc::new(c.sqlite_databases.clone()),
                    preopens,
                    environment: c.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                },
            );
        }
        let kv = Arc::new(KvManager::new(&rc.key_value).context("key-value stores")?);
        Ok(Runtime {
            engine,
            router,
            components,
            kv,
            sqlite_locations: Arc::new(rc.sqlite),
            app_variables,
            app_name: app.name.clone(),
            app_version: app.version.clone(),
            listen: std::sync::OnceLock::new(),
        })
    }

    pub fn has_component(&self, id: &str) -> bool {
        self.components.contains_key(id)
    }

    fn host_state(self: &Arc<Self>, id: &str, c: &ComponentRuntime) -> Result<HostState> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(std::io::stderr()).inherit_stderr();
        for (k, v) in &c.environment {
            wasi.env(k, v);
        }
        for p in &c.preopens {
            wasi.preopened_dir(&p.host, &p.guest, FsPerms::ReadOnly)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| format!("mounting {}", p.host.display()))?;
        }
        Ok(HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks { runtime: self.clone(), component: id.to_string(), allowed: c.allowed_hosts.clone() },
            kv: KvState { manager: self.kv.clone(), allowed: c.kv_allowed.clone() },
            sqlite: SqliteState { locations: self.sqlite_locations.clone(), allowed: c.sqlite_allowed.clone() },
            variables: VariablesState { vars: c.variables.clone() },
        })
    }

    /// Run one request through a fresh instance of `id`.
    async fn invoke(self: &Arc<Self>, id: &str, req: http::Request<WasiBody>) -> Result<http::Response<WasiBody>> {
        let c = self.components.get(id).with_context(|| format!("no component {id:?}"))?;
        let mut store = Store::new(&self.engine, self.host_state(id, c)?);
        let pre = c.pre.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            let req = store.data_mut().http().new_incoming_request(Scheme::Http, req)?;
            let out = store.data_mut().http().new_response_outparam(tx)?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await
        });
        match rx.await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(code)) => bail!("component {id:?} answered with error {code:?}"),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("component {id:?} returned without setting a response"),
                Ok(Err(e)) => Err(anyhow!("component {id:?} failed: {e:?}")),
                Err(e) => Err(anyhow!("component {id:?} task failed: {e}")),
            },
        }
    }

    /// Build the guest request as Spin's WASI HTTP executor does (Spin 4.0.2
    /// crates/trigger-http/src/server.rs `set_req_uri`, headers.rs
    /// `prepare_request_headers`, wasi.rs `prepare_request`):
    ///
    /// * the URI becomes `http://<authority><path-and-query>`, the authority
    ///   taken from the `Host` header or the request target (see
    ///   [`request_authority`]); without one the request is [`Refused`];
    /// * the client's headers stay, in order (a value that is not UTF-8
    ///   fails the request: a 500), then Spin's `spin-*` headers are appended
    ///   after them (take the last value);
    /// * `spin-full-url` is `http://<Host header><path-and-query>`, with
    ///   `localhost` when there is no `Host` header, as for every chained
    ///   request (Spin removes its `Host`).
    fn prepare_request(
        mut req: http::Request<WasiBody>,
        m: &RouteMatch,
        client: SocketAddr,
    ) -> Result<std::result::Result<http::Request<WasiBody>, Refused>> {
        let authority = match request_authority(&req) {
            Ok(a) => a,
            Err(refused) => return Ok(Err(refused)),
        };
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        *req.uri_mut() = format!("http://{authority}{path_and_query}").parse().context("request URI")?;
        for value in req.headers().values() {
            value.to_str().context("a request header value is not UTF-8")?;
        }
        let host = match req.headers().get(http::header::HOST) {
            Some(h) => h.to_str().context("Host header")?.to_string(),
            None => "localhost".to_string(),
        };
        let full_url = format!("http://{host}{path_and_query}");
        let mut extra: Vec<(String, String)> = vec![
            ("spin-path-info".into(), m.path_info.clone()),
            ("spin-full-url".into(), full_url),
            ("spin-matched-route".into(), m.based_route.clone()),
            ("spin-base-path".into(), "/".into()),
            ("spin-raw-component-route".into(), m.raw_route.clone()),
            ("spin-component-route".into(), m.component_route().to_string()),
            ("spin-client-addr".into(), client.to_string()),
        ];
        for (name, value) in &m.params {
            extra.push((format!("spin-path-match-{}", name.to_ascii_lowercase()), value.clone()));
        }
        let headers = req.headers_mut();
        for (k, v) in extra {
            headers.append(http::HeaderName::try_from(k)?, http::HeaderValue::try_from(v)?);
        }
        Ok(Ok(req))
    }

    /// Run a routed request; a component that fails (traps, returns
    /// without a response, answers with an error code) is a 500 with an
    /// empty body, as in Spin 4.0.2 crates/trigger-http/src/server.rs
    /// (`respond_wasm_component` → `internal_error(None, ..)`).
    async fn run_matched(
        self: &Arc<Self>,
        req: http::Request<WasiBody>,
        m: RouteMatch,
        client: SocketAddr,
        via: &str,
    ) -> std::result::Result<http::Response<WasiBody>, Refused> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let resp = match Self::prepare_request(req, &m, client) {
            Ok(Ok(req)) => self.invoke(&m.component, req).await,
            Ok(Err(refused)) => {
                eprintln!("{via}{method} {path} -> {} refused: {refused}", m.component);
                return Err(refused);
            }
            Err(e) => Err(e),
        };
        let resp = resp.unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            empty_response(500)
        });
        eprintln!(
            "{via}{method} {path} -> {} {} {}ms",
            m.component,
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
        Ok(resp)
    }

    /// A request from outside, handled in Spin 4.0.2's order
    /// (crates/trigger-http/src/server.rs `HttpServer::handle`):
    ///
    /// 1. a `Host` header naming `<id>.spin.internal` is removed
    ///    ([`strip_forbidden_host`]);
    /// 2. `/.well-known/spin/health` and `/.well-known/spin/info` are
    ///    answered by the host itself, any other `/.well-known/spin/...` is a
    ///    404 ([`Runtime::well_known`]);
    /// 3. an unmatched path is a 404 with an empty body (private routes are
    ///    not routable);
    /// 4. a matched request without an authority (no `Host` left and an
    ///    origin-form target), or whose `Host` differs from the authority of
    ///    an absolute-form target, is [`Refused`]: the caller must close the
    ///    connection without answering.
    pub async fn handle(
        self: &Arc<Self>,
        mut req: http::Request<WasiBody>,
        client: SocketAddr,
    ) -> std::result::Result<http::Response<WasiBody>, Refused> {
        strip_forbidden_host(req.headers_mut());
        let path = req.uri().path().to_string();
        if let Some(name) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return Ok(self.well_known(name));
        }
        match self.router.route(&path) {
            Some(m) => self.run_matched(req, m, client, "").await,
            None => {
                eprintln!("{} {path} -> (no route) 404", req.method());
                Ok(empty_response(404))
            }
        }
    }

    /// Spin's own endpoints under `/.well-known/spin/` (Spin 4.0.2
    /// crates/trigger-http/src/server.rs `handle` and `app_info`,
    /// crates/http/src/app_info.rs): `health` is `200 OK` with the body
    /// `OK` and no content type; `info` is the app's `name` and `version`
    /// (left out when the manifest has none) as pretty-printed JSON,
    /// `content-type: application/json`; anything else a 404 with an empty
    /// body. They shadow any route of the app.
    fn well_known(&self, name: &str) -> http::Response<WasiBody> {
        match name {
            "health" => http::Response::new(full_body(Bytes::from_static(b"OK"))),
            "info" => {
                let mut info = serde_json::json!({ "name": self.app_name });
                if !self.app_version.is_empty() {
                    info["version"] = self.app_version.clone().into();
                }
                let body = serde_json::to_vec_pretty(&info).expect("JSON of two strings");
                http::Response::builder()
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(full_body(Bytes::from(body)))
                    .expect("static response")
            }
            _ => empty_response(404),
        }
    }

    /// Service chaining: `http://<id>.spin.internal/...`, in process, as
    /// Spin 4.0.2 crates/trigger-http/src/outbound_http.rs does it: the
    /// request (its `Host` already removed) is matched as if by the route
    /// `/...` ([`RouteMatch::synthetic`]: `spin-path-info` is the whole
    /// path, `spin-matched-route` and `spin-raw-component-route` are `/...`,
    /// `spin-component-route` is empty) and comes from `0.0.0.0:0`.
    pub async fn dispatch_chained(
        self: &Arc<Self>,
        id: &str,
        req: http::Request<WasiBody>,
    ) -> std::result::Result<http::Response<WasiBody>, Refused> {
        let m = RouteMatch::synthetic(id, req.uri().path());
        self.run_matched(req, m, CHAINED_CLIENT_ADDR, "(chained) ").await
    }

    /// The address the runner listens on, once it does: where requests a
    /// component sends to `http://self.alt/...` go.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.get().copied()
    }
}

/// The prefix of the paths Spin answers itself (Spin 4.0.2
/// crates/routes/src/lib.rs `WELL_KNOWN_PREFIX`).
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The client address a chained request carries in `spin-client-addr`
/// (Spin 4.0.2 crates/trigger-http/src/outbound_http.rs `CHAINED_CLIENT_ADDR`).
pub const CHAINED_CLIENT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// A request Spin gives no answer: the connection it came on is closed
/// without a response. The text says why (for the log only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The component id a `<id>.spin.internal[:port]` host names, by Spin's
/// rule (Spin 4.0.2 crates/outbound-networking-config/src/allowed_hosts.rs
/// `parse_service_chaining_host`): a port is cut at the last `:`, the rest
/// must be one label, a dot, then exactly `spin.internal` (case matters:
/// `a.b.spin.internal` and `X.SPIN.INTERNAL` are not chaining hosts).
pub fn chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (rest == "spin.internal").then_some(first)
}

/// Spin 4.0.2 crates/trigger-http/src/headers.rs `strip_forbidden_headers`:
/// when the (first) `Host` header of a request from outside names a
/// chaining host, every `Host` header is removed, so no outside request
/// passes for a chained one.
fn strip_forbidden_host(headers: &mut http::HeaderMap) {
    let forged =
        headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).is_some_and(|h| chaining_target(h).is_some());
    if forged {
        headers.remove(http::header::HOST);
    }
}

/// The authority a routed request is served under, as Spin 4.0.2
/// crates/trigger-http/src/server.rs `set_req_uri` decides it: the `Host`
/// header (which must be UTF-8 and a valid authority) or the authority of
/// the request target; when both are there they must be equal (compared
/// case-insensitively). Anything else is [`Refused`].
pub fn request_authority<B>(req: &http::Request<B>) -> std::result::Result<http::uri::Authority, Refused> {
    let from_header = match req.headers().get(http::header::HOST) {
        None => None,
        Some(h) => {
            let text = h.to_str().map_err(|_| Refused("'Host' header is not valid UTF-8".into()))?;
            let authority: http::uri::Authority =
                text.parse().map_err(|_| Refused("'Host' header contains an invalid authority".into()))?;
            Some(authority)
        }
    };
    match (from_header, req.uri().authority().cloned()) {
        (None, None) => Err(Refused("no 'Host' header present in request".into())),
        (Some(a), None) | (None, Some(a)) => Ok(a),
        (Some(header), Some(target)) if header == target => Ok(header),
        (Some(_), Some(_)) => Err(Refused("authority in 'Host' header does not match authority in URI".into())),
    }
}

/// Spin interfaces the runner serves itself (any version) or through WASI.
fn is_provided(import: &str) -> bool {
    let unversioned = import.split('@').next().unwrap_or(import);
    import.starts_with("wasi:")
        || matches!(
            unversioned,
            "fermyon:spin/key-value" | "fermyon:spin/variables" | "fermyon:spin/sqlite" | "spin:sqlite/sqlite"
        )
}

/// Marker for resources of interfaces the runner does not implement.
struct Unsupported;

/// Give interfaces the runner does not implement (redis, llm, postgres, ...)
/// stand-ins that trap when called, so components that merely import them
/// still load.
fn define_unsupported(linker: &mut Linker<HostState>, engine: &Engine, component: &Component) -> Result<()> {
    use wasmtime::component::types::ComponentItem;
    use wasmtime::component::ResourceType;
    for (name, item) in component.component_type().imports(engine) {
        if is_provided(name) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        let mut inst = linker.instance(name).map_err(|e| anyhow!("{e:#}"))?;
        for (export, ty) in instance.exports(engine) {
            let result = match ty.ty {
                ComponentItem::ComponentFunc(_) => {
                    let iface = name.to_string();
                    let func = export.to_string();
                    inst.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::format_err!("{iface}#{func} is not supported by boxoffice-runner"))
                    })
                }
                ComponentItem::Resource(_) => inst.resource(export, ResourceType::host::<Unsupported>(), |_, _| Ok(())),
                _ => Ok(()),
            };
            result.map_err(|e| anyhow!("{e:#}"))?;
        }
    }
    Ok(())
}

/// A response body of `bytes`, exactly sized (hyper sends `content-length`).
fn full_body(bytes: Bytes) -> WasiBody {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

/// A response with `status` and an empty body (`content-length: 0`), as
/// Spin answers an unmatched route (404) or a failed component (500):
/// Spin 4.0.2 crates/trigger-http/src/server.rs `not_found`, `internal_error`.
pub fn empty_response(status: u16) -> http::Response<WasiBody> {
    http::Response::builder().status(status).body(full_body(Bytes::new())).expect("static response")
}

/// Start everything and serve until killed.
///
/// Accepted sockets keep the kernel's defaults, as in Spin 4.0.2
/// (crates/trigger-http/src/server.rs `serve_http` sets no socket option):
/// Nagle's algorithm stays on (no `TCP_NODELAY`), so a client that sends
/// a second request on a kept-alive connection before it has ACKed the
/// previous small response waits for its delayed ACK, about 40 ms on Linux.
/// Connections speak HTTP/1.1 or, with prior knowledge, HTTP/2 (hyper-util's
/// auto builder, as Spin uses). A request that Spin would not answer
/// ([`Refused`]) closes its HTTP/1 connection (resets its HTTP/2 stream)
/// without a response.
pub async fn run(cli: Cli) -> Result<()> {
    let runtime = Arc::new(Runtime::load(&cli)?);
    let listener =
        tokio::net::TcpListener::bind(cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    let addr = listener.local_addr()?;
    let _ = runtime.listen.set(addr);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "boxoffice-runner listening on http://{addr}")?;
        out.flush()?;
    }
    if !cli.ticks.is_empty() {
        let token = runtime.app_variables.get(&cli.tick_token_variable).map(str::to_string);
        if token.is_none() {
            eprintln!(
                "warning: app variable {:?} has no value; ticks are sent without Authorization",
                cli.tick_token_variable
            );
        }
        crate::tick::spawn(runtime.clone(), cli.ticks.clone(), token);
    }
    loop {
        let (stream, client) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        let runtime = runtime.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let runtime = runtime.clone();
                async move {
                    let req = req.map(|b| b.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
                    // An error from the service makes hyper close the connection unanswered.
                    let resp = runtime.handle(req, client).await?;
                    let (head, body) = resp.into_parts();
                    let body = Primed::new(body.map_err(|e| BodyError(format!("{e:?}")))).await;
                    Ok::<_, Refused>(hyper::Response::from_parts(head, body))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            // HTTP/1.1, or HTTP/2 with prior knowledge (h2c), as Spin serves.
            let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder.serve_connection(io, service).await {
                let incomplete = e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_incomplete_message);
                if !incomplete {
                    eprintln!("connection from {client}: {e}");
                }
            }
        });
    }
}

/// A response body read ahead up to its end (or [`Primed::READ_AHEAD`]
/// bytes) before hyper gets it, so that hyper writes the head, the body and
/// its end (the last chunk of a chunked body) in one write: one TCP segment
/// for a small response, as Spin 4.0.2 sends it. Handed over unread, hyper
/// wrote the head at once and the body or its last chunk a moment later;
/// with Nagle's algorithm on (Spin sets no TCP_NODELAY, and neither does
/// the runner) that second segment waited for the client's delayed ACK,
/// ~40 ms per request on a kept-alive connection.
struct Primed<B> {
    ready: std::collections::VecDeque<Result<hyper::body::Frame<Bytes>, BodyError>>,
    ended: bool,
    rest: B,
}

impl<B> Primed<B>
where
    B: hyper::body::Body<Data = Bytes, Error = BodyError> + Unpin,
{
    /// Bytes read ahead at most; a longer body streams on from there.
    const READ_AHEAD: usize = 64 * 1024;

    /// Reads `rest` until it ends, fails or [`Self::READ_AHEAD`] bytes are in.
    async fn new(mut rest: B) -> Self {
        let mut ready = std::collections::VecDeque::new();
        let mut bytes = 0;
        let mut ended = false;
        while bytes < Self::READ_AHEAD {
            match rest.frame().await {
                None => {
                    ended = true;
                    break;
                }
                Some(Err(e)) => {
                    ready.push_back(Err(e));
                    ended = true;
                    break;
                }
                Some(Ok(frame)) => {
                    bytes += frame.data_ref().map_or(0, Bytes::len);
                    ready.push_back(Ok(frame));
                }
            }
        }
        Primed { ready, ended, rest }
    }
}

impl<B> hyper::body::Body for Primed<B>
where
    B: hyper::body::Body<Data = Bytes, Error = BodyError> + Unpin,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, BodyError>>> {
        if let Some(frame) = self.ready.pop_front() {
            return std::task::Poll::Ready(Some(frame));
        }
        if self.ended {
            return std::task::Poll::Ready(None);
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ready.is_empty() && (self.ended || self.rest.is_end_stream())
    }

    /// The body's own hint plus what was read ahead, so hyper frames the
    /// response as it would have (`content-length` only where the body
    /// announced one, else chunked).
    fn size_hint(&self) -> hyper::body::SizeHint {
        let mut hint = self.rest.size_hint();
        let read: u64 =
            self.ready.iter().filter_map(|f| f.as_ref().ok()).map(|f| f.data_ref().map_or(0, |d| d.len() as u64)).sum();
        // upper first: set_lower panics above the current upper bound
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + read);
        }
        hint.set_lower(hint.lower() + read);
        hint
    }
}

/// A response body error surfaced to hyper.
#[derive(Debug)]
struct BodyError(String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaining_targets_follow_spins_rule() {
        assert_eq!(chaining_target("booking.spin.internal"), Some("booking"));
        assert_eq!(chaining_target("booking.spin.internal:80"), Some("booking"));
        assert_eq!(chaining_target("Booking.Spin.Internal"), None);
        assert_eq!(chaining_target("a.b.spin.internal"), None);
        assert_eq!(chaining_target("127.0.0.1:3000"), None);
        assert_eq!(chaining_target("spin.internal.example.com"), None);
        assert_eq!(chaining_target("localhost"), None);
    }

    fn req(uri: &str, host: Option<&str>) -> http::Request<()> {
        let mut b = http::Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header(http::header::HOST, h);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn authority_comes_from_host_or_target_and_they_must_agree() {
        assert_eq!(request_authority(&req("/a", Some("127.0.0.1:3000"))).unwrap(), "127.0.0.1:3000");
        assert_eq!(request_authority(&req("http://worker.spin.internal/a", None)).unwrap(), "worker.spin.internal");
        assert_eq!(request_authority(&req("http://Example.com/a", Some("example.com"))).unwrap(), "example.com");
        assert!(request_authority(&req("/a", None)).is_err());
        assert!(request_authority(&req("http://example.com/a", Some("127.0.0.1:3000"))).is_err());
        assert!(request_authority(&req("/a", Some("not a host"))).is_err());
    }

    #[test]
    fn a_forged_chaining_host_is_removed() {
        let mut h = http::HeaderMap::new();
        h.append(http::header::HOST, "worker.spin.internal".parse().unwrap());
        h.append(http::header::HOST, "127.0.0.1".parse().unwrap());
        strip_forbidden_host(&mut h);
        assert!(h.get(http::header::HOST).is_none());
        let mut h = http::HeaderMap::new();
        h.append(http::header::HOST, "127.0.0.1:3000".parse().unwrap());
        strip_forbidden_host(&mut h);
        assert_eq!(h.get(http::header::HOST).unwrap(), "127.0.0.1:3000");
    }
}
