//! Who is asking, and how: HTTPS or not, the client's address behind
//! trusted proxies, its cookies and bearer token; and the headers every
//! answer carries because of it ([`harden`]).

use super::header_last;
use spin_sdk::http::{Request, Response};

/// `Strict-Transport-Security` of answers served over HTTPS (RFC 6797):
/// one year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether the request reached the app over HTTPS: Spin's `spin-full-url`
/// says `https://` (Spin terminating TLS itself), or the peer is one of the
/// [`TRUSTED_PROXIES`] and its last `X-Forwarded-Proto` says `https` (TLS
/// ended at that proxy). A client's own `X-Forwarded-Proto` counts for
/// nothing.
pub fn is_https(req: &Request) -> bool {
    if header_last(req, "spin-full-url").is_some_and(|u| u.len() >= 8 && u[..8].eq_ignore_ascii_case("https://")) {
        return true;
    }
    let trusted = trusted_ips(&crate::config::get(TRUSTED_PROXIES).unwrap_or_default());
    let peer_trusted = client_addr(req).and_then(ip_of).is_some_and(|ip| trusted.contains(&ip));
    peer_trusted && header_last(req, "x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// An IP address from `ip`, `ip:port` or `[ipv6]:port` text.
fn ip_of(a: &str) -> Option<std::net::IpAddr> {
    let a = a.trim();
    a.parse::<std::net::SocketAddr>()
        .map(|sa| sa.ip())
        .ok()
        .or_else(|| a.trim_start_matches('[').trim_end_matches(']').parse().ok())
}

/// The addresses of a [`TRUSTED_PROXIES`] list (commas or spaces).
fn trusted_ips(list: &str) -> Vec<std::net::IpAddr> {
    list.split([',', ' ']).filter_map(ip_of).collect()
}

/// The headers every answer carries (issue 17, item 12; OWASP ASVS 4.0
/// §14.4.4, §14.4.5): `X-Content-Type-Options: nosniff` unless the handler
/// set it (no browser guesses an API answer or a QR code to be HTML), and
/// `Strict-Transport-Security` ([`HSTS`]) when `https`.
pub fn harden(resp: &mut Response, https: bool) {
    if resp.header("x-content-type-options").is_none() {
        resp.set_header("x-content-type-options", "nosniff");
    }
    if https {
        resp.set_header("strict-transport-security", HSTS);
    }
}

/// The caller's address (`ip:port`) as Spin reports it in `spin-client-addr`.
pub fn client_addr(req: &Request) -> Option<&str> {
    header_last(req, "spin-client-addr")
}

/// The variable listing the proxies whose `X-Forwarded-For` is honoured:
/// IP addresses separated by commas or spaces (empty: none).
pub const TRUSTED_PROXIES: &str = "trusted_proxies";

/// The caller's IP without the port, for per-address limits.
///
/// The peer is the last `spin-client-addr` (Spin's own, [`header_last`]).
/// When that peer is one of the [`TRUSTED_PROXIES`], the client is the
/// right-most `X-Forwarded-For` address that is not itself a trusted proxy
/// (each proxy appends the address it saw; anything further left was
/// written by the client and proves nothing). Otherwise `X-Forwarded-For`
/// is ignored: any client can send one (OWASP ASVS 4.0 §1.4.x / the
/// `X-Forwarded-For` guidance of RFC 7239 §8.3).
pub fn client_ip(req: &Request) -> Option<String> {
    let trusted = crate::config::get(TRUSTED_PROXIES).unwrap_or_default();
    let forwarded: Vec<&str> = req
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
        .filter_map(|(_, v)| v.as_str())
        .collect();
    resolve_client_ip(client_addr(req)?, &forwarded, &trusted)
}

/// [`client_ip`] from its parts (pure, for tests): the peer address
/// (`ip:port` or `ip`), the `X-Forwarded-For` header values in order, and
/// the trusted proxy list.
pub fn resolve_client_ip(peer: &str, forwarded: &[&str], trusted: &str) -> Option<String> {
    let trusted = trusted_ips(trusted);
    let Some(peer_ip) = ip_of(peer) else { return Some(peer.to_string()) };
    if !trusted.contains(&peer_ip) {
        return Some(peer_ip.to_string());
    }
    let hops: Vec<&str> = forwarded.iter().flat_map(|v| v.split(',')).collect();
    for hop in hops.iter().rev() {
        match ip_of(hop) {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return Some(ip.to_string()),
            None => break,
        }
    }
    Some(peer_ip.to_string())
}

/// The value of cookie `name` in the request's `Cookie` headers (RFC 6265
/// §5.4: `name=value` pairs separated by `;`), the first one named so.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .filter_map(|(_, v)| v.as_str())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The bearer token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
pub fn bearer_token(req: &Request) -> Option<&str> {
    let v = header_last(req, "authorization")?;
    let (scheme, token) = v.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim())
    } else {
        None
    }
}
