//! Live seat states in booking's database: the gate in front of the seat
//! locks, and what the availability document is read from.
//!
//! Every seat of a copied event ([`crate::inventory`]) has a row in
//! `inv_seats` with a state — free, held (with the hold and its expiry)
//! or sold — and the event has a 2-bit-per-seat status blob (`inv_status`)
//! and per-tier `held`/`sold` counters (`inv_tiers`). Every function here
//! changes all three together and bumps the status version; call them
//! inside the transaction of the change they mirror.
//!
//! Who mirrors what:
//!
//! | change | function | in the same transaction as |
//! |---|---|---|
//! | a hold takes seats | [`reserve`] | the hold's sweep index row, BEFORE its KV claims |
//! | a hold ends (released, expired, a failed claim undone) | [`release`] | closing its sweep index row, after its KV give-backs |
//! | seats are sold | [`sell`] | the `sold_seats` rows |
//! | a sale is undone (cancelled, refunded) | [`unsell`] | deleting the `sold_seats` rows |
//! | a KV claim this table did not know of made a request lose | [`mark_taken`] | undoing that request's reservation |
//!
//! The KV seat locks stay the authority on who holds a seat, and
//! `sold_seats` the final guard against a double sale. A reservation here
//! comes first and only gates: a request that finds a seat taken here gives
//! up without touching the KV store, and a request that reserved but then
//! loses the KV claim (a claim this table did not know of) undoes its
//! reservation. So the states can only be wrong towards "taken" when a
//! request dies between the two stores, and that is repaired when the dead
//! hold's time is up: the sweep finds its open index row and releases
//! whatever it still has here ([`crate::holds::settle`]).

use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::{Connection, Value};
use std::collections::HashMap;

/// Seat state: can be held.
pub const FREE: i64 = 0;
/// Seat state: in a live hold or a booking awaiting payment.
pub const HELD: i64 = 1;
/// Seat state: paid for.
pub const SOLD: i64 = 2;

/// Reads seat `idx`'s 2-bit state from a status blob (seat i is in byte
/// i/4, bits `2*(i%4)`..; missing bytes read as free).
pub fn bit_state(bits: &[u8], idx: usize) -> i64 {
    bits.get(idx / 4).map_or(FREE, |b| i64::from((b >> ((idx % 4) * 2)) & 0b11))
}

/// Writes seat `idx`'s 2-bit state into a status blob, growing it if needed.
pub fn set_bit_state(bits: &mut Vec<u8>, idx: usize, state: i64) {
    if bits.len() <= idx / 4 {
        bits.resize(idx / 4 + 1, 0);
    }
    let shift = (idx % 4) * 2;
    let byte = &mut bits[idx / 4];
    *byte = (*byte & !(0b11 << shift)) | (((state as u8) & 0b11) << shift);
}

/// Bytes of a status blob for `seats` seats.
pub fn bits_len(seats: usize) -> usize {
    seats.div_ceil(4)
}

/// One seat's row as the hold path needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRow {
    /// Seat id.
    pub id: String,
    /// Place in the layout (and the status bits).
    pub idx: i64,
    /// Its tier.
    pub tier_id: String,
    /// [`FREE`], [`HELD`] or [`SOLD`].
    pub state: i64,
    /// The hold that has it.
    pub hold_id: Option<String>,
    /// When that hold runs out, ms.
    pub until_ms: Option<i64>,
}

fn seat_row(r: &spin_sdk::sqlite3::Row) -> Option<SeatRow> {
    Some(SeatRow {
        id: r.get::<&str>("seat_id")?.to_string(),
        idx: r.get::<i64>("idx")?,
        tier_id: r.get::<&str>("tier_id")?.to_string(),
        state: r.get::<i64>("state")?,
        hold_id: r.get::<&str>("hold_id").map(str::to_string),
        until_ms: r.get::<i64>("until_ms"),
    })
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// The rows of seats `ids` of `event` that exist (n primary-key lookups in
/// one statement), in no particular order.
pub fn seats(c: &Connection, event: &str, ids: &[String]) -> ApiResult<Vec<SeatRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut params = vec![text(event)];
    params.extend(ids.iter().map(|s| text(s)));
    let r = c.execute(
        &format!("SELECT seat_id, idx, tier_id, state, hold_id, until_ms FROM inv_seats WHERE event_id = ? AND seat_id IN ({})", marks(ids.len())),
        &params,
    )?;
    Ok(r.rows().filter_map(|row| seat_row(&row)).collect())
}

