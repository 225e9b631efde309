//! `Idempotency-Key` for state-creating POSTs (docs/DESIGN.md §6), after the IETF
//! httpapi draft "The Idempotency-Key HTTP Header Field"
//! (draft-ietf-httpapi-idempotency-key-header).
//!
//! A handler wraps its work in [`once`]:
//!
//! ```ignore
//! let caller = platform::auth::require(&req)?;
//! let conn = db::open()?; // its MIGRATIONS include platform::idempotency::MIGRATION
//! platform::idempotency::once(&conn, &req, &caller.user_id, || {
//!     // parse, validate, write, answer — exactly as without a key
//! })
//! ```
//!
//! Semantics, per (caller, method + path, key):
//!
//! | situation | answer |
//! |---|---|
//! | no `Idempotency-Key` header | the handler runs as usual |
//! | key not 1–255 visible ASCII characters | 400 `/problems/bad-request` |
//! | first use | the key is claimed with ONE `INSERT` (the primary key refuses a second claim), the handler runs |
//! | first attempt answered 2xx | status, headers and body are stored for 24 h |
//! | first attempt answered anything else (4xx, 5xx, trap) | the key is released (a trap: after a 60 s lease), so a retry runs afresh |
//! | same key and same request while the first runs | 409 `/problems/idempotency-in-progress` + `Retry-After: 1` |
//! | same key and same request later | the stored answer, plus `Idempotent-Replayed: true` |
//! | same key, different method, path or body | 422 `/problems/idempotency-key-reused` |
//! | after 24 h | the key is forgotten (expired rows are deleted lazily by later claims, and all at once by the component's tick through [`sweep`]) |
//!
//! Why only 2xx answers are stored: every handler is all-or-nothing (bad
//! input → 4xx and nothing written), so a non-2xx first attempt created
//! nothing a retry could duplicate. Releasing the key lets a client that
//! keeps one key per user action (the checkout does) correct its input, or
//! wait for a seat to free up, and retry with the same key — the approach
//! Stripe takes for requests that fail validation. Storing a 4xx would turn
//! such a corrected retry into a 422 `idempotency-key-reused`.
//!
//! The scope is the authenticated caller, so two users who happen to pick the
//! same key never see each other's answers. Records live in the component's
//! own SQLite database (table `idempotency_keys`, migration [`MIGRATION`],
//! version 900: components number theirs from 1, the saga crate from 1000).

use crate::db::Migration;
use crate::problem::{ApiError, ApiResult, Problem, PROBLEM_JSON};
use sha2::{Digest, Sha256};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::{Connection, Value};

/// How long a completed key is remembered: 24 hours, in milliseconds (the
/// draft leaves the expiry to the server; 24 h is the common choice).
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a claim counts as in flight, in milliseconds. A first attempt
/// that never finished (the component trapped) holds the key this long;
/// afterwards a retry with the same request takes it over.
pub const LEASE_MS: i64 = 60 * 1000;

/// Response header marking a replayed answer (value `true`; Stripe's name).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The `idempotency_keys` table. Include it in the component's migration
/// list: `&[Migration { version: 1, .. }, platform::idempotency::MIGRATION]`.
pub const MIGRATION: Migration =
    Migration { version: 900, name: "platform_idempotency", sql: include_str!("../sql/0900_idempotency.sql") };

/// The platform's migrations ([`MIGRATION`]), for `platform::db::migrate`.
pub const MIGRATIONS: &[Migration] = &[MIGRATION];

