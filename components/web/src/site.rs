//! Mapping request paths to files of the site, safely, and building the
//! HTTP answer for a file (RFC 9110 §8.8.3 ETag, §13.1.2 If-None-Match).

use sha2::{Digest, Sha256};
use spin_sdk::http::Response;
use std::path::Path;

/// A file of the site, read into memory.
pub struct SiteFile {
    /// Path relative to the site root (`events/index.html`).
    pub rel_path: String,
    /// File contents.
    pub bytes: Vec<u8>,
}

/// Why a path was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PathError {
    /// Not valid percent-encoded UTF-8.
    BadEncoding,
    /// A `..` segment, a NUL byte or a backslash.
    Traversal,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::BadEncoding => write!(f, "the path is not valid percent-encoded UTF-8"),
            PathError::Traversal => write!(f, "the path leaves the site root"),
        }
    }
}

/// Turns a request path (`/events/`, `/app.js`, `/a%20b.png`) into a path
/// relative to the site root, appending `index.html` for directories.
///
/// Errors: [`PathError::Traversal`] for `..` segments (also percent-encoded),
/// NUL bytes and backslashes; [`PathError::BadEncoding`] for invalid UTF-8.
pub fn resolve(path: &str) -> Result<String, PathError> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().map_err(|_| PathError::BadEncoding)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return Err(PathError::Traversal);
    }
    let mut parts = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(PathError::Traversal),
            s => parts.push(s),
        }
    }
    let mut rel = parts.join("/");
    if rel.is_empty() || decoded.ends_with('/') {
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str("index.html");
    }
    Ok(rel)
}

/// Reads `rel` under `root`; a directory is served as its `index.html`.
/// `Ok(None)` when there is no such file.
pub fn load(root: &str, rel: &str) -> anyhow::Result<Option<SiteFile>> {
    let full = Path::new(root).join(rel);
    let full = if full.is_dir() { full.join("index.html") } else { full };
    match std::fs::read(&full) {
        Ok(bytes) => Ok(Some(SiteFile { rel_path: rel.to_string(), bytes })),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => Ok(None),
        Err(e) if e.raw_os_error() == Some(20) || e.raw_os_error() == Some(54) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading {}: {e}", full.display())),
    }
}

/// First path segments of the frontend's own pages (`/events/<id>`,
/// `/tickets/<id>`, ...). Links in e-mails and schema.org JSON-LD use these
/// real paths; they are answered with the site's `index.html` (200), whose
/// router shows the page.
pub const APP_PAGES: &[&str] = &[
    "events",
    "search",
    "checkout",
    "bookings",
    "tickets",
    "notifications",
    "login",
    "register",
    "account",
    "settings",
    "organizer",
    "checkin",
];

/// True when `path` (as requested, e.g. `/events/evt_1`) is one of the
/// frontend's pages rather than a file.
pub fn is_app_page(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    APP_PAGES.contains(&first) && !path.rsplit('/').next().unwrap_or("").contains('.')
}

/// Content-Security-Policy of the site's pages (CSP Level 3): scripts,
/// styles, fonts and API calls from this origin only; images also from
/// `https:` (event pictures from imported listings) and `data:`; no framing
/// (clickjacking), no `<base>` or form posts elsewhere. Styles allow inline
/// `style` attributes, which the seat map and UI set.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Strong entity tag of `bytes`: the first 16 bytes of its SHA-256, in hex, quoted.
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex = hex::encode(&digest[..16]);
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` header value matches `tag` (weak comparison,
/// RFC 9110 §13.1.2: `*`, or any listed tag equal ignoring `W/`).
pub fn none_match(header: &str, tag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag)
}

/// Content type of a file by its extension (`text/html; charset=utf-8`...).
pub fn content_type(rel: &str) -> String {
    let mime = mime_guess::from_path(rel).first_or_octet_stream();
    match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == "javascript" || mime.subtype() == "json" => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    }
}

/// The response for `file` with `status`: 304 without a body when
/// `if_none_match` matches its ETag, no body for HEAD. HTML and JSON are
/// revalidated on every use (`no-cache`); other assets may be cached for
/// five minutes.
pub fn file_response(file: &SiteFile, if_none_match: Option<&str>, head: bool, status: u16) -> Response {
    let tag = etag(&file.bytes);
    let ctype = content_type(&file.rel_path);
    let cache = if ctype.starts_with("text/html") || ctype.starts_with("application/json") {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    let mut b = Response::builder();
    b.header("etag", tag.clone()).header("cache-control", cache).header("x-content-type-options", "nosniff");
    if ctype.starts_with("text/html") {
        b.header("content-security-policy", CONTENT_SECURITY_POLICY)
            .header("x-frame-options", "DENY")
            .header("referrer-policy", "strict-origin-when-cross-origin");
    }
    if status == 200 && if_none_match.is_some_and(|h| none_match(h, &tag)) {
        return b.status(304).body(Vec::new()).build();
    }
    b.status(status).header("content-type", ctype).header("content-length", file.bytes.len().to_string());
    let body = if head { Vec::new() } else { file.bytes.clone() };
    b.body(body).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_directories_to_index() {
        assert_eq!(resolve("/").unwrap(), "index.html");
        assert_eq!(resolve("/events/").unwrap(), "events/index.html");
        assert_eq!(resolve("/app.js").unwrap(), "app.js");
        assert_eq!(resolve("/a%20b.png").unwrap(), "a b.png");
    }

    #[test]
    fn refuses_traversal() {
        for p in ["/../etc/passwd", "/a/../../x", "/%2e%2e/secret", "/a/%2E%2E/b", "/x%00.html", "/a%5c..%5cb"] {
            assert_eq!(resolve(p), Err(PathError::Traversal), "{p}");
        }
        assert_eq!(resolve("/%ff"), Err(PathError::BadEncoding));
    }

    #[test]
    fn app_pages_are_recognised() {
        assert!(is_app_page("/events/evt_01"));
        assert!(is_app_page("/tickets/tkt_1"));
        assert!(is_app_page("/organizer"));
        assert!(!is_app_page("/events/evt_01/poster.png"));
        assert!(!is_app_page("/assets/app.js"));
        assert!(!is_app_page("/no/such/page"));
        assert!(!is_app_page("/"));
    }

    #[test]
    fn etag_matching() {
        let t = etag(b"hello");
        assert!(none_match(&t, &t));
        assert!(none_match(&format!("W/{t}"), &t));
        assert!(none_match(&format!("\"other\", {t}"), &t));
        assert!(none_match("*", &t));
        assert!(!none_match("\"nope\"", &t));
        assert_ne!(etag(b"hello"), etag(b"hello!"));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert!(content_type("app.js").contains("javascript"));
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert!(content_type("api/openapi.json").starts_with("application/json"));
    }
}