/// A free seat as the best-available scan returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeSeat {
    /// The seat.
    pub row: SeatRow,
    /// Order within its row.
    pub position: i64,
    /// Its row's rank.
    pub row_rank: i64,
    /// Twice its row's middle position.
    pub row_mid2: i64,
}

/// Up to `limit` free seats of `tier` of `event`, best rows first and by
/// position within a row, after `(row_rank, position)` `after` (keyset
/// paging). One range scan of index `inv_seats_free`.
pub fn free_seats(
    c: &Connection,
    event: &str,
    tier: &str,
    after: Option<(i64, i64)>,
    limit: i64,
) -> ApiResult<Vec<FreeSeat>> {
    let (rank, pos) = after.unwrap_or((-1, i64::MIN));
    let r = c.execute(
        "SELECT seat_id, idx, tier_id, state, hold_id, until_ms, position, row_rank, row_mid2 FROM inv_seats \
         WHERE event_id = ? AND tier_id = ? AND state = 0 AND (row_rank, position) > (?, ?) \
         ORDER BY row_rank, position LIMIT ?",
        &[text(event), text(tier), Value::Integer(rank), Value::Integer(pos), Value::Integer(limit)],
    )?;
    Ok(r.rows()
        .filter_map(|row| {
            Some(FreeSeat {
                row: seat_row(&row)?,
                position: row.get::<i64>("position")?,
                row_rank: row.get::<i64>("row_rank")?,
                row_mid2: row.get::<i64>("row_mid2")?,
            })
        })
        .collect())
}

/// A state change of one seat: `(idx, tier, from, to)`.
type Change = (i64, String, i64, i64);

/// Applies `changes` to the status blob and the tier counters of `event`
/// and bumps its status version (no-op for an empty list).
fn apply(c: &Connection, event: &str, changes: &[Change]) -> ApiResult<()> {
    let changes: Vec<&Change> = changes.iter().filter(|(_, _, from, to)| from != to).collect();
    if changes.is_empty() {
        return Ok(());
    }
    let r = c.execute("SELECT bits FROM inv_status WHERE event_id = ?", &[text(event)])?;
    let mut bits: Vec<u8> =
        r.rows().next().and_then(|row| row.get::<&[u8]>("bits").map(<[u8]>::to_vec)).unwrap_or_default();
    let mut per_tier: HashMap<&str, (i64, i64)> = HashMap::new();
    for (idx, tier, from, to) in &changes {
        set_bit_state(&mut bits, usize::try_from(*idx).unwrap_or(0), *to);
        let d = per_tier.entry(tier.as_str()).or_default();
        for (state, sign) in [(*from, -1), (*to, 1)] {
            match state {
                HELD => d.0 += sign,
                SOLD => d.1 += sign,
                _ => {}
            }
        }
    }
    c.execute(
        "UPDATE inv_status SET bits = ?, version = version + 1 WHERE event_id = ?",
        &[Value::Blob(bits), text(event)],
    )?;
    for (tier, (held, sold)) in per_tier {
        c.execute(
            "UPDATE inv_tiers SET held = MAX(0, held + ?), sold = MAX(0, sold + ?) WHERE event_id = ? AND tier_id = ?",
            &[Value::Integer(held), Value::Integer(sold), text(event), text(tier)],
        )?;
    }
    Ok(())
}

/// Marks `rows` (all [`FREE`], as just read in this transaction) held by
/// `hold_id` until `until_ms`. `Ok(false)` when one of them was not free
/// after all (nothing changed; roll back).
pub fn reserve(c: &Connection, event: &str, hold_id: &str, until_ms: i64, rows: &[SeatRow]) -> ApiResult<bool> {
    if rows.is_empty() {
        return Ok(true);
    }
    let mut params = vec![text(hold_id), Value::Integer(until_ms), text(event)];
    params.extend(rows.iter().map(|s| text(&s.id)));
    let r = c.execute(
        &format!("UPDATE inv_seats SET state = 1, hold_id = ?, until_ms = ? WHERE event_id = ? AND state = 0 AND seat_id IN ({}) RETURNING seat_id", marks(rows.len())),
        &params,
    )?;
    if r.rows.len() != rows.len() {
        return Ok(false);
    }
    let changes: Vec<Change> = rows.iter().map(|s| (s.idx, s.tier_id.clone(), FREE, HELD)).collect();
    apply(c, event, &changes)?;
    Ok(true)
}

