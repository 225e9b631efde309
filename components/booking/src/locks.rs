//! Claiming and giving back seats, general-admission places and a user's
//! ticket allowance in the `holds` store — correct under Spin's real KV
//! semantics (docs/DESIGN.md §5).
//!
//! ## Keys
//!
//! | key | kind | meaning |
//! |---|---|---|
//! | `lock:<event>:<seat>` | counter | claimants of the seat; the claimant whose `increment(+1)` returned **1** owns it |
//! | `owner:<event>:<seat>` | text `<hold id>\|<expires ms>` | who owns the seat; written only by the owner, once it has won every part of its claim (one batched write with the hold record) |
//! | `ga:<event>:<tier>` | counter | general-admission tickets held or sold |
//! | `user:<event>:<user>` | counter | tickets the user holds or bought for the event |
//!
//! Every key lives in the store's namespace (`holds/…`, [`crate::kv`]).
//!
//! ## Why this is atomic, on every Spin KV backend
//!
//! Only `increment`, `get`, `set` and `delete` are used: they are sound
//! on Spin's SQLite file and on Spin 4.0.2's Redis, where compare-and-swap
//! reports `CasFailed` even when it wrote ([`crate::kv`] has the table).
//!
//! * A seat: every claimant increments the lock counter. The counter starts
//!   at 0, and increments are serialised by the store, so exactly one
//!   claimant sees 1 until the owner gives the seat back with one
//!   `increment(-1)`. A claimant that sees more than 1 lost and takes its
//!   `+1` back at once with `increment(-1)`. A loser's transient `+1` can
//!   make a simultaneous third claimant lose too (a spurious 409, safe),
//!   but never lets two win. Every change is relative, so the losers'
//!   `+1`/`-1` pairs commute with everything else.
//! * A general-admission tier: `increment(+q)` returns the new total; if it
//!   exceeds the capacity the claimant takes its `q` back (compensation)
//!   and loses. Winners are exactly those whose total stayed within the
//!   capacity, so the tier is never oversold.
//! * A user's allowance: the same, against the event's order limit.
//! * A claim of several things is all-or-nothing: on the first loss every
//!   part already claimed is given back, in reverse order.
//!
//! Giving back happens exactly once per hold because only the winner of
//! the hold's exit claim into a final state does it (see [`crate::holds`]).
//!
//! ## Orphaned seat locks and their recovery
//!
//! A request that dies between winning a seat's `+1` and recording its
//! hold, or between a losing `+1` and its `-1`, leaves a `+1` nobody will
//! ever take back: without recovery the seat stays locked forever. The tick
//! ([`recover_orphans`]) compares each non-zero lock counter with the
//! number of live owners it should have (0, or 1 when `owner:` names a hold
//! that is active, booked or consumed and holds the seat). When a counter
//! and its owner record have looked exactly the same, and wrong, for a
//! grace period ([`orphan_grace_ms`]), it corrects the counter by the
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
//! other counter change. (An earlier version reset the counter to a value
//! with compare-and-swap and had to tag counters with epochs so that a late
//! loser's `-1` did not take a new owner's claim; a relative correction
//! needs neither.)
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
//! between its `+q` and recording its hold, or inside [`release_all`] after
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
//! Doing it correctly would take an intent record per claim, written before
//! the first increment (hold id, event, parts, start time) and removed when
//! the hold is recorded or given back, so that the right value of every
//! counter is "live holds + intents younger than the grace period".
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

use crate::holds::{HoldRecord, HoldStatus};
use crate::kv::{counter, Kv};
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Key of a seat's lock counter.
pub fn lock_key(event: &str, seat: &str) -> String {
    format!("lock:{event}:{seat}")
}

/// Key of a seat's owner record.
pub fn owner_key(event: &str, seat: &str) -> String {
    format!("owner:{event}:{seat}")
}

/// Key of a general-admission tier's counter.
pub fn ga_key(event: &str, tier: &str) -> String {
    format!("ga:{event}:{tier}")
}

/// Key of a user's ticket counter for an event.
pub fn user_key(event: &str, user: &str) -> String {
    format!("user:{event}:{user}")
}

