//! HTTP route matching with Spin's rules.
//!
//! Routes are exact (`/a/b`), parameterised (`/a/:id`) or trailing-wildcard
//! (`/a/...`). When several match, the most specific wins: segment by
//! segment, a literal beats a `:param`, which beats the wildcard. A route
//! listed twice is served by its last listing. Private triggers have no
//! public route and are not in the router.

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct Entry {
    raw: String,
    based: String,
    component: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// The router for one application.
#[derive(Debug, Clone, Default)]
pub struct Router {
    entries: Vec<Entry>,
}

/// The outcome of routing one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: String,
    /// The route with the base applied (`spin-matched-route`).
    pub based_route: String,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
    /// What the trailing wildcard matched (`spin-path-info`).
    pub path_info: String,
}

impl RouteMatch {
    /// A match for a request that reached a component by service chaining.
    pub fn synthetic(component: &str, path: &str) -> Self {
        RouteMatch {
            component: component.to_string(),
            raw_route: "/...".into(),
            based_route: "/...".into(),
            params: Vec::new(),
            path_info: path.to_string(),
        }
    }

    /// `spin-component-route`: the raw route without its `/...` suffix.
    pub fn component_route(&self) -> &str {
        self.raw_route.strip_suffix("/...").unwrap_or(&self.raw_route)
    }
}

fn based(raw: &str) -> String {
    let abs = if raw.starts_with('/') { raw.to_string() } else { format!("/{raw}") };
    abs.strip_suffix('/').map(str::to_string).unwrap_or(abs)
}

fn parse(based: &str) -> Result<(Vec<Segment>, bool)> {
    let (prefix, wildcard) = match based.strip_suffix("/...") {
        Some(p) => (p, true),
        None if based == "..." => ("", true),
        None => (based, false),
    };
    let mut segments = Vec::new();
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        if seg.contains("...") {
            bail!("`...` is only allowed as the last segment of a route");
        }
        if let Some(name) = seg.strip_prefix(':') {
            if name.is_empty() {
                bail!("route parameter needs a name after ':'");
            }
            segments.push(Segment::Param(name.to_string()));
        } else {
            segments.push(Segment::Literal(seg.to_string()));
        }
    }
    Ok((segments, wildcard))
}