/// Runs `update` (an UPDATE of `inv_seats` rows of `event` that moves
/// them from state `from` to `to`, `RETURNING idx, tier_id`) and mirrors
/// the change in the status blob and tier counters; returns how many rows
/// moved.
fn move_rows(c: &Connection, event: &str, update: &str, params: &[Value], from: i64, to: i64) -> ApiResult<usize> {
    let r = c.execute(update, params)?;
    let changes: Vec<Change> = r
        .rows()
        .filter_map(|row| Some((row.get::<i64>("idx")?, row.get::<&str>("tier_id")?.to_string(), from, to)))
        .collect();
    apply(c, event, &changes)?;
    Ok(changes.len())
}

/// Frees the seats `hold_id` still holds (not those it sold); returns how
/// many. Idempotent.
pub fn release(c: &Connection, event: &str, hold_id: &str) -> ApiResult<usize> {
    move_rows(
        c,
        event,
        "UPDATE inv_seats SET state = 0, hold_id = NULL, until_ms = NULL WHERE hold_id = ? AND event_id = ? AND state = 1 RETURNING idx, tier_id",
        &[text(hold_id), text(event)],
        HELD,
        FREE,
    )
}

/// A KV claim on seat `id` that these states did not know of lost someone
/// a seat they showed free: marks it held — by `owner` until `until_ms`
/// when the lock's owner record names one, else by nobody known (a claim
/// of a request that died, see [`crate::locks`]) until `until_ms` — so
/// that readers see it taken and requests stop trying it. A claim by
/// nobody known is freed here again once `until_ms` has passed
/// ([`free_unclaimed`]); if the lock is still taken then, the next loser
/// marks it again. Only a free seat is marked.
pub fn mark_taken(c: &Connection, event: &str, id: &str, owner: Option<&str>, until_ms: i64) -> ApiResult<()> {
    move_rows(
        c,
        event,
        "UPDATE inv_seats SET state = 1, hold_id = ?, until_ms = ? WHERE event_id = ? AND seat_id = ? AND state = 0 RETURNING idx, tier_id",
        &[owner.map_or(Value::Null, text), Value::Integer(until_ms), text(event), text(id)],
        FREE,
        HELD,
    )
    .map(drop)
}

/// Frees the seats of `event` marked taken by nobody known
/// ([`mark_taken`]) whose time has passed at `now_ms`; returns how many.
pub fn free_unclaimed(c: &Connection, event: &str, now_ms: i64) -> ApiResult<usize> {
    move_rows(
        c,
        event,
        "UPDATE inv_seats SET state = 0, until_ms = NULL WHERE event_id = ? AND state = 1 AND hold_id IS NULL AND until_ms <= ? RETURNING idx, tier_id",
        &[text(event), Value::Integer(now_ms)],
        HELD,
        FREE,
    )
}

/// Events with seats marked taken by nobody known whose time has passed.
pub fn unclaimed_due(c: &Connection, now_ms: i64) -> ApiResult<Vec<String>> {
    let r = c.execute(
        "SELECT DISTINCT event_id FROM inv_seats WHERE state = 1 AND hold_id IS NULL AND until_ms <= ? LIMIT 100",
        &[Value::Integer(now_ms)],
    )?;
    let found = r.rows().filter_map(|row| row.get::<&str>("event_id").map(str::to_string)).collect();
    Ok(found)
}

/// Held seats of `event` whose hold ran out by `now_ms` but that no sweep
/// has freed yet: `(idx, tier)`. One range scan of `inv_seats_held_until`.
pub fn held_past(c: &Connection, event: &str, now_ms: i64) -> ApiResult<Vec<(i64, String)>> {
    let r = c.execute(
        "SELECT idx, tier_id FROM inv_seats WHERE event_id = ? AND state = 1 AND until_ms <= ?",
        &[text(event), Value::Integer(now_ms)],
    )?;
    let found =
        r.rows().filter_map(|row| Some((row.get::<i64>("idx")?, row.get::<&str>("tier_id")?.to_string()))).collect();
    Ok(found)
}