/// The owner of a seat as recorded in `owner:<event>:<seat>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The hold that owns it.
    pub hold_id: String,
    /// When that hold expires (ms); owners past it may be expired.
    pub expires_ms: i64,
}

impl Owner {
    /// Encodes as `<hold id>|<expires ms>`.
    pub fn encode(&self) -> Vec<u8> {
        format!("{}|{}", self.hold_id, self.expires_ms).into_bytes()
    }

    /// Decodes [`Owner::encode`]'s text.
    pub fn decode(bytes: &[u8]) -> Option<Owner> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (id, ms) = text.split_once('|')?;
        Some(Owner { hold_id: id.to_string(), expires_ms: ms.parse().ok()? })
    }
}

/// What a claim asks for.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// Event id.
    pub event: &'a str,
    /// User id (for the allowance).
    pub user: &'a str,
    /// The user's allowance for the event (the order limit).
    pub user_limit: u32,
    /// Seats, each claimed whole.
    pub seats: Vec<String>,
    /// General-admission `(tier id, quantity, capacity)`.
    pub ga: Vec<(String, u32, u32)>,
    /// Owner to record on every seat.
    pub owner: Owner,
}

impl Claim<'_> {
    /// Tickets in the claim.
    pub fn tickets(&self) -> i64 {
        self.seats.len() as i64 + self.ga.iter().map(|g| i64::from(g.1)).sum::<i64>()
    }
}

/// Why a claim lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// The seat is someone else's; `Some(owner)` when recorded.
    Seat(String, Option<Owner>),
    /// The tier does not have that many places left; the number left.
    Tier(String, i64),
    /// The user would exceed their allowance; how many they have.
    UserLimit(i64),
}

/// Claims everything in `claim`, all or nothing, and on success records
/// it: the owner record of every seat won, plus `record` (the hold's own
/// `(key, value)`, when given), in ONE batched write ([`Kv::set_many`]).
/// `Ok(Ok(()))` when all of it is now owned by `claim.owner`;
/// `Ok(Err(lost))` when some part is someone else's (nothing stays
/// claimed); `Err` on a store failure (what was claimed so far is given
/// back on a best-effort basis).
///
/// With `skip_user_limit` the allowance is counted but not enforced (a
/// payment that already succeeded re-claims its seats).
///
/// Store calls on success: 1 increment (allowance) + one increment per seat
/// and per general-admission tier + 1 batched write. A loser adds its
/// give-back: one increment for a seat (plus one read of the seat's
/// owner), for a tier or for the allowance.
pub fn claim(
    kv: &Kv,
    claim: &Claim,
    skip_user_limit: bool,
    record: Option<(String, Vec<u8>)>,
) -> ApiResult<Result<(), Lost>> {
    let mut done: Vec<Undo> = Vec::new();
    let result = claim_steps(kv, claim, skip_user_limit, &mut done).and_then(|outcome| match outcome {
        Ok(()) => {
            let mut writes: Vec<(String, Vec<u8>)> = done
                .iter()
                .filter_map(|u| match u {
                    Undo::Seat(seat) => Some((owner_key(claim.event, seat), claim.owner.encode())),
                    _ => None,
                })
                .collect();
            writes.extend(record);
            kv.set_many(&writes).map(Ok)
        }
        lost => Ok(lost),
    });
    match result {
        Ok(Ok(())) => Ok(Ok(())),
        other => {
            for undo in done.iter().rev() {
                if let Err(e) = undo.run(kv, claim) {
                    platform::log::error!("claim rollback failed for {undo:?}: {e}");
                }
            }
            other
        }
    }
}

#[derive(Debug)]
enum Undo {
    User(i64),
    Seat(String),
    Tier(String, u32),
}

impl Undo {
    fn run(&self, kv: &Kv, claim: &Claim) -> ApiResult<()> {
        match self {
            Undo::User(n) => kv.incr(&user_key(claim.event, claim.user), -n).map(drop),
            Undo::Seat(seat) => release_seat(kv, claim.event, seat, &claim.owner.hold_id),
            Undo::Tier(tier, q) => kv.incr(&ga_key(claim.event, tier), -i64::from(*q)).map(drop),
        }
    }
}

