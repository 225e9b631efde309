//! Holds: the record in the `holds` store and its state machine.
//!
//! A hold record lives at `hold:<id>` (JSON [`HoldRecord`]). It is written
//! once, in the same batched write as its seats' owner records, after all
//! of its seats, places and allowance were claimed (see
//! [`crate::locks::claim`]); no one else can know the fresh id, so that
//! write races with nobody.
//!
//! ## State changes: an exit claim per version
//!
//! Every record carries a `version`, and every change moves it to the next
//! one. Who may change version `v` is decided by one `increment` of the
//! counter `exit:<id>:<v>`: the caller that sees 1 owns the change, writes
//! the successor record (version `v + 1`) with a plain `set`, and only then
//! does the change's side effects; every other caller lost, waits for the
//! successor to appear and looks again (usually finding nothing left to
//! do). A version is left at most once, so no change is ever made twice,
//! and since versions only grow there is no ABA problem even when a status
//! repeats (a checkout the database refused puts `booked` back to
//! `active`).
//!
//! Why not compare-and-swap of the record, as before: Spin 4.0.2's Redis
//! backend reports `CasFailed` for every swap, written or not, so a loop
//! retrying on it repeats its change ([`crate::kv`]). With a Spin whose
//! Redis compare-and-swap reports the truth, [`transition`] could again be
//! one swap of the record (the record exists, so the SQLite backend's swap
//! is atomic too), and the exit counters and the rescue below would go.
//!
//! **A winner that dies** between its exit claim and its write leaves
//! version `v` claimed and never replaced: nobody else can change the hold.
//! It had done nothing else yet (side effects come after the write), so a
//! caller that keeps losing on a version notes it (`stuck:<id>`), and once
//! the same version has been claimed but unreplaced for a grace period
//! ([`orphan_grace_ms`], the same assumption as for orphaned
//! seat locks: a live request never spends that long between two store
//! calls) rewrites the record unchanged as version `v + 1`, itself under a
//! claim (`rescue:<id>:<v>`) so that exactly one caller does. The hold can
//! then change again (and expire, freeing its seats).
//!
//! ```text
//! active ──checkout──▶ booked ──payment succeeded──▶ consumed ──cancel/refund──▶ freed
//!   │                    │
//!   ├─release──▶ released ◀── payment failed / booking cancelled
//!   └─expiry───▶ expired  ◀── expiry (booking → expired)
//! ```
//!
//! `released`, `expired` and `freed` are final. The one request that wins
//! the exit claim into a final state gives the claims back
//! ([`crate::locks::release_all`]) and then frees the hold's seats in
//! booking's seat states ([`settle`], [`crate::mirror`]); a loser sees the
//! new state and does nothing, so an expired hold frees its seats exactly once however many
//! sweeps, claimants, readers and instances notice it at the same moment.
//!
//! Expiry is data (`expires_ms`; Spin KV has no TTL): a hold past it is
//! treated as expired on every read, and is moved to `expired` by the tick
//! sweep, by a claimant that finds it in its way, or by a read.

use crate::kv::Kv;
use crate::store::Sql;
use crate::{locks, mirror};
use platform::tier::TierKind;
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use spin_sdk::sqlite3::{Connection, Value};

/// Longest a hold can live (docs/DESIGN.md §4: at most 15 minutes).
pub const MAX_TTL_SECS: i64 = 900;

/// The configured hold lifetime: Spin variable `hold_ttl_seconds`
/// (default 900), clamped to 1..=900 seconds.
pub fn ttl_ms() -> i64 {
    platform::config::parsed_or("hold_ttl_seconds", MAX_TTL_SECS).clamp(1, MAX_TTL_SECS) * 1000
}

/// Lifecycle of a hold record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Held, no booking yet.
    Active,
    /// A booking (pending payment) was made from it; still counting down.
    Booked,
    /// Its booking was paid: the seats are sold.
    Consumed,
    /// Given back by the user or a failed/cancelled booking (final).
    Released,
    /// Ran out of time (final).
    Expired,
    /// A sold booking was cancelled or refunded; seats back on sale (final).
    Freed,
}

