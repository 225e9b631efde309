//! gzip for HTTP responses (RFC 9110 §8.4, RFC 1952), through `flate2`
//! with its pure-Rust backend (`miniz_oxide`), which builds for
//! `wasm32-wasip2`.
//!
//! [`crate::web::serve`] calls [`negotiate`] on every answer: a JSON body
//! of at least [`MIN_BYTES`] is sent gzip-compressed when the request's
//! `Accept-Encoding` allows gzip, and every JSON answer of that size names
//! `Vary: Accept-Encoding` so caches keep the two forms apart. A handler
//! that already set `Content-Encoding` (a stored compressed document) is
//! left alone.

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use spin_sdk::http::{Request, Response};
use std::io::{Read, Write};

/// Smallest body worth compressing, bytes: below it the gzip header and a
/// CPU pass cost more than they save.
pub const MIN_BYTES: usize = 2048;

/// True when `accept_encoding` (the header's value) accepts gzip: a
/// `gzip` or `x-gzip` coding, or `*`, with a q-value above 0
/// (RFC 9110 §12.5.3). An explicit `gzip;q=0` refuses it even after `*`.
pub fn accepts_gzip_value(accept_encoding: &str) -> bool {
    let mut star = None;
    for part in accept_encoding.split(',') {
        let mut it = part.split(';');
        let coding = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return q > 0.0,
            "*" => star = Some(q > 0.0),
            _ => {}
        }
    }
    star.unwrap_or(false)
}

/// True when `req` accepts a gzip-coded answer.
pub fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("accept-encoding"))
        .filter_map(|(_, v)| v.as_str())
        .any(accepts_gzip_value)
}

/// `bytes` gzip-compressed (default level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 4 + 64), Compression::default());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// The bytes of gzip data `gz`. Errors: not gzip, or truncated.
pub fn gunzip(gz: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(gz.len() * 4);
    GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

fn is_json(resp: &Response) -> bool {
    resp.header("content-type").and_then(|h| h.as_str()).is_some_and(|ct| {
        let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        ct == "application/json" || ct.ends_with("+json")
    })
}

/// Compresses `resp` in place when it is JSON of at least [`MIN_BYTES`],
/// not already encoded, and `gzip_ok` (see the module docs).
pub fn negotiate(resp: &mut Response, gzip_ok: bool) {
    if resp.header("content-encoding").is_some() || !is_json(resp) || resp.body().len() < MIN_BYTES {
        return;
    }
    resp.set_header("vary", "Accept-Encoding");
    if gzip_ok {
        let gz = gzip(resp.body());
        *resp.body_mut() = gz;
        resp.set_header("content-encoding", "gzip");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        assert!(accepts_gzip_value("gzip"));
        assert!(accepts_gzip_value("gzip, deflate, br"));
        assert!(accepts_gzip_value("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip_value("*"));
        assert!(!accepts_gzip_value("gzip;q=0"));
        assert!(!accepts_gzip_value("*, gzip;q=0"));
        assert!(!accepts_gzip_value("br, identity"));
        assert!(!accepts_gzip_value(""));
        assert!(accepts_gzip_value("x-gzip"));
    }

    #[test]
    fn round_trips_and_shrinks_repetitive_json() {
        let body = serde_json::to_vec(
            &(0..2000)
                .map(|i| serde_json::json!({"id": format!("S1-A-{i}"), "status": "available"}))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let gz = gzip(&body);
        assert!(gz.len() * 5 < body.len(), "{} -> {}", body.len(), gz.len());
        assert_eq!(gunzip(&gz).unwrap(), body);
        assert!(gunzip(b"not gzip").is_err());
    }

    #[test]
    fn only_big_json_answers_are_compressed_for_clients_that_accept_it() {
        let big = vec![b' '; MIN_BYTES];
        let json = |body: &[u8]| {
            Response::builder().status(200).header("content-type", "application/json").body(body.to_vec()).build()
        };
        let mut r = json(&big);
        negotiate(&mut r, true);
        assert_eq!(r.header("content-encoding").and_then(|h| h.as_str()), Some("gzip"));
        assert_eq!(r.header("vary").and_then(|h| h.as_str()), Some("Accept-Encoding"));
        assert_eq!(gunzip(r.body()).unwrap(), big);
        let mut r = json(&big);
        negotiate(&mut r, false);
        assert!(r.header("content-encoding").is_none());
        assert_eq!(r.header("vary").and_then(|h| h.as_str()), Some("Accept-Encoding"));
        let mut r = json(b"{}");
        negotiate(&mut r, true);
        assert!(r.header("content-encoding").is_none() && r.header("vary").is_none());
        let mut r = Response::builder().status(200).header("content-type", "text/html").body(big.clone()).build();
        negotiate(&mut r, true);
        assert!(r.header("content-encoding").is_none());
        let mut r = Response::builder()
            .status(200)
            .header("content-type", "application/problem+json")
            .body(big.clone())
            .build();
        negotiate(&mut r, true);
        assert!(r.header("content-encoding").is_some());
    }
}
