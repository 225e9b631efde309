//! Outbound HTTP: `allowed_outbound_hosts` enforcement and service chaining.
//!
//! Allowed-host entries have the form `scheme://host[:port]` where scheme,
//! host (as a `*.` prefix or whole) and port (`*`, a number or `a..b`) may be
//! wildcards; `http://self` / `*://self` allow requests back into this app
//! (`http://self.alt/<path>`, sent to the runner's own listener as Spin
//! 4.0.2 crates/factor-outbound-http/src/wasi.rs does); `*.spin.internal`
//! hosts name components for in-process service chaining.
//! `insecure:allow-all` allows everything. A request to a host not allowed
//! fails with `HttpRequestDenied`, as in Spin.

use std::future::Future;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

/// The domain of service-chaining hosts, `<id>.spin.internal`.
const CHAINING_SUFFIX: &str = ".spin.internal";

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    AnySubdomain(String),
    ToSelf,
    Literal(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" => Some(6379),
        "mysql" => Some(3306),
        "postgres" => Some(5432),
        "mqtt" => Some(1883),
        _ => None,
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<Self> {
        let entry = entry.trim();
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!(
                "{entry:?} is not an allowed outbound host: use <scheme>://<host>[:<port>] (e.g. https://example.com)"
            );
        };
        if scheme != "*" && (scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphabetic())) {
            bail!("{entry:?}: invalid scheme");
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            bail!("{entry:?}: must not include a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
            _ => (rest, None),
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if host == "self" || host == "self.alt" {
            HostPattern::ToSelf
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') || domain.is_empty() {
                bail!("{entry:?}: wildcards are allowed only as a `*.` prefix");
            }
            HostPattern::AnySubdomain(format!(".{domain}"))
        } else if host.contains('*') || host.is_empty() {
            bail!("{entry:?}: wildcards are allowed only as a `*.` prefix");
        } else {
            HostPattern::Literal(host)
        };
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(p) if p.contains("..") => {
                let (a, b) = p.split_once("..").unwrap_or_default();
                let a: u16 = a.parse().with_context(|| format!("{entry:?}: bad port range"))?;
                let b: u16 = b.parse().with_context(|| format!("{entry:?}: bad port range"))?;
                PortPattern::Range(a, b.saturating_sub(1))
            }
            Some(p) => {
                let n: u16 = p.parse().with_context(|| format!("{entry:?}: port {p:?} is not a number"))?;
                PortPattern::Range(n, n)
            }
            None if scheme == "*" => PortPattern::Any,
            None => match default_port(scheme) {
                Some(n) => PortPattern::Range(n, n),
                None => bail!("{entry:?}: no port given and scheme {scheme:?} has no default port"),
            },
        };
        let scheme = (scheme != "*").then(|| scheme.to_string());
        Ok(AllowedHost { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::AnySubdomain(suffix) => host.ends_with(suffix.as_str()),
            HostPattern::Literal(l) => *l == host,
            HostPattern::ToSelf => false,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Range(a, b) => match port.or_else(|| default_port(scheme)) {
                Some(p) => a <= p && p <= b,
                None => false,
            },
        };
        host_ok && port_ok
    }

    fn allows_relative(&self) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|s| s == "http" || s == "https");
        scheme_ok && matches!(self.host, HostPattern::Any | HostPattern::ToSelf)
    }
}