fn claim_steps(kv: &Kv, claim: &Claim, skip_user_limit: bool, done: &mut Vec<Undo>) -> ApiResult<Result<(), Lost>> {
    let tickets = claim.tickets();
    let total = kv.incr(&user_key(claim.event, claim.user), tickets)?;
    done.push(Undo::User(tickets));
    if !skip_user_limit && total > i64::from(claim.user_limit) {
        return Ok(Err(Lost::UserLimit(total - tickets)));
    }
    let mut seats = claim.seats.clone();
    seats.sort();
    for seat in &seats {
        let lock = lock_key(claim.event, seat);
        if kv.incr(&lock, 1)? == 1 {
            done.push(Undo::Seat(seat.clone()));
            continue;
        }
        kv.incr(&lock, -1)?;
        let owner = kv.get(&owner_key(claim.event, seat))?.as_deref().and_then(Owner::decode);
        if owner.as_ref().is_some_and(|o| o.hold_id == claim.owner.hold_id) {
            continue; // already ours (a retried re-hold); not undone here
        }
        return Ok(Err(Lost::Seat(seat.clone(), owner)));
    }
    for (tier, q, capacity) in &claim.ga {
        let total = kv.incr(&ga_key(claim.event, tier), i64::from(*q))?;
        done.push(Undo::Tier(tier.clone(), *q));
        if total > i64::from(*capacity) {
            return Ok(Err(Lost::Tier(tier.clone(), (i64::from(*capacity) - (total - i64::from(*q))).max(0))));
        }
    }
    Ok(Ok(()))
}

/// Gives one seat back: clears the owner record when it is `hold_id`'s,
/// then takes the owner's `+1` off the lock counter with `increment(-1)`.
/// Only the current owner may call this, once. When the owner record
/// names another hold, this hold's claim was recovered as an orphan
/// meanwhile and the other hold owns the seat now: nothing is taken off.
pub fn release_seat(kv: &Kv, event: &str, seat: &str, hold_id: &str) -> ApiResult<()> {
    let key = owner_key(event, seat);
    match kv.get(&key)?.as_deref().and_then(Owner::decode) {
        Some(o) if o.hold_id == hold_id => kv.delete(&key)?,
        Some(o) => {
            platform::log::warn!("seat {event}/{seat}: {hold_id} gives back a seat {} owns now; left alone", o.hold_id);
            return Ok(());
        }
        None => {}
    }
    kv.incr(&lock_key(event, seat), -1).map(drop)
}

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

/// How long a lock must look orphaned, unchanged, before it is reset: the
/// hold lifetime (`hold_ttl_seconds`), clamped to 2 s ..= 60 s.
pub fn orphan_grace_ms() -> i64 {
    crate::holds::ttl_ms().clamp(2_000, 60_000)
}

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
pub fn recover_orphans(kv: &Kv, now_ms: i64) -> ApiResult<u32> {
    let grace = orphan_grace_ms();
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

/// Gives back everything a hold owned (its seats, its general-admission
/// places and the user's allowance). Call exactly once per hold: from the
/// winner of the hold record's transition into a final state.
pub fn release_all(
    kv: &Kv,
    event: &str,
    user: &str,
    hold_id: &str,
    seats: &[String],
    ga: &[(String, u32)],
) -> ApiResult<()> {
    for seat in seats {
        release_seat(kv, event, seat, hold_id)?;
    }
    for (tier, q) in ga {
        kv.incr(&ga_key(event, tier), -i64::from(*q))?;
    }
    let tickets = seats.len() as i64 + ga.iter().map(|g| i64::from(g.1)).sum::<i64>();
    kv.incr(&user_key(event, user), -tickets).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_round_trips() {
        let o = Owner { hold_id: "hold_1".into(), expires_ms: 1_700_000_000_000 };
        assert_eq!(Owner::decode(&o.encode()), Some(o));
        assert_eq!(Owner::decode(b"junk"), None);
    }

    #[test]
    fn keys_are_namespaced() {
        assert_eq!(lock_key("evt_1", "A-1"), "lock:evt_1:A-1");
        assert_eq!(owner_key("evt_1", "A-1"), "owner:evt_1:A-1");
        assert_eq!(ga_key("evt_1", "tier_1"), "ga:evt_1:tier_1");
        assert_eq!(user_key("evt_1", "usr_1"), "user:evt_1:usr_1");
    }
}