/// A client's `Idempotency-Key`: 1–255 visible ASCII characters (UUIDs,
/// ULIDs and similar tokens).
///
/// The draft defines the field as a Structured Field string (RFC 8941 §3.3.3,
/// `"…"` with `\"` and `\\` escapes); most clients send the bare token.
/// Both are accepted: a quoted value is unquoted first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest accepted key, in characters.
    pub const MAX_LEN: usize = 255;

    /// Parses a header value.
    ///
    /// Errors: 400 `/problems/bad-request` when empty, longer than
    /// [`Self::MAX_LEN`], or holding anything but visible ASCII (a quoted
    /// string may also hold spaces).
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadRequest("Idempotency-Key must be 1-255 visible ASCII characters".into());
        let key = if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
            unquote(&raw[1..raw.len() - 1]).ok_or_else(bad)?
        } else if raw.bytes().all(|b| b.is_ascii_graphic()) {
            raw.to_string()
        } else {
            return Err(bad());
        };
        if key.is_empty() || key.len() > Self::MAX_LEN || key.trim().is_empty() {
            return Err(bad());
        }
        Ok(Self(key))
    }

    /// The key of `req` (the LAST `Idempotency-Key` header), if any; 400 as
    /// [`Self::parse`].
    pub fn from_request(req: &Request) -> ApiResult<Option<Self>> {
        crate::web::header_last(req, "idempotency-key").map(Self::parse).transpose()
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The inside of an RFC 8941 sf-string: printable ASCII, `\"` and `\\`.
fn unquote(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return None,
            },
            '"' => return None,
            ' '..='~' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// What a key was first used for: hex SHA-256 of method, path (with query)
/// and body, each separated by a NUL byte (which none of them can hold
/// ambiguously: method and path never contain one, and the body is last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a request's parts.
    pub fn of(method: &str, path: &str, body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(body);
        Self(hex::encode(h.finalize()))
    }

    /// The fingerprint of `req` (its query string counts as part of the path).
    pub fn of_request(req: &Request) -> Self {
        let method = req.method().to_string();
        match req.query() {
            "" => Self::of(&method, req.path(), req.body()),
            q => Self::of(&method, &format!("{}?{q}", req.path()), req.body()),
        }
    }

    /// 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Runs `run` at most once per (`caller`, method + path, `Idempotency-Key`)
/// — see the module docs for every answer. Without a key, just runs `run`.
///
/// `conn` is the component's database, migrated with [`MIGRATION`]; `caller`
/// is the authenticated user id. Errors: 400 for a malformed key; 503 when
/// the database fails before `run` starts; whatever `run` returns.
pub fn once(conn: &Connection, req: &Request, caller: &str, run: impl FnOnce() -> ApiResult) -> ApiResult {
    let Some(key) = IdempotencyKey::from_request(req)? else {
        return run();
    };
    let slot = Slot { scope: caller, route: format!("{} {}", req.method(), req.path()), key: &key };
    let fingerprint = Fingerprint::of_request(req);
    let token = match claim(conn, &slot, &fingerprint, crate::clock::now_ms())? {
        Claim::Won(token) => token,
        Claim::Stored(resp) => return Ok(resp),
        Claim::InProgress => {
            return Ok(problem(
                409,
                "idempotency-in-progress",
                "Request in progress",
                "a request with this Idempotency-Key is still being processed; retry after it completes",
            ))
        }
        Claim::Reused => {
            return Ok(problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was already used for a different request; use a new key for a new request",
            ))
        }
    };
    let result = run();
    let kept = match &result {
        Ok(resp) if (200..300).contains(resp.status()) => slot.complete(conn, &token, resp),
        _ => slot.release(conn, &token),
    };
    if let Err(e) = kept {
        crate::log::error!("idempotency {} {}: could not record the outcome: {e:?}", slot.route, key.as_str());
    }
    result
}

/// Deletes every record that expired at `now_ms` and returns how many it
/// deleted (claims do this lazily, a hundred at a time; the ticks of the
/// components that use keys call this for a full sweep).
pub fn sweep(conn: &Connection, now_ms: i64) -> Result<u64, spin_sdk::sqlite3::Error> {
    conn.execute("DELETE FROM idempotency_keys WHERE expires_ms <= ?", &[Value::Integer(now_ms)])?;
    let n = conn.execute("SELECT changes() AS n", &[])?.rows().next().and_then(|r| r.get::<i64>("n")).unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One key's row address.
struct Slot<'a> {
    scope: &'a str,
    route: String,
    key: &'a IdempotencyKey,
}

enum Claim {
    /// This attempt holds the key (with this token) and must run.
    Won(String),
    /// A completed earlier attempt: its answer, marked replayed.
    Stored(Response),
    /// Another attempt with the same request is running.
    InProgress,
    /// The key was used for a different request.
    Reused,
}