impl Router {
    /// Build from `(route, component)` pairs in manifest order.
    pub fn build<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut entries: Vec<Entry> = Vec::new();
        for (raw, component) in routes {
            let based = based(raw);
            let (segments, wildcard) =
                parse(&based).map_err(|e| anyhow::anyhow!("invalid route {raw:?} for component {component:?}: {e}"))?;
            let entry = Entry { raw: raw.to_string(), based, component: component.to_string(), segments, wildcard };
            // A duplicate route keeps its place but is served by the later component.
            if let Some(existing) = entries.iter_mut().find(|e| e.raw == entry.raw) {
                eprintln!(
                    "warning: route {:?} is listed for both {:?} and {:?}; {:?} serves it",
                    entry.raw, existing.component, entry.component, entry.component
                );
                *existing = entry;
            } else {
                entries.push(entry);
            }
        }
        Ok(Router { entries })
    }

    /// Route a request path (query string is ignored).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let path = path.split('?').next().unwrap_or("");
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(Vec<u8>, RouteMatch)> = None;
        for e in &self.entries {
            let Some(m) = Self::try_match(e, &segs, path) else { continue };
            let rank = Self::rank(e);
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, m));
            }
        }
        best.map(|(_, m)| m)
    }

    /// Lower is more specific: literal 0, param 1, end-of-route 1, wildcard 2.
    fn rank(e: &Entry) -> Vec<u8> {
        let mut r: Vec<u8> = e.segments.iter().map(|s| if matches!(s, Segment::Literal(_)) { 0 } else { 1 }).collect();
        r.push(if e.wildcard { 2 } else { 1 });
        r
    }

    fn try_match(e: &Entry, segs: &[&str], path: &str) -> Option<RouteMatch> {
        if segs.len() < e.segments.len() || (!e.wildcard && segs.len() != e.segments.len()) {
            return None;
        }
        let mut params = Vec::new();
        for (seg, pat) in segs.iter().zip(&e.segments) {
            match pat {
                Segment::Literal(l) if l == seg => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), seg.to_string())),
            }
        }
        let path_info = if e.wildcard {
            let rest = segs[e.segments.len()..].join("/");
            match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        } else {
            String::new()
        };
        Some(RouteMatch {
            component: e.component.clone(),
            raw_route: e.raw.clone(),
            based_route: e.based.clone(),
            params,
            path_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::build(routes.iter().map(|(r, c)| (*r, *c))).unwrap()
    }

    fn who(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn precedence_table() {
        let r = router(&[
            ("/...", "catchall"),
            ("/api/...", "api"),
            ("/api/events/...", "events"),
            ("/api/events/:id", "event-by-id"),
            ("/api/events/search", "search"),
            ("/api/events/:id/seats/...", "seats"),
            ("/exact", "exact"),
        ]);
        let table = [
            ("/", "catchall"),
            ("/anything/else", "catchall"),
            ("/api", "api"),
            ("/api/", "api"),
            ("/api/users/me", "api"),
            ("/api/events", "events"),
            ("/api/events/search", "search"),
            ("/api/events/e1", "event-by-id"),
            ("/api/events/e1/", "event-by-id"),
            ("/api/events/e1/more", "events"),
            ("/api/events/e1/seats", "seats"),
            ("/api/events/e1/seats/a/b", "seats"),
            ("/exact", "exact"),
            ("/exact/", "exact"),
            ("/exact/x", "catchall"),
            ("/api/events/search?q=1", "search"),
        ];
        for (path, want) in table {
            assert_eq!(who(&r, path).as_deref(), Some(want), "path {path}");
        }
    }

    #[test]
    fn order_of_declaration_does_not_matter() {
        let a = router(&[("/one/...", "1"), ("/one/two/...", "2"), ("/one/two/three/...", "3")]);
        let b = router(&[("/one/two/three/...", "3"), ("/one/two/...", "2"), ("/one/...", "1")]);
        for r in [a, b] {
            assert_eq!(who(&r, "/one/two/three/four").as_deref(), Some("3"));
            assert_eq!(who(&r, "/one/two/x").as_deref(), Some("2"));
            assert_eq!(who(&r, "/one").as_deref(), Some("1"));
        }
    }

    #[test]
    fn path_info_and_params() {
        let r = router(&[("/test/...", "t"), ("/1/:two/3", "p"), ("/1/:two/...", "pw"), ("/...", "all")]);
        let info = |p: &str| r.route(p).unwrap().path_info;
        assert_eq!(info("/test"), "");
        assert_eq!(info("/test/"), "/");
        assert_eq!(info("/test/hello"), "/hello");
        assert_eq!(info("/test/hello/"), "/hello/");
        assert_eq!(info("/x/y"), "/x/y");
        let m = r.route("/1/2/3").unwrap();
        assert_eq!(m.component, "p");
        assert_eq!(m.params, vec![("two".to_string(), "2".to_string())]);
        assert_eq!(m.path_info, "");
        let m = r.route("/1/2/4/5").unwrap();
        assert_eq!(m.component, "pw");
        assert_eq!(m.path_info, "/4/5");
        assert_eq!(m.component_route(), "/1/:two");
        assert_eq!(m.based_route, "/1/:two/...");
    }

    #[test]
    fn no_match_and_duplicates() {
        let r = router(&[("/a", "first"), ("/b/...", "b"), ("/a", "second")]);
        assert_eq!(who(&r, "/a").as_deref(), Some("second"));
        assert_eq!(who(&r, "/c"), None);
        assert_eq!(who(&r, "/"), None);
        let root = router(&[("/", "root")]);
        assert_eq!(who(&root, "/").as_deref(), Some("root"));
        assert_eq!(who(&root, "/x"), None);
        assert_eq!(root.route("/").unwrap().based_route, "");
    }

    #[test]
    fn invalid_routes_are_rejected() {
        assert!(Router::build([("/a/.../b", "x")]).is_err());
        assert!(Router::build([("/a/:", "x")]).is_err());
    }

    #[test]
    fn synthetic_match_for_chaining() {
        let m = RouteMatch::synthetic("worker", "/deliver");
        assert_eq!(m.path_info, "/deliver");
        assert_eq!(m.component_route(), "");
        assert_eq!(m.raw_route, "/...");
    }
}