impl HoldStatus {
    /// Final states: the claims were given back.
    pub fn is_final(self) -> bool {
        matches!(self, HoldStatus::Released | HoldStatus::Expired | HoldStatus::Freed)
    }
}

/// A held seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSeat {
    /// Seat id.
    pub id: String,
    /// Its tier.
    pub tier_id: String,
    /// Its price, minor units.
    pub price_minor: i64,
}

/// Tickets of one tier in a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierLine {
    /// Tier id.
    pub tier_id: String,
    /// Tickets.
    pub quantity: u32,
    /// Price per ticket, minor units.
    pub price_minor: i64,
    pub kind: TierKind,
    /// The tier's capacity when held (guards the sale in SQLite).
    pub capacity: u32,
}

/// The KV record of a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRecord {
    /// `hold_…` (or `rhd_…` for a re-hold made by a late payment).
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Event.
    pub event_id: String,
    /// State.
    pub status: HoldStatus,
    /// Held seats (empty for general admission).
    pub seats: Vec<HeldSeat>,
    /// Tickets per tier (seated and general admission).
    pub tiers: Vec<TierLine>,
    /// Total price, minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Expires, Unix ms; never extended.
    pub expires_ms: i64,
    /// The booking made from it.
    pub booking_id: Option<String>,
    /// Event title, start and zone (copied into the booking).
    pub event_title: String,
    /// RFC 3339.
    pub starts_at: String,
    /// IANA zone.
    pub timezone: String,
    /// How many changes the record has had (0 when written); the change
    /// from version `v` is owned by whoever wins `exit:<id>:<v>`
    /// (module docs).
    #[serde(default)]
    pub version: u64,
    /// Tickets of its booking cancelled one by one whose seat or place this
    /// record no longer holds (`crate::cancel_ticket`): each is given back
    /// once, by the swap that adds it here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given_back: Vec<String>,
}

impl HoldRecord {
    /// KV key of hold `id`.
    pub fn key(id: &str) -> String {
        format!("hold:{id}")
    }

    /// Seat ids.
    pub fn seat_ids(&self) -> Vec<String> {
        self.seats.iter().map(|s| s.id.clone()).collect()
    }

    /// General-admission `(tier, quantity)`.
    pub fn ga(&self) -> Vec<(String, u32)> {
        self.tiers
            .iter()
            .filter(|t| t.kind == TierKind::GeneralAdmission)
            .map(|t| (t.tier_id.clone(), t.quantity))
            .collect()
    }

    /// Tickets held.
    pub fn quantity(&self) -> u32 {
        self.tiers.iter().map(|t| t.quantity).sum()
    }

    /// True when its time is up at `now_ms`.
    pub fn is_past(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_ms
    }

    /// The status a reader should see: `active`/`booked` past their time
    /// read as `expired`.
    pub fn effective_status(&self, now_ms: i64) -> HoldStatus {
        match self.status {
            HoldStatus::Active | HoldStatus::Booked if self.is_past(now_ms) => HoldStatus::Expired,
            s => s,
        }
    }

    /// The public JSON of a hold:
    /// `{"id","event_id","status","seats":[{"id","tier_id","price_minor"}],"tiers":[…],"quantity",
    ///   "amount_minor","currency","created_at","expires_at","booking_id"}`.
    pub fn to_json(&self, now_ms: i64) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "event_id": self.event_id,
            "status": self.effective_status(now_ms),
            "seats": self.seats,
            "tiers": self.tiers.iter().map(|t| serde_json::json!({
                "tier_id": t.tier_id, "quantity": t.quantity, "price_minor": t.price_minor, "kind": t.kind,
            })).collect::<Vec<_>>(),
            "quantity": self.quantity(),
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "created_at": platform::clock::rfc3339(self.created_ms),
            "expires_at": platform::clock::rfc3339(self.expires_ms),
            "booking_id": self.booking_id,
        })
    }
}

