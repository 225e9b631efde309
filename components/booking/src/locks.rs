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

use crate::kv::Kv;
use platform::ApiResult;

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