/// Deletes this slot's row when expired, and up to 100 other expired rows.
const DELETE_EXPIRED: &str = "DELETE FROM idempotency_keys WHERE rowid IN \
     (SELECT rowid FROM idempotency_keys WHERE expires_ms <= ?1 ORDER BY expires_ms LIMIT 100) \
     OR (scope = ?2 AND route = ?3 AND key = ?4 AND expires_ms <= ?1)";
const INSERT_CLAIM: &str =
    "INSERT INTO idempotency_keys (scope, route, key, fingerprint, token, lease_ms, created_ms, expires_ms) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, route, key) DO NOTHING RETURNING token";
const SELECT_SLOT: &str =
    "SELECT fingerprint, token, status, headers, body, lease_ms FROM idempotency_keys WHERE scope = ? AND route = ? AND key = ?";
/// Takes over a claim whose attempt never finished (lease lapsed).
const TAKE_OVER: &str = "UPDATE idempotency_keys SET token = ?, lease_ms = ? \
     WHERE scope = ? AND route = ? AND key = ? AND token = ? AND status IS NULL AND lease_ms <= ? RETURNING token";
const COMPLETE: &str =
    "UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE scope = ? AND route = ? AND key = ? AND token = ?";
const RELEASE: &str = "DELETE FROM idempotency_keys WHERE scope = ? AND route = ? AND key = ? AND token = ?";

fn claim(
    conn: &Connection,
    slot: &Slot<'_>,
    fingerprint: &Fingerprint,
    now: i64,
) -> Result<Claim, spin_sdk::sqlite3::Error> {
    let text = |s: &str| Value::Text(s.to_string());
    let addr = [text(slot.scope), text(&slot.route), text(slot.key.as_str())];
    conn.execute(DELETE_EXPIRED, &[Value::Integer(now), addr[0].clone(), addr[1].clone(), addr[2].clone()])?;
    // A released key (failed first attempt) may vanish between our INSERT and
    // SELECT: try again a few times before calling it busy.
    for _ in 0..3 {
        let token = crate::ids::new("idk");
        let mut insert = addr.to_vec();
        insert.extend([
            text(fingerprint.as_str()),
            text(&token),
            Value::Integer(now + LEASE_MS),
            Value::Integer(now),
            Value::Integer(now + TTL_MS),
        ]);
        if conn.execute(INSERT_CLAIM, &insert)?.rows().next().is_some() {
            return Ok(Claim::Won(token));
        }
        let found = conn.execute(SELECT_SLOT, &addr)?;
        let Some(row) = found.rows().next() else { continue };
        if row.get::<&str>("fingerprint") != Some(fingerprint.as_str()) {
            return Ok(Claim::Reused);
        }
        if let Some(status) = row.get::<i64>("status") {
            return Ok(Claim::Stored(replay(
                status,
                row.get::<&str>("headers").unwrap_or("[]"),
                row.get::<&[u8]>("body").unwrap_or_default(),
            )));
        }
        if row.get::<i64>("lease_ms").unwrap_or(i64::MAX) > now {
            return Ok(Claim::InProgress);
        }
        let old = row.get::<&str>("token").unwrap_or_default().to_string();
        let mut take = vec![text(&token), Value::Integer(now + LEASE_MS)];
        take.extend(addr.iter().cloned());
        take.extend([text(&old), Value::Integer(now)]);
        if conn.execute(TAKE_OVER, &take)?.rows().next().is_some() {
            return Ok(Claim::Won(token));
        }
    }
    Ok(Claim::InProgress)
}