/// Loads hold `id`.
pub fn load(kv: &Kv, id: &str) -> ApiResult<Option<HoldRecord>> {
    match kv.get(&HoldRecord::key(id))? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("hold {id} is unreadable: {e}"))),
    }
}

/// Outcome of [`transition`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived return value; boxing buys nothing
pub enum Moved {
    /// This call moved the record from `.0` to `.1`.
    Yes(HoldRecord, HoldRecord),
    /// The rule declined; the current record.
    No(HoldRecord),
    /// No such hold.
    Missing,
}

/// Key of the claim on changing version `version` of hold `id`.
fn exit_key(id: &str, version: u64) -> String {
    format!("exit:{id}:{version}")
}

/// How often a caller that lost an exit claim looks for the winner's
/// record before answering 503 (with pauses of 1, 2, 4 … 16 ms: about
/// 0.2 s in all; the winner's write is its very next store call).
const EXIT_LOOKS: u32 = 16;

/// Changes hold `id` through `rule` (which returns the new record or
/// `None` to leave it), as the one owner of the change from the record's
/// current version (module docs). When this call moves the record into a
/// final state, it — and only it — gives the claims back, then frees the
/// seats the hold still has in booking's seat states and closes its sweep
/// index row ([`settle`]); a move to `consumed` closes the index row (the
/// sale itself marks the seats sold).
///
/// Errors: 503 when the store fails, or when another change of the same
/// hold is still being written after [`EXIT_LOOKS`] looks.
pub fn transition(kv: &Kv, sql: Sql, id: &str, rule: impl Fn(&HoldRecord) -> Option<HoldRecord>) -> ApiResult<Moved> {
    for look in 0..EXIT_LOOKS {
        let Some(rec) = load(kv, id)? else { return Ok(Moved::Missing) };
        let Some(next) = rule(&rec) else { return Ok(Moved::No(rec)) };
        if !kv.claim_first(&exit_key(id, rec.version))? {
            // another caller owns this version's change: its record is next
            if look + 1 == EXIT_LOOKS {
                rescue_if_stuck(kv, &rec)?;
            } else {
                std::thread::sleep(std::time::Duration::from_millis(1 << look.min(4)));
            }
            continue;
        }
        let after = HoldRecord { version: rec.version + 1, ..next };
        kv.set(&HoldRecord::key(id), &serde_json::to_vec(&after).map_err(|e| ApiError::Internal(e.into()))?)?;
        if after.status.is_final() && !rec.status.is_final() {
            locks::release_all(kv, &after.event_id, &after.user_id, &after.id, &after.seat_ids(), &after.ga())?;
        }
        if after.status.is_final() || after.status == HoldStatus::Consumed {
            settle(sql, &after.event_id, &after.id, after.status == HoldStatus::Consumed);
        }
        return Ok(Moved::Yes(rec, after));
    }
    Err(ApiError::Unavailable(format!("hold {id} is changing; try again")))
}

/// What a caller that kept losing on a hold's version saw, at `stuck:<id>`.
#[derive(Debug, Serialize, Deserialize)]
struct Stuck {
    version: u64,
    seen_ms: i64,
}

