//! Orphaned seat locks and their recovery, run by the booking tick.
//!
//! A request that dies between winning a seat's `+1` and recording its
//! hold, or between a losing `+1` and its `-1`, leaves a `+1` nobody will
//! ever take back: without recovery the seat stays locked forever. The tick
//! ([`recover`]) compares each non-zero lock counter with the
//! number of live owners it should have (0, or 1 when `owner:` names a hold
//! that is active, booked or consumed and holds the seat). When a counter
//! and its owner record have looked exactly the same, and wrong, for a
//! grace period ([`holds::orphan_grace_ms`]), it corrects the counter by the
//! difference with one relative `increment(expected - seen)`. Several
//! ticks (several instances) can see the same suspect at once; the
//! correction is a claim ([`Kv::claim_first`]) on the suspect's key and the
//! time it was first seen, so exactly one of them applies it.
//!
//! Why a relative correction is right: under the grace assumption below,
//! every claimant counted in a value that stayed the same for a grace
//! period is dead (a live loser takes its `+1` back, a live winner records
//! its owner, within the grace period), so it will never touch the counter
//! again; taking exactly their `+1`s off leaves every live claimant's.
//! A claimant that comes in meanwhile adds its own `+1` on top, as on any
//! other counter change.
//!
//! What the grace period assumes: a live request never spends longer than
//! it between two consecutive store calls of a claim (the increments, then
//! one batched write of the owner records and the hold record). It is the
//! hold lifetime, capped at one minute: a hold recorded later than that
//! would be born expired anyway.
//!
//! ## General-admission and allowance counters are not recovered
//!
//! `ga:` and `user:` counters can be orphaned the same way: a request that
//! dies between its `+q` and its `-q` (a loser's compensation, a rollback),
//! between its `+q` and recording its hold, or inside [`crate::locks::release_all`] after
//! the hold went final. The tick deliberately leaves them alone, because a
//! reset cannot be made correct with what the store holds today:
//!
//! * A counter carries no identity. A seat lock has at most one owner, named
//!   in `owner:`, so "claimants > live owners" is decided from two keys. A
//!   tier's or a user's right value is the sum over every live hold of the
//!   event (active, booked or consumed), and there is no complete list of
//!   them: hold records are found by id only (`list-keys` of every `hold:`
//!   ever made plus a read of each would be needed, growing without bound),
//!   the SQLite `hold_index` is written outside the KV claim and has no
//!   re-holds (`rhd_…`, made by late payments), and booking rows lag the
//!   KV (a cancelled booking's hold is freed after its commit).
//! * A reset from a value that left out a live hold's `q` is not harmless:
//!   that hold later gives its `q` back again, so the counter ends *below*
//!   the truth. Too low means a tier held past its capacity and a user past
//!   the order limit — the direction the counters exist to prevent.
//!   (A relative correction, as for seats, is only right when every
//!   claimant it takes off is known dead, which needs the same list.)
//!
//! What bounds the damage meanwhile: an orphan only ever makes a counter
//! too HIGH (every `-q` follows its own `+q`), so it errs towards selling
//! less, never more — a tier is never oversold (and SQLite's `sold_ga`
//! capacity trigger refuses an oversale regardless), a user never exceeds
//! the order limit. Each dead request costs exactly its own `q` on each
//! counter it had incremented: `q` places of a tier of one event, `q` of
//! one user's allowance for that event (q is at most the order limit), and
//! only if it dies inside a window of a few store calls. The loss is visible: the tier's `held` in
//! `GET /api/holds/availability/:event_id` exceeds what its live holds
//! hold. The e2e test `faults::orphaned_ga_and_user_counters_cost_exactly_their_own_places`
//! pins this behaviour.