/// A component's parsed `allowed_outbound_hosts`.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    allow_all: bool,
    entries: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Parse a component's `allowed_outbound_hosts` (templates already
    /// rendered). A `*.spin.internal` entry stands for the app's components
    /// only, one `<id>.spin.internal` per id in `component_ids`, as Spin
    /// 4.0.2 crates/outbound-networking-config/src/allowed_hosts.rs
    /// `expand_wildcard_service_chaining` expands it: chaining to any other
    /// name is denied.
    ///
    /// Errors: an entry that is not `scheme://host[:port]` (named).
    pub fn parse(entries: &[String], component_ids: &[String]) -> Result<Self> {
        let mut out = AllowedHosts::default();
        for e in entries {
            if e == "insecure:allow-all" {
                out.allow_all = true;
                continue;
            }
            let entry = AllowedHost::parse(e)?;
            if entry.host == HostPattern::AnySubdomain(CHAINING_SUFFIX.to_string()) {
                for id in component_ids {
                    let host = HostPattern::Literal(format!("{id}{CHAINING_SUFFIX}"));
                    out.entries.push(AllowedHost { host, ..entry.clone() });
                }
            } else {
                out.entries.push(entry);
            }
        }
        Ok(out)
    }

    /// Is an absolute URL with this scheme/host/port allowed?
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.allow_all || self.entries.iter().any(|e| e.allows(scheme, host, port))
    }

    /// Is a relative URL (a request to this app itself) allowed?
    pub fn allows_relative(&self) -> bool {
        self.allow_all || self.entries.iter().any(AllowedHost::allows_relative)
    }
}

/// Where an outbound request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Destination {
    /// `http://<component>.spin.internal/...`: that component, in process.
    Chained(String),
    /// `http://self.alt/...` (or a relative URL): this app, through its
    /// own listener, as a request from outside.
    SelfApp,
    /// Anywhere else: the network.
    Network,
}

/// Decide whether a request may go out and where to.
pub fn classify(allowed: &AllowedHosts, uri: &http::Uri) -> Result<Destination, wasmtime_wasi_http::Error> {
    // A relative URL reaches the hooks with an empty authority (Spin 4.0.2
    // crates/factor-outbound-http/src/wasi.rs undoes that the same way).
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return if allowed.allows_relative() {
            Ok(Destination::SelfApp)
        } else {
            Err(wasmtime_wasi_http::Error::HttpRequestDenied)
        };
    };
    if host == "self.alt" {
        return if allowed.allows_relative() {
            Ok(Destination::SelfApp)
        } else {
            Err(wasmtime_wasi_http::Error::HttpRequestDenied)
        };
    }
    let scheme = uri.scheme_str().unwrap_or("http");
    if !allowed.allows(scheme, host, uri.port_u16()) {
        return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
    }
    // Spin 4.0.2 crates/trigger-http/src/outbound_http.rs: only
    // `<id>.spin.internal` (Spin's exact rule) is chained; other hosts go out.
    match crate::server::chaining_target(host.trim()) {
        Some(component) => Ok(Destination::Chained(component.to_string())),
        None => Ok(Destination::Network),
    }
}