/// Called by a caller that kept losing the exit claim on `rec`'s version:
/// remembers when it first saw that version stuck, and once it has been so
/// for the grace period, rewrites the record unchanged as the next version
/// (under a claim, so once) — see the module docs. Returns whether this
/// call rescued it.
fn rescue_if_stuck(kv: &Kv, rec: &HoldRecord) -> ApiResult<bool> {
    let key = format!("stuck:{}", rec.id);
    let now = platform::clock::now_ms();
    let seen = kv.get(&key)?.and_then(|b| serde_json::from_slice::<Stuck>(&b).ok());
    match seen {
        Some(s) if s.version == rec.version && now - s.seen_ms >= orphan_grace_ms() => {
            // the version's winner is dead (grace assumption); still the same record?
            let current = load(kv, &rec.id)?;
            if current.as_ref().map(|c| c.version) != Some(rec.version)
                || !kv.claim_first(&format!("rescue:{}:{}", rec.id, rec.version))?
            {
                return Ok(false);
            }
            let next = HoldRecord { version: rec.version + 1, ..rec.clone() };
            kv.set(&HoldRecord::key(&rec.id), &serde_json::to_vec(&next).map_err(|e| ApiError::Internal(e.into()))?)?;
            platform::log::warn!(
                "hold {}: version {} was claimed by a request that never wrote it; rescued",
                rec.id,
                rec.version
            );
            Ok(true)
        }
        Some(s) if s.version == rec.version => Ok(false),
        _ => {
            let stuck = Stuck { version: rec.version, seen_ms: now };
            kv.set(&key, &serde_json::to_vec(&stuck).map_err(|e| ApiError::Internal(e.into()))?)?;
            Ok(false)
        }
    }
}

/// The SQLite side of a hold that is over (or sold, with `sold`): frees
/// the seats it still holds in the seat states (not when sold) and closes
/// its sweep index row, in one transaction. Idempotent, so whoever notices
/// a hold is over may call it: the winner of its final transition, the
/// sweep (which repairs what a request that died in between left behind),
/// an undone claim. A failure is logged and left to the sweep (the index
/// row stays open until this succeeds).
pub fn settle(sql: Sql, event_id: &str, hold_id: &str, sold: bool) {
    let done = sql.atomically(|c| settle_in(c, event_id, hold_id, sold));
    if let Err(e) = done {
        platform::log::warn!("hold {hold_id}: settling its seat states and index row failed (the sweep retries): {e}");
    }
}

/// [`settle`] inside the caller's transaction.
pub fn settle_in(c: &Connection, event_id: &str, hold_id: &str, sold: bool) -> ApiResult<()> {
    if !sold {
        mirror::release(c, event_id, hold_id)?;
    }
    c.execute(INDEX_CLOSE, &[Value::Text(hold_id.to_string())])?;
    Ok(())
}

/// Moves `rec` to `status` if it is in one of `from`.
pub fn to_status(from: &'static [HoldStatus], status: HoldStatus) -> impl Fn(&HoldRecord) -> Option<HoldRecord> {
    move |rec| from.contains(&rec.status).then(|| HoldRecord { status, ..rec.clone() })
}

/// Expires hold `id` if its time is up and it is `active` or `booked`;
/// a booking pending payment on it becomes `expired`. Safe to call from
/// anywhere, any number of times: the seats are freed once.
pub fn expire_if_due(kv: &Kv, sql: Sql, id: &str, now_ms: i64) -> ApiResult<Moved> {
    let moved = transition(kv, sql, id, |rec| {
        (matches!(rec.status, HoldStatus::Active | HoldStatus::Booked) && rec.is_past(now_ms))
            .then(|| HoldRecord { status: HoldStatus::Expired, ..rec.clone() })
    })?;
    if let Moved::Yes(before, _) = &moved {
        if before.status == HoldStatus::Booked {
            sql.conn.execute(
                "UPDATE bookings SET status = 'expired', updated_ms = ? WHERE hold_id = ? AND status = 'pending_payment'",
                &[Value::Integer(now_ms), Value::Text(id.to_string())],
            )?;
        }
    }
    Ok(moved)
}

const INDEX_INSERT: &str =
    "INSERT INTO hold_index (hold_id, event_id, user_id, expires_ms, open) VALUES (?, ?, ?, ?, 1) \
     ON CONFLICT(hold_id) DO UPDATE SET open = 1, expires_ms = excluded.expires_ms";
const INDEX_CLOSE: &str = "UPDATE hold_index SET open = 0 WHERE hold_id = ?";
const INDEX_DUE: &str =
    "SELECT hold_id, event_id FROM hold_index WHERE open = 1 AND expires_ms <= ? ORDER BY expires_ms LIMIT ?";