impl Slot<'_> {
    fn params(&self, token: &str) -> [Value; 4] {
        [
            Value::Text(self.scope.to_string()),
            Value::Text(self.route.clone()),
            Value::Text(self.key.as_str().to_string()),
            Value::Text(token.to_string()),
        ]
    }

    /// Stores `resp` as the key's answer.
    fn complete(&self, conn: &Connection, token: &str, resp: &Response) -> Result<(), spin_sdk::sqlite3::Error> {
        let headers: Vec<(&str, &str)> = resp
            .headers()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-request-id"))
            .filter_map(|(n, v)| v.as_str().map(|v| (n, v)))
            .collect();
        let mut params = vec![
            Value::Integer(i64::from(*resp.status())),
            Value::Text(serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into())),
            Value::Blob(resp.body().to_vec()),
        ];
        params.extend(self.params(token));
        conn.execute(COMPLETE, &params).map(|_| ())
    }

    /// Gives the key up so that a retry runs.
    fn release(&self, conn: &Connection, token: &str) -> Result<(), spin_sdk::sqlite3::Error> {
        conn.execute(RELEASE, &self.params(token)).map(|_| ())
    }
}

/// A stored answer, replayed.
fn replay(status: i64, headers: &str, body: &[u8]) -> Response {
    let mut b = Response::builder();
    b.status(u16::try_from(status).unwrap_or(200));
    for (name, value) in serde_json::from_str::<Vec<(String, String)>>(headers).unwrap_or_default() {
        b.header(name, value);
    }
    b.header(REPLAYED_HEADER, "true");
    b.body(body.to_vec()).build()
}

/// A problem+json answer of a kind [`ApiError`] has no variant for.
fn problem(status: u16, kind: &str, title: &'static str, detail: &str) -> Response {
    let p = Problem {
        type_uri: format!("/problems/{kind}"),
        title,
        status,
        detail: Some(detail.into()),
        errors: vec![],
        errors_omitted: None,
    };
    let mut b = Response::builder();
    b.status(status).header("content-type", PROBLEM_JSON);
    if status == 409 {
        b.header("retry-after", "1");
    }
    b.body(serde_json::to_vec(&p).unwrap_or_default()).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tokens_uuids_and_sf_strings() {
        assert_eq!(
            IdempotencyKey::parse("8e03978e-40d5-43e8-bc93-6894a57f9324").unwrap().as_str(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        );
        assert_eq!(IdempotencyKey::parse("01HZY3K9~a.b_c:d/e").unwrap().as_str(), "01HZY3K9~a.b_c:d/e");
        assert_eq!(IdempotencyKey::parse("\"abc\"").unwrap().as_str(), "abc");
        assert_eq!(IdempotencyKey::parse(r#""a \"b\" \\c""#).unwrap().as_str(), r#"a "b" \c"#);
        assert_eq!(IdempotencyKey::parse(&"k".repeat(255)).unwrap().as_str().len(), 255);
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        for bad in
            ["", "\"\"", "\"  \"", "a b", "a\tb", "a\u{1}b", "a\u{7f}", "é", "\"a\\nb\"", "\"a\"b\"", &"k".repeat(256)]
        {
            let e = IdempotencyKey::parse(bad).expect_err(bad);
            assert_eq!(e.status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn fingerprint_is_sha256_of_method_path_body() {
        let f = Fingerprint::of("POST", "/api/holds", br#"{"a":1}"#);
        assert_eq!(f.as_str().len(), 64);
        assert!(f.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(f, Fingerprint::of("POST", "/api/holds", br#"{"a":1}"#));
        assert_ne!(f, Fingerprint::of("POST", "/api/holds", br#"{"a":2}"#));
        assert_ne!(f, Fingerprint::of("PUT", "/api/holds", br#"{"a":1}"#));
        assert_ne!(f, Fingerprint::of("POST", "/api/events", br#"{"a":1}"#));
        // the separator keeps parts from sliding into each other
        assert_ne!(Fingerprint::of("POST", "/a", b"b"), Fingerprint::of("POST", "/ab", b""));
        // SHA-256 of "GET\0/\0" (checked with sha256sum)
        assert_eq!(
            Fingerprint::of("GET", "/", b"").as_str(),
            "19fb856f52074c83ad846d55cca99520ef8e16fc483079093cc491a6ddc3dae2"
        );
    }

    #[test]
    fn migration_version_is_reserved() {
        assert_eq!(MIGRATION.version, 900);
        assert!(crate::db::split_statements(MIGRATION.sql).len() >= 2);
    }
}