/// The wasi-http hooks for one component instance.
pub struct OutboundHooks {
    pub runtime: Arc<crate::server::Runtime>,
    pub component: String,
    pub allowed: Arc<AllowedHosts>,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let dest = classify(&self.allowed, request.uri());
        let runtime = self.runtime.clone();
        let from = self.component.clone();
        Box::new(async move {
            let done: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send> =
                Box::new(async { Ok(()) });
            match dest {
                Err(e) => {
                    eprintln!(
                        "outbound request from {from:?} to {} denied: not in allowed_outbound_hosts",
                        request.uri()
                    );
                    Err(e)
                }
                Ok(Destination::Chained(component)) => {
                    if !runtime.has_component(&component) {
                        return Err(wasmtime_wasi_http::Error::DestinationNotFound);
                    }
                    // Spin removes the Host header of every outbound request
                    // (Spin 4.0.2 crates/factor-outbound-http/src/wasi.rs
                    // `prepare_request`) before chaining it.
                    request.headers_mut().remove(http::header::HOST);
                    request.headers_mut().remove(http::header::CONNECTION);
                    match runtime.dispatch_chained(&component, request).await {
                        Ok(resp) => Ok((resp, done)),
                        Err(refused) => Err(wasmtime_wasi_http::Error::InternalError(Some(refused.to_string()))),
                    }
                }
                Ok(Destination::SelfApp) => {
                    // Spin sends it to its own listen address, Host and all
                    // naming that address.
                    let Some(origin) = runtime.listen_addr() else {
                        return Err(wasmtime_wasi_http::Error::HttpRequestUriInvalid);
                    };
                    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
                    *request.uri_mut() = format!("http://{origin}{path}")
                        .parse()
                        .map_err(|_| wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
                    let host =
                        http::HeaderValue::try_from(origin.to_string()).expect("a socket address is a header value");
                    request.headers_mut().insert(http::header::HOST, host);
                    let (resp, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
                    use http_body_util::BodyExt;
                    let io: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send> = Box::new(io);
                    Ok((resp.map(BodyExt::boxed_unsync), io))
                }
                Ok(Destination::Network) => {
                    let (resp, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
                    use http_body_util::BodyExt;
                    let io: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send> = Box::new(io);
                    Ok((resp.map(BodyExt::boxed_unsync), io))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> AllowedHosts {
        let components = ["worker".to_string(), "anything".to_string()];
        AllowedHosts::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &components).unwrap()
    }

    fn dest(h: &AllowedHosts, url: &str) -> Result<Destination, String> {
        classify(h, &url.parse().unwrap()).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn allowed_host_matching() {
        let h = hosts(&["https://api.example.com", "http://localhost:3000", "https://*.stripe.test", "*://any.test:*"]);
        assert!(h.allows("https", "api.example.com", None));
        assert!(h.allows("https", "api.example.com", Some(443)));
        assert!(!h.allows("https", "api.example.com", Some(8443)));
        assert!(!h.allows("http", "api.example.com", None));
        assert!(h.allows("http", "localhost", Some(3000)));
        assert!(!h.allows("http", "localhost", None));
        assert!(h.allows("https", "a.stripe.test", None));
        assert!(h.allows("https", "a.b.stripe.test", None));
        assert!(!h.allows("https", "stripe.test", None));
        assert!(h.allows("http", "any.test", Some(1234)));
        assert!(h.allows("https", "ANY.test", None));
        assert!(!h.allows_relative());
        let ranges = hosts(&["http://127.0.0.1:8000..8010"]);
        assert!(ranges.allows("http", "127.0.0.1", Some(8005)));
        assert!(!ranges.allows("http", "127.0.0.1", Some(8010)));
        let all = hosts(&["insecure:allow-all"]);
        assert!(all.allows("https", "whatever.example", Some(1)) && all.allows_relative());
        let star = hosts(&["*://*:*"]);
        assert!(star.allows("http", "x.y", Some(9)) && star.allows_relative());
    }

    #[test]
    fn bad_entries_are_rejected() {
        for bad in ["example.com", "https://exa*mple.com", "https://example.com/path", "https://x:notaport", "ftp://x"]
        {
            assert!(AllowedHosts::parse(&[bad.to_string()], &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn classification() {
        let h = hosts(&["http://worker.spin.internal", "https://api.example.com", "http://self"]);
        assert_eq!(dest(&h, "http://worker.spin.internal/x"), Ok(Destination::Chained("worker".into())));
        assert_eq!(dest(&h, "https://api.example.com/v1"), Ok(Destination::Network));
        assert_eq!(dest(&h, "/api/relative"), Ok(Destination::SelfApp));
        assert_eq!(dest(&h, "http://self.alt/api/x"), Ok(Destination::SelfApp));
        let no_self = hosts(&["https://api.example.com"]);
        assert!(dest(&no_self, "http://self.alt/x").unwrap_err().contains("HttpRequestDenied"));
        assert!(dest(&h, "http://other.spin.internal/").unwrap_err().contains("HttpRequestDenied"));
        assert!(dest(&h, "https://evil.example.com/").unwrap_err().contains("HttpRequestDenied"));
        let wild = hosts(&["http://*.spin.internal"]);
        assert_eq!(dest(&wild, "http://anything.spin.internal/"), Ok(Destination::Chained("anything".into())));
        // The wildcard names the app's components only.
        assert!(dest(&wild, "http://nope.spin.internal/").unwrap_err().contains("HttpRequestDenied"));
        assert!(dest(&wild, "http://a.worker.spin.internal/").unwrap_err().contains("HttpRequestDenied"));
        assert!(dest(&wild, "/relative").is_err());
    }
}