const INDEX_DUE_OF_EVENT: &str =
    "SELECT hold_id, event_id FROM hold_index WHERE event_id = ? AND open = 1 AND expires_ms <= ? ORDER BY expires_ms LIMIT ?";
const INDEX_OF_EVENT: &str = "SELECT hold_id FROM hold_index WHERE open = 1 AND event_id = ? LIMIT 1000";

/// Adds a new hold to the sweep index (inside the transaction that
/// reserves its seats, before anything is claimed in the KV store, so a
/// request that dies after it leaves a row the sweep finds). A claim
/// retried under the same id after its first try was undone opens the row
/// again.
pub fn index(c: &Connection, hold_id: &str, event_id: &str, user_id: &str, expires_ms: i64) -> ApiResult<()> {
    c.execute(
        INDEX_INSERT,
        &[
            Value::Text(hold_id.to_string()),
            Value::Text(event_id.to_string()),
            Value::Text(user_id.to_string()),
            Value::Integer(expires_ms),
        ],
    )?;
    Ok(())
}

fn pairs(r: spin_sdk::sqlite3::QueryResult) -> Vec<(String, String)> {
    r.rows()
        .filter_map(|row| Some((row.get::<&str>("hold_id")?.to_string(), row.get::<&str>("event_id")?.to_string())))
        .collect()
}

/// `(hold id, event id)` of open holds whose time is up (at most `limit`).
pub fn due(conn: &Connection, now_ms: i64, limit: i64) -> ApiResult<Vec<(String, String)>> {
    Ok(pairs(conn.execute(INDEX_DUE, &[Value::Integer(now_ms), Value::Integer(limit)])?))
}

/// Ids of an event's open holds.
pub fn open_of_event(conn: &Connection, event_id: &str) -> ApiResult<Vec<String>> {
    let r = conn.execute(INDEX_OF_EVENT, &[Value::Text(event_id.to_string())])?;
    Ok(r.rows().filter_map(|row| row.get::<&str>("hold_id").map(str::to_string)).collect())
}

/// Expires up to `limit` open holds of `event_id` whose time is up (each
/// frees its seats once; those already over are settled, as by
/// [`sweep`]); returns how many this call expired. For the paths that find an event's places tied up in holds
/// past their time (best available and general admission when sold out).
pub fn sweep_event(kv: &Kv, conn: &Connection, event_id: &str, now_ms: i64, limit: i64) -> ApiResult<u32> {
    free_unclaimed(conn, event_id, now_ms);
    let ids = pairs(conn.execute(
        INDEX_DUE_OF_EVENT,
        &[Value::Text(event_id.to_string()), Value::Integer(now_ms), Value::Integer(limit)],
    )?);
    sweep_ids(kv, conn, ids, now_ms)
}

/// Hold `hold_id` of `event_id` is in someone's way and its time is up:
/// expires it, or, when it is already over (or was never recorded),
/// settles what it left in booking's seat states. Returns whether this
/// call expired it.
pub fn clear(kv: &Kv, conn: &Connection, event_id: &str, hold_id: &str, now_ms: i64) -> ApiResult<bool> {
    Ok(sweep_ids(kv, conn, vec![(hold_id.to_string(), event_id.to_string())], now_ms)? > 0)
}

fn sweep_ids(kv: &Kv, conn: &Connection, ids: Vec<(String, String)>, now_ms: i64) -> ApiResult<u32> {
    let mut expired = 0;
    for (id, event) in ids {
        match expire_if_due(kv, Sql::top(conn), &id, now_ms)? {
            Moved::Yes(..) => expired += 1,
            Moved::No(rec) if rec.status.is_final() || rec.status == HoldStatus::Consumed => {
                settle(Sql::top(conn), &event, &id, rec.status == HoldStatus::Consumed)
            }
            Moved::No(_) => {}
            Moved::Missing => settle(Sql::top(conn), &event, &id, false),
        }
    }
    Ok(expired)
}

