//! The email job queue: persisted jobs, leased sends, exponential backoff
//! with jitter, bounded attempts, dead letters.
//!
//! * A job is created (inside the saga inbox transaction) with a
//!   `dedupe_key` naming what it is about (`tickets:<booking>`,
//!   `closed:<booking>` …); a second job with the same key is ignored, so
//!   one event never yields two emails.
//! * A sender first *leases* the job with one conditional UPDATE (due →
//!   `next_attempt_ms` moved [`LEASE_MS`] ahead, `attempts + 1`), so two
//!   senders (a request and a tick) never send one job at the same moment;
//!   a sender that dies leaves it due again after the lease, and the job id
//!   as the provider's Idempotency-Key makes that retry harmless.
//! * Failures wait [`backoff_ms`] (×3 per attempt from 1 s, capped at 1 h,
//!   "equal jitter": half fixed, half random) and become `dead` after
//!   [`MAX_ATTEMPTS`] attempts or at once when the provider says the message
//!   itself is wrong; admins list and requeue dead jobs.

use crate::provider::{self, Outcome};
use serde::Serialize;
use spin_sdk::sqlite3::{Connection, Error, Value};

/// Attempts before a job is dead: retries span about 1 h 50 min.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a sender owns a job it is sending, ms.
pub const LEASE_MS: i64 = 60_000;
/// First retry delay, ms.
const BASE_MS: i64 = 1_000;
/// Longest retry delay, ms.
const CAP_MS: i64 = 3_600_000;

/// Email kinds the user cannot switch off (transactional: the tickets they
/// paid for, and auth's single-use links — a password reset, the
/// confirmation of the account's address — which the user asked for).
pub const TRANSACTIONAL: &[&str] = &["tickets", "password_reset", "email_verification"];

/// Delay before the next attempt after `attempts` failed ones, ms, given a
/// uniform random `r` in `[0, 1)`: `d = min(1 s × 3^(attempts-1), 1 h)`,
/// waiting `d/2 + r × d/2`.
pub fn backoff_ms(attempts: i64, r: f64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    let d = BASE_MS.saturating_mul(3i64.saturating_pow(exp as u32)).min(CAP_MS);
    d / 2 + ((d / 2) as f64 * r.clamp(0.0, 1.0)) as i64
}

fn random_unit() -> f64 {
    f64::from(getrandom::u32().unwrap_or(0x8000_0000)) / (f64::from(u32::MAX) + 1.0)
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub dedupe_key: String,
    pub kind: &'a str,
    pub user_id: Option<&'a str>,
    pub booking_id: Option<&'a str>,
    pub to_email: &'a str,
    pub to_name: Option<&'a str>,
    pub email: crate::compose::Email,
}

const INSERT: &str =
    "INSERT INTO email_jobs (id, dedupe_key, kind, user_id, booking_id, to_email, to_name, subject, html, text, \
     status, attempts, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) \
     ON CONFLICT(dedupe_key) DO NOTHING RETURNING id";

fn opt(v: Option<&str>) -> Value {
    v.map(|s| Value::Text(s.to_string())).unwrap_or(Value::Null)
}

/// Creates the job unless one with the same `dedupe_key` exists; returns
/// the new id, or `None` for a duplicate.
pub fn enqueue(conn: &Connection, job: &NewJob<'_>) -> Result<Option<String>, Error> {
    let now = platform::clock::now_ms();
    let id = platform::ids::new("ntf");
    let rs = conn.execute(
        INSERT,
        &[
            Value::Text(id),
            Value::Text(job.dedupe_key.clone()),
            Value::Text(job.kind.to_string()),
            opt(job.user_id),
            opt(job.booking_id),
            Value::Text(job.to_email.to_string()),
            opt(job.to_name),
            Value::Text(job.email.subject.clone()),
            Value::Text(job.email.html.clone()),
            Value::Text(job.email.text.clone()),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )?;
    let id = rs.rows().next().and_then(|r| r.get::<&str>("id").map(str::to_string));
    Ok(id)
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retried: u32,
    pub dead: u32,
    pub skipped: u32,
}

const DUE: &str = "SELECT id, next_attempt_ms FROM email_jobs WHERE status = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms LIMIT ?";
const LEASE: &str = "UPDATE email_jobs SET next_attempt_ms = ?, attempts = attempts + 1 \
     WHERE id = ? AND status = 'pending' AND next_attempt_ms = ? \
     RETURNING attempts, kind, user_id, to_email, subject, html, text";
const MARK_SENT: &str = "UPDATE email_jobs SET status = 'sent', provider_id = ?, last_error = NULL, finished_ms = ? WHERE id = ? AND status = 'pending'";
const MARK_RETRY: &str =
    "UPDATE email_jobs SET next_attempt_ms = ?, last_error = ? WHERE id = ? AND status = 'pending'";
const MARK_DONE: &str =
    "UPDATE email_jobs SET status = ?, last_error = ?, finished_ms = ? WHERE id = ? AND status = 'pending'";

/// Sends due jobs, at most `batch`. Never fails: database errors are
/// logged and the jobs stay due for the next pass.
pub fn deliver_due(conn: &Connection, batch: i64) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    let now = platform::clock::now_ms();
    let due: Vec<(String, i64)> = match conn.execute(DUE, &[Value::Integer(now), Value::Integer(batch)]) {
        Ok(rs) => rs
            .rows()
            .filter_map(|r| Some((r.get::<&str>("id")?.to_string(), r.get::<i64>("next_attempt_ms")?)))
            .collect(),
        Err(e) => {
            platform::log::error!("notifications: cannot read due jobs: {e:?}");
            return report;
        }
    };
    for (id, next) in due {
        match deliver_one(conn, &id, next) {
            Ok(Some(Step::Sent)) => report.sent += 1,
            Ok(Some(Step::Retry)) => report.retried += 1,
            Ok(Some(Step::Dead)) => report.dead += 1,
            Ok(Some(Step::Skipped)) => report.skipped += 1,
            Ok(None) => {}
            Err(e) => platform::log::error!("notifications: job {id}: {e:?}"),
        }
    }
    report
}