/// Marks seats `ids` sold by `hold_id` (whatever they were: the KV claim
/// and the `sold_seats` rows written with it decide).
pub fn sell(c: &Connection, event: &str, hold_id: &str, ids: &[String]) -> ApiResult<()> {
    let before = seats(c, event, ids)?;
    if before.is_empty() {
        return Ok(());
    }
    let mut params = vec![text(hold_id), text(event)];
    params.extend(before.iter().map(|s| text(&s.id)));
    c.execute(
        &format!(
            "UPDATE inv_seats SET state = 2, hold_id = ?, until_ms = NULL WHERE event_id = ? AND seat_id IN ({})",
            marks(before.len())
        ),
        &params,
    )?;
    let changes: Vec<Change> = before.into_iter().map(|s| (s.idx, s.tier_id, s.state, SOLD)).collect();
    apply(c, event, &changes)
}

/// Puts sold seats `ids` back on sale (their sale was undone).
pub fn unsell(c: &Connection, event: &str, ids: &[String]) -> ApiResult<()> {
    let sold: Vec<SeatRow> = seats(c, event, ids)?.into_iter().filter(|s| s.state == SOLD).collect();
    if sold.is_empty() {
        return Ok(());
    }
    let mut params = vec![text(event)];
    params.extend(sold.iter().map(|s| text(&s.id)));
    c.execute(
        &format!(
            "UPDATE inv_seats SET state = 0, until_ms = NULL WHERE event_id = ? AND state = 2 AND seat_id IN ({})",
            marks(sold.len())
        ),
        &params,
    )?;
    let changes: Vec<Change> = sold.into_iter().map(|s| (s.idx, s.tier_id, SOLD, FREE)).collect();
    apply(c, event, &changes)
}

/// Adds `delta` (negative to undo) to the places sold of general-admission
/// tier `tier`.
pub fn sell_ga(c: &Connection, event: &str, tier: &str, delta: i64) -> ApiResult<()> {
    c.execute(
        "UPDATE inv_tiers SET sold = MAX(0, sold + ?) WHERE event_id = ? AND tier_id = ? AND kind = 'general_admission'",
        &[Value::Integer(delta), text(event), text(tier)],
    )?;
    Ok(())
}

/// The status version and blob of `event` (`None` when never copied).
pub fn status(c: &Connection, event: &str) -> ApiResult<Option<(i64, Vec<u8>)>> {
    let r = c.execute("SELECT version, bits FROM inv_status WHERE event_id = ?", &[text(event)])?;
    let found = r.rows().next().and_then(|row| Some((row.get::<i64>("version")?, row.get::<&[u8]>("bits")?.to_vec())));
    Ok(found)
}

/// The status version of `event` alone (cheap: no blob).
pub fn status_version(c: &Connection, event: &str) -> ApiResult<Option<i64>> {
    let r = c.execute("SELECT version FROM inv_status WHERE event_id = ?", &[text(event)])?;
    let found = r.rows().next().and_then(|row| row.get::<i64>("version"));
    Ok(found)
}

/// 503 for a mirror that should exist and does not (never expected).
pub fn missing(event: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("event {event} has no seat states"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bits_per_seat_in_layout_order() {
        let mut bits = vec![0u8; bits_len(9)];
        assert_eq!(bits.len(), 3);
        set_bit_state(&mut bits, 0, HELD);
        set_bit_state(&mut bits, 3, SOLD);
        set_bit_state(&mut bits, 8, SOLD);
        assert_eq!(bits, [0b1000_0001, 0, 0b10]);
        assert_eq!(
            (bit_state(&bits, 0), bit_state(&bits, 1), bit_state(&bits, 3), bit_state(&bits, 8)),
            (HELD, FREE, SOLD, SOLD)
        );
        set_bit_state(&mut bits, 3, FREE);
        assert_eq!(bits[0], 0b0000_0001);
        // past the end reads free and writing grows the blob
        assert_eq!(bit_state(&bits, 40), FREE);
        set_bit_state(&mut bits, 13, HELD);
        assert_eq!(bits.len(), 4);
        assert_eq!(bit_state(&bits, 13), HELD);
    }
}