/// How long a lock must look orphaned, unchanged, before it is reset: the
/// hold lifetime (`hold_ttl_seconds`), clamped to 2 s ..= 60 s.
pub fn orphan_grace_ms() -> i64 {
    ttl_ms().clamp(2_000, 60_000)
}

/// The tick's sweep: expires every due hold (freeing its seats once),
/// settles index rows of holds that are already over or were never
/// recorded (a request that died between reserving and claiming: its seat
/// states are freed here), frees seat states marked taken by unknown
/// claims whose time passed ([`mirror::mark_taken`]). Returns how many
/// holds this sweep expired. (The tick recovers orphaned seat locks
/// before it: [`crate::orphans`].)
pub fn sweep(kv: &Kv, conn: &Connection, now_ms: i64) -> ApiResult<u32> {
    for event_id in mirror::unclaimed_due(conn, now_ms)? {
        free_unclaimed(conn, &event_id, now_ms);
    }
    sweep_ids(kv, conn, due(conn, now_ms, 500)?, now_ms)
}

/// Frees the seats of `event_id` that were marked taken by a claim nobody
/// recorded once their time passed ([`mirror::mark_taken`]); a failure is
/// logged (the next sweep retries).
fn free_unclaimed(conn: &Connection, event_id: &str, now_ms: i64) {
    if let Err(e) = Sql::top(conn).atomically(|c| mirror::free_unclaimed(c, event_id, now_ms)) {
        platform::log::warn!(
            "hold sweep: seats of {event_id} taken by unknown claims stay so until the next sweep: {e}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: HoldStatus, expires_ms: i64) -> HoldRecord {
        HoldRecord {
            id: "hold_1".into(),
            user_id: "usr_1".into(),
            event_id: "evt_1".into(),
            status,
            seats: vec![HeldSeat { id: "A1".into(), tier_id: "t".into(), price_minor: 100 }],
            tiers: vec![
                TierLine { tier_id: "t".into(), quantity: 1, price_minor: 100, kind: TierKind::Seated, capacity: 10 },
                TierLine {
                    tier_id: "g".into(),
                    quantity: 2,
                    price_minor: 50,
                    kind: TierKind::GeneralAdmission,
                    capacity: 5,
                },
            ],
            amount_minor: 200,
            currency: "USD".into(),
            created_ms: 0,
            expires_ms,
            booking_id: None,
            event_title: "x".into(),
            starts_at: "2030-01-01T00:00:00Z".into(),
            timezone: "UTC".into(),
            version: 0,
            given_back: vec![],
        }
    }

    #[test]
    fn expiry_is_read_from_the_data() {
        let r = rec(HoldStatus::Active, 1000);
        assert_eq!(r.effective_status(999), HoldStatus::Active);
        assert_eq!(r.effective_status(1000), HoldStatus::Expired);
        assert_eq!(rec(HoldStatus::Consumed, 1000).effective_status(5000), HoldStatus::Consumed);
        assert_eq!(r.to_json(2000)["status"], "expired");
        assert_eq!(r.to_json(0)["expires_at"], "1970-01-01T00:00:01Z");
    }

    #[test]
    fn transitions_only_move_forward_from_allowed_states() {
        let rule = to_status(&[HoldStatus::Active], HoldStatus::Released);
        assert_eq!(rule(&rec(HoldStatus::Active, 0)).unwrap().status, HoldStatus::Released);
        assert!(rule(&rec(HoldStatus::Booked, 0)).is_none());
        assert!(HoldStatus::Expired.is_final() && !HoldStatus::Consumed.is_final());
    }

    #[test]
    fn ga_and_quantity() {
        let r = rec(HoldStatus::Active, 0);
        assert_eq!(r.ga(), vec![("g".to_string(), 2)]);
        assert_eq!(r.quantity(), 3);
        assert_eq!(r.seat_ids(), ["A1"]);
    }
}