use crate::holds::{self, HoldRecord, HoldStatus};
use crate::kv::{counter, Kv};
use crate::locks::Owner;
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Observation of a suspicious lock, kept at `orphan:<lock key>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Suspect {
    /// The whole counter value seen.
    value: i64,
    /// The owner record seen (text), if any.
    owner: Option<String>,
    /// When first seen like this, Unix ms.
    seen_ms: i64,
}

const SUSPECT_PREFIX: &str = "orphan:";
const SCAN_MARK: &str = "sweep:orphans";

/// The tick's orphan recovery (see the module docs). Scans the seat lock
/// counters (at most once per half grace period per instance), remembers
/// the ones whose value differs from their live owners, and corrects those
/// that looked exactly the same a grace period earlier — each correction
/// applied by exactly one tick, however many run at once. Returns how many
/// locks this call corrected.
///
/// Cost: one `list-keys` of the store plus one read per non-zero lock, its
/// owner and that owner's hold (key by key: Spin 4.0.2's Redis `get-many`
/// fails).
pub fn recover(kv: &Kv, now_ms: i64) -> ApiResult<u32> {
    let grace = holds::orphan_grace_ms();
    let last = kv.get(SCAN_MARK)?.and_then(|b| String::from_utf8_lossy(&b).parse::<i64>().ok());
    if last.is_some_and(|l| now_ms - l < grace / 2 && now_ms >= l) {
        return Ok(0);
    }
    kv.set(SCAN_MARK, now_ms.to_string().as_bytes())?;
    let locks = kv.keys_with_prefix("lock:")?;
    let values = kv.get_many(locks.clone())?;
    let busy: Vec<(String, i64)> = locks
        .into_iter()
        .filter_map(|k| values.get(&k).map(|v| counter(v)).filter(|v| *v != 0).map(|v| (k, v)))
        .collect();
    let mut suspects: HashMap<String, Suspect> = HashMap::new();
    let suspect_keys = kv.keys_with_prefix(SUSPECT_PREFIX)?;
    for (k, v) in kv.get_many(suspect_keys)? {
        if let Ok(s) = serde_json::from_slice::<Suspect>(&v) {
            suspects.insert(k[SUSPECT_PREFIX.len()..].to_string(), s);
        }
    }
    let owners = kv.get_many(busy.iter().map(|(k, _)| owner_of_lock(k)).collect())?;
    let hold_keys: Vec<String> =
        owners.values().filter_map(|v| Owner::decode(v)).map(|o| HoldRecord::key(&o.hold_id)).collect();
    let holds = kv.get_many(hold_keys)?;
    let mut still = std::collections::HashSet::new();
    let mut fixed = 0;
    for (lock, value) in &busy {
        let seat = lock.splitn(3, ':').nth(2).unwrap_or_default();
        let owner_bytes = owners.get(&owner_of_lock(lock));
        let live = owner_bytes
            .and_then(|b| Owner::decode(b))
            .and_then(|o| holds.get(&HoldRecord::key(&o.hold_id)))
            .and_then(|b| serde_json::from_slice::<HoldRecord>(b).ok())
            .is_some_and(|h| {
                matches!(h.status, HoldStatus::Active | HoldStatus::Booked | HoldStatus::Consumed)
                    && h.seats.iter().any(|s| s.id == seat)
            });
        let expected = i64::from(live);
        if *value == expected {
            continue;
        }
        still.insert(lock.clone());
        let seen = Suspect {
            value: *value,
            owner: owner_bytes.map(|b| String::from_utf8_lossy(b).into_owned()),
            seen_ms: now_ms,
        };
        match suspects.get(lock) {
            // the tick that won a correction died before applying it:
            // observe afresh, so a new claim can win after another grace
            Some(prev)
                if prev.value == seen.value && prev.owner == seen.owner && now_ms - prev.seen_ms >= 2 * grace =>
            {
                kv.set(
                    &format!("{SUSPECT_PREFIX}{lock}"),
                    &serde_json::to_vec(&seen).map_err(|e| ApiError::Internal(e.into()))?,
                )?
            }
            Some(prev) if prev.value == seen.value && prev.owner == seen.owner => {
                if now_ms - prev.seen_ms >= grace && correct_lock(kv, lock, prev, expected)? {
                    platform::log::warn!(
                        "booking: recovered orphaned seat lock {lock} (value {value}, {expected} live owner)"
                    );
                    kv.delete(&format!("{SUSPECT_PREFIX}{lock}"))?;
                    still.remove(lock);
                    fixed += 1;
                }
            }
            _ => kv.set(
                &format!("{SUSPECT_PREFIX}{lock}"),
                &serde_json::to_vec(&seen).map_err(|e| ApiError::Internal(e.into()))?,
            )?,
        }
    }
    for lock in suspects.keys().filter(|k| !still.contains(*k)) {
        kv.delete(&format!("{SUSPECT_PREFIX}{lock}"))?;
    }
    Ok(fixed)
}

fn owner_of_lock(lock: &str) -> String {
    format!("owner:{}", lock.strip_prefix("lock:").unwrap_or(lock))
}

/// Corrects `lock` to `keep` claimants with one relative increment, if its
/// value and owner record are still what `seen` recorded a grace period
/// ago, and if this call wins the claim on that observation (so several
/// ticks seeing the same suspect correct it once). `Ok(false)` when
/// anything moved or another tick did it.
fn correct_lock(kv: &Kv, lock: &str, seen: &Suspect, keep: i64) -> ApiResult<bool> {
    let value = kv.get(lock)?.map_or(0, |b| counter(&b));
    let owner = kv.get(&owner_of_lock(lock))?.map(|b| String::from_utf8_lossy(&b).into_owned());
    if value != seen.value || owner != seen.owner {
        return Ok(false);
    }
    if !kv.claim_first(&format!("fix:{lock}:{}:{}", seen.value, seen.seen_ms))? {
        return Ok(false);
    }
    kv.incr(lock, keep - seen.value)?;
    Ok(true)
}
