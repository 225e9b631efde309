//! The HTTP trigger: load the app, pre-instantiate components, route each
//! request to a fresh instance, add Spin's `spin-*` headers.

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
            Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("cannot read runtime config {}", p.display()))?),
            None => None,
        };
        let rc_path = cli.runtime_config.as_deref().map(std::path::absolute).transpose()?;
        let state_dir = cli.state_dir.as_deref().map(std::path::absolute).transpose()?;
        let rc = manifest::resolve_runtime_config(rc_text.as_deref(), rc_path.as_deref(), state_dir.as_deref(), &app.dir)
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
            let allowed_hosts = AllowedHosts::parse(&rendered_hosts).with_context(|| format!("component {id:?}"))?;
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

    /// Build the guest request: the client's headers, then Spin's `spin-*`
    /// headers appended after them.
    fn prepare_request(
        mut req: http::Request<WasiBody>,
        m: &RouteMatch,
        client: SocketAddr,
    ) -> Result<http::Request<WasiBody>> {
        req.headers_mut().remove(http::header::CONNECTION);
        // A chained request carries its `<component>.spin.internal` authority
        // in the URI (its Host header was dropped); a client's in `Host`.
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
            .unwrap_or_else(|| "localhost".to_string());
        let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let scheme = req.uri().scheme_str().unwrap_or("http").to_string();
        let full_url = format!("{scheme}://{host}{path_and_query}");
        *req.uri_mut() = format!("http://{host}{path_and_query}").parse().context("request URI")?;
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
        Ok(req)
    }

    async fn run_matched(
        self: &Arc<Self>,
        req: http::Request<WasiBody>,
        m: RouteMatch,
        client: SocketAddr,
        via: &str,
    ) -> http::Response<WasiBody> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let resp = match Self::prepare_request(req, &m, client) {
            Ok(req) => self.invoke(&m.component, req).await,
            Err(e) => Err(e),
        };
        let resp = resp.unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            problem(500, "Internal Server Error", &format!("component {} failed to handle the request", m.component))
        });
        eprintln!(
            "{via}{method} {path} -> {} {} {}ms",
            m.component,
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
        resp
    }

    /// A request from outside: route it (private routes are not routable).
    pub async fn handle(self: &Arc<Self>, mut req: http::Request<WasiBody>, client: SocketAddr) -> http::Response<WasiBody> {
        strip_chaining_authority(&mut req);
        match self.router.route(req.uri().path()) {
            Some(m) => self.run_matched(req, m, client, "").await,
            None => {
                eprintln!("{} {} -> (no route) 404", req.method(), req.uri().path());
                problem(404, "Not Found", &format!("no route matches {}", req.uri().path()))
            }
        }
    }

    /// Service chaining: `http://<id>.spin.internal/...`, in process.
    pub async fn dispatch_chained(self: &Arc<Self>, id: &str, req: http::Request<WasiBody>) -> http::Response<WasiBody> {
        let m = RouteMatch::synthetic(id, req.uri().path());
        self.run_matched(req, m, ([127, 0, 0, 1], 0).into(), "(chained) ").await
    }

    /// A relative URL from a component: back into this app's router.
    pub async fn dispatch_self(self: &Arc<Self>, req: http::Request<WasiBody>) -> http::Response<WasiBody> {
        Box::pin(self.handle(req, ([127, 0, 0, 1], 0).into())).await
    }
}

/// True for `<component>.spin.internal` (with or without a port), the hosts
/// that only service chaining may use.
fn is_chaining_host(authority: &str) -> bool {
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            authority
        }
    });
    host.to_ascii_lowercase().ends_with(crate::outbound_http::CHAINING_SUFFIX)
}

/// A request from outside must not pass for a chained one: as Spin does, a
/// `Host` header naming a `*.spin.internal` host is removed, and so is such
/// an authority in an absolute-form request target (`POST
/// http://booking.spin.internal/... HTTP/1.1`), so `spin-full-url` names
/// the real listener and components can trust it.
fn strip_chaining_authority(req: &mut http::Request<WasiBody>) {
    let forged_host = req
        .headers()
        .get_all(http::header::HOST)
        .iter()
        .any(|h| h.to_str().map(is_chaining_host).unwrap_or(true));
    if forged_host {
        req.headers_mut().remove(http::header::HOST);
    }
    if req.uri().authority().is_some_and(|a| is_chaining_host(a.as_str())) {
        let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        if let Ok(uri) = path.parse() {
            *req.uri_mut() = uri;
        }
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

/// An RFC 9457 problem+json response.
pub fn problem(status: u16, title: &str, detail: &str) -> http::Response<WasiBody> {
    let body = serde_json::json!({ "type": "about:blank", "title": title, "status": status, "detail": detail });
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/problem+json")
        .body(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed_unsync())
        .expect("static response")
}

/// Start everything and serve until killed.
pub async fn run(cli: Cli) -> Result<()> {
    let runtime = Arc::new(Runtime::load(&cli)?);
    let listener = tokio::net::TcpListener::bind(cli.listen).await.with_context(|| format!("cannot listen on {}", cli.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "boxoffice-runner listening on http://{addr}")?;
        out.flush()?;
    }
    if !cli.ticks.is_empty() {
        let token = runtime.app_variables.get(&cli.tick_token_variable).map(str::to_string);
        if token.is_none() {
            eprintln!("warning: app variable {:?} has no value; ticks are sent without Authorization", cli.tick_token_variable);
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
        // Small responses on a kept-alive connection otherwise wait for the
        // peer's delayed ACK (Nagle, RFC 896): ~40 ms per request.
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("set TCP_NODELAY failed: {e}");
        }
        let runtime = runtime.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let runtime = runtime.clone();
                async move {
                    let req = req.map(|b| b.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
                    let resp = runtime.handle(req, client).await;
                    Ok::<_, std::convert::Infallible>(resp.map(|b| b.map_err(|e| BodyError(format!("{e:?}")))))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                if !e.is_incomplete_message() {
                    eprintln!("connection from {client}: {e}");
                }
            }
        });
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
    use super::is_chaining_host;

    #[test]
    fn chaining_hosts_are_recognised_with_or_without_port() {
        assert!(is_chaining_host("booking.spin.internal"));
        assert!(is_chaining_host("Booking.Spin.Internal:80"));
        assert!(!is_chaining_host("127.0.0.1:3000"));
        assert!(!is_chaining_host("spin.internal.example.com"));
        assert!(!is_chaining_host("localhost"));
    }
}