enum Step {
    Sent,
    Retry,
    Dead,
    Skipped,
}

fn deliver_one(conn: &Connection, id: &str, next: i64) -> Result<Option<Step>, Error> {
    let now = platform::clock::now_ms();
    let leased =
        conn.execute(LEASE, &[Value::Integer(now + LEASE_MS), Value::Text(id.to_string()), Value::Integer(next)])?;
    let Some(row) = leased.rows().next() else {
        return Ok(None); // another sender has it
    };
    let attempts = row.get::<i64>("attempts").unwrap_or(1);
    let kind = row.get::<&str>("kind").unwrap_or_default().to_string();
    let user_id = row.get::<&str>("user_id").map(str::to_string);
    let to = row.get::<&str>("to_email").unwrap_or_default().to_string();
    let (subject, html, text) = (
        row.get::<&str>("subject").unwrap_or_default().to_string(),
        row.get::<&str>("html").unwrap_or_default().to_string(),
        row.get::<&str>("text").unwrap_or_default().to_string(),
    );
    let id_v = Value::Text(id.to_string());
    if !TRANSACTIONAL.contains(&kind.as_str()) {
        if let Some(uid) = &user_id {
            if !crate::settings::email_enabled(uid, "booking") {
                conn.execute(
                    MARK_DONE,
                    &[
                        Value::Text("skipped".into()),
                        Value::Text("the user switched these emails off".into()),
                        Value::Integer(now),
                        id_v,
                    ],
                )?;
                return Ok(Some(Step::Skipped));
            }
        }
    }
    let from = platform::config::get_or("email_from", provider::DEFAULT_FROM);
    let email = provider::SendEmail {
        from: &from,
        to: vec![&to],
        subject: &subject,
        html: &html,
        text: &text,
        tags: vec![provider::Tag { name: "kind", value: &kind }],
    };
    let finished = platform::clock::now_ms();
    match provider::send(&email, id) {
        Outcome::Sent(provider_id) => {
            conn.execute(MARK_SENT, &[Value::Text(provider_id), Value::Integer(finished), id_v])?;
            Ok(Some(Step::Sent))
        }
        Outcome::RetryAfter { why, after_ms } if attempts < MAX_ATTEMPTS => {
            // the provider's wait, never sooner than our own backoff nor
            // later than its cap
            platform::log::warn!(
                "notifications: job {id} attempt {attempts} failed: {why}; the provider asks to wait {after_ms} ms"
            );
            let at = finished + after_ms.clamp(backoff_ms(attempts, random_unit()), CAP_MS);
            conn.execute(MARK_RETRY, &[Value::Integer(at), Value::Text(why), id_v])?;
            Ok(Some(Step::Retry))
        }
        Outcome::Retry(err) if attempts < MAX_ATTEMPTS => {
            platform::log::warn!("notifications: job {id} attempt {attempts} failed: {err}");
            let at = finished + backoff_ms(attempts, random_unit());
            conn.execute(MARK_RETRY, &[Value::Integer(at), Value::Text(err), id_v])?;
            Ok(Some(Step::Retry))
        }
        Outcome::Retry(err) | Outcome::RetryAfter { why: err, .. } | Outcome::Permanent(err) => {
            platform::log::error!("notifications: job {id} is dead after {attempts} attempts: {err}");
            conn.execute(MARK_DONE, &[Value::Text("dead".into()), Value::Text(err), Value::Integer(finished), id_v])?;
            Ok(Some(Step::Dead))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        assert_eq!(backoff_ms(1, 0.0), 500);
        assert_eq!(backoff_ms(1, 0.999_999), 999);
        assert_eq!(backoff_ms(2, 0.0), 1_500);
        assert_eq!(backoff_ms(3, 1.0), 9_000);
        assert_eq!(backoff_ms(30, 1.0), CAP_MS);
        for a in 1..MAX_ATTEMPTS {
            assert!(backoff_ms(a + 1, 0.0) >= backoff_ms(a, 0.0));
        }
        let worst: i64 = (1..MAX_ATTEMPTS).map(|a| backoff_ms(a, 1.0)).sum();
        assert!(worst > 3_600_000 && worst < 3 * 3_600_000, "{worst}");
    }
}
