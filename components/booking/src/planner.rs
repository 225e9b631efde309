//! Making one hold: the plan of what it takes (explicit seats, best
//! available in a seated tier, places of a general-admission tier), the
//! reservation in booking's seat states, and the claim in the KV store
//! that decides ([`locks::claim`]); a claim that loses undoes the
//! reservation. Called by `POST /api/holds` ([`crate::hold_routes`]).

use crate::domain::check;
use crate::holds::{self, HeldSeat, HoldRecord, HoldStatus, TierLine};
use crate::inventory::{load, Inventory, Tier};
use crate::kv::Kv;
use crate::locks::{self, Claim, Lost, Owner};
use crate::mirror::{self, SeatRow};
use crate::selection::{self, best_available, FreeRow, Pick};
use platform::tier::TierKind;
use platform::{ApiError, ApiResult, FieldError};
use spin_sdk::sqlite3::Connection;
use std::collections::{HashMap, HashSet};

/// What a hold takes.
pub struct Plan {
    seats: Vec<HeldSeat>,
    ga: Option<(String, u32, u32)>,
}

pub fn record(inv: &Inventory, user: &str, owner: &Owner, plan: Plan, now: i64) -> HoldRecord {
    let mut tiers: Vec<TierLine> = Vec::new();
    for s in &plan.seats {
        match tiers.iter_mut().find(|t| t.tier_id == s.tier_id) {
            Some(t) => t.quantity += 1,
            None => {
                let cap = inv.tier(&s.tier_id).map(|t| t.capacity).unwrap_or(0);
                tiers.push(TierLine {
                    tier_id: s.tier_id.clone(),
                    quantity: 1,
                    price_minor: s.price_minor,
                    kind: TierKind::Seated,
                    capacity: cap,
                })
            }
        }
    }
    if let Some((tier_id, q, cap)) = &plan.ga {
        let price = inv.tier(tier_id).map(|t| t.price_minor).unwrap_or(0);
        tiers.push(TierLine {
            tier_id: tier_id.clone(),
            quantity: *q,
            price_minor: price,
            kind: TierKind::GeneralAdmission,
            capacity: *cap,
        });
    }
    let amount = tiers.iter().map(|t| t.price_minor * i64::from(t.quantity)).sum();
    HoldRecord {
        id: owner.hold_id.clone(),
        user_id: user.to_string(),
        event_id: inv.event_id.clone(),
        status: HoldStatus::Active,
        seats: plan.seats,
        tiers,
        amount_minor: amount,
        currency: inv.currency.clone(),
        created_ms: now,
        expires_ms: owner.expires_ms,
        booking_id: None,
        event_title: inv.title.clone(),
        starts_at: inv.starts_at.clone(),
        timezone: inv.timezone.clone(),
        version: 0,
        given_back: vec![],
    }
}

fn lost_error(lost: Lost, limit: u32) -> ApiError {
    match lost {
        Lost::Seat(seat, _) => ApiError::conflict("seat-unavailable", format!("seat {seat} is not available")),
        Lost::Tier(tier, left) => ApiError::conflict("sold-out", format!("only {left} tickets left in tier {tier}")),
        Lost::UserLimit(have) => ApiError::conflict(
            "order-limit",
            format!("you already hold or bought {have} tickets for this event; the limit is {limit}"),
        ),
    }
}

fn changing_hands() -> ApiError {
    ApiError::conflict("seat-unavailable", "the seats are changing hands; try again")
}

/// Why a reservation could not be made.
enum Refused {
    /// The seat is taken; when held: by this hold (`None`: a claim nobody
    /// recorded, see [`mirror::mark_taken`]) until then.
    Taken(String, Option<(Option<String>, i64)>),
    /// Fewer free seats than asked for in the tier.
    SoldOut,
}

/// Free seats of a tier looked at per best-available query, and at most in
/// all (a tier so fragmented that its best `MAX_SCAN` free seats hold no
/// block gets the best choice among those).
const PAGE: i64 = 500;
const MAX_SCAN: usize = 5_000;

/// One hold being made.
pub struct Holder<'a> {
    pub kv: &'a Kv,
    pub conn: &'a Connection,
    pub inv: &'a Inventory,
    pub user: &'a str,
    pub owner: &'a Owner,
    pub now: i64,
}

impl Holder<'_> {
    fn price(&self, tier_id: &str) -> i64 {
        self.inv.tier(tier_id).map_or(0, |t| t.price_minor)
    }

    /// Reserves `rows` (read free in this transaction) with the index row;
    /// 409 (roll back) if one was not free after all.
    fn reserve_in(&self, c: &Connection, rows: Vec<SeatRow>) -> ApiResult<Result<Vec<SeatRow>, Refused>> {
        if !mirror::reserve(c, &self.inv.event_id, &self.owner.hold_id, self.owner.expires_ms, &rows)? {
            return Err(changing_hands());
        }
        holds::index(c, &self.owner.hold_id, &self.inv.event_id, self.user, self.owner.expires_ms)?;
        Ok(Ok(rows))
    }

    /// Claims `plan` in the KV store (writing the hold record with it);
    /// on a loss or a failure the reservation is undone.
    fn claim(&self, plan: Plan) -> ApiResult<Result<HoldRecord, Lost>> {
        let seat_ids: Vec<String> = plan.seats.iter().map(|s| s.id.clone()).collect();
        let ga: Vec<(String, u32, u32)> = plan.ga.iter().cloned().collect();
        let rec = record(self.inv, self.user, self.owner, plan, self.now);
        let bytes = serde_json::to_vec(&rec).map_err(|e| ApiError::Internal(e.into()))?;
        let claim = Claim {
            event: &self.inv.event_id,
            user: self.user,
            user_limit: self.inv.limit(),
            seats: seat_ids,
            ga,
            owner: self.owner.clone(),
        };
        let outcome = locks::claim(self.kv, &claim, false, Some((HoldRecord::key(&rec.id), bytes)));
        if !matches!(outcome, Ok(Ok(()))) {
            self.undo(outcome.as_ref().ok().and_then(|r| r.as_ref().err()));
        }
        outcome.map(|r| r.map(|()| rec))
    }

    /// Undoes the reservation of a claim that lost (or failed), in one
    /// transaction: this hold's seat states and index row are settled, and
    /// a seat lost to a claim the seat states did not know of is marked
    /// taken by it ([`mirror::mark_taken`]: by its owner until the owner's
    /// expiry, or by nobody known for a grace period). A failure is logged:
    /// the sweep settles the hold when its time is up.
    fn undo(&self, lost: Option<&Lost>) {
        let ev = &self.inv.event_id;
        let done = platform::db::transaction(self.conn, |c| {
            holds::settle_in(c, ev, &self.owner.hold_id, false)?;
            if let Some(Lost::Seat(seat, owner)) = lost {
                let until = owner.as_ref().map_or(self.now + holds::orphan_grace_ms(), |o| o.expires_ms);
                mirror::mark_taken(c, ev, seat, owner.as_ref().map(|o| o.hold_id.as_str()), until)?;
            }
            Ok::<_, ApiError>(())
        });
        if let Err(e) = done {
            platform::log::warn!(
                "hold {}: undoing its reservation failed (the sweep settles it): {e}",
                self.owner.hold_id
            );
        }
    }

    /// When a seat is held by a hold past its time, expires that hold
    /// (which frees the seat, exactly once) and says whether a retry may win.
    fn clear_expired(&self, holder: Option<(String, i64)>) -> ApiResult<bool> {
        match holder {
            Some((hold_id, until)) if until <= self.now => {
                holds::clear(self.kv, self.conn, &self.inv.event_id, &hold_id, self.now)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Explicit seats: n primary-key lookups, all free or nothing.
    pub fn explicit(&self, ids: &[String]) -> ApiResult<HoldRecord> {
        let ev = &self.inv.event_id;
        for _ in 0..3 {
            let reserved = platform::db::transaction(self.conn, |c| -> ApiResult<Result<Vec<SeatRow>, Refused>> {
                let rows = mirror::seats(c, ev, ids)?;
                let mut errors = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    if !rows.iter().any(|r| &r.id == id) {
                        errors.push(FieldError::new(
                            format!("seats/{i}"),
                            format!("seat {id} does not exist in this event"),
                        ));
                    }
                }
                check(errors)?;
                let mut sorted: Vec<&SeatRow> = rows.iter().collect();
                sorted.sort_by(|a, b| a.id.cmp(&b.id));
                if let Some(taken) = sorted.into_iter().find(|r| r.state != mirror::FREE) {
                    let holder = (taken.state == mirror::HELD)
                        .then(|| (taken.hold_id.clone(), taken.until_ms.unwrap_or(i64::MAX)));
                    return Ok(Err(Refused::Taken(taken.id.clone(), holder)));
                }
                self.reserve_in(c, rows)
            })?;
            let rows = match reserved {
                Ok(rows) => rows,
                Err(Refused::Taken(seat, holder)) => {
                    let cleared = match holder {
                        Some((Some(hold_id), until)) => self.clear_expired(Some((hold_id, until)))?,
                        // a claim nobody recorded, past its time: look at the lock again
                        Some((None, until)) if until <= self.now => {
                            holds::sweep_event(self.kv, self.conn, &self.inv.event_id, self.now, 100)?;
                            true
                        }
                        _ => false,
                    };
                    if cleared {
                        continue;
                    }
                    return Err(lost_error(Lost::Seat(seat, None), self.inv.limit()));
                }
                Err(Refused::SoldOut) => return Err(changing_hands()),
            };
            let seats = ids
                .iter()
                .filter_map(|id| rows.iter().find(|r| &r.id == id))
                .map(|r| HeldSeat { id: r.id.clone(), tier_id: r.tier_id.clone(), price_minor: self.price(&r.tier_id) })
                .collect();
            match self.claim(Plan { seats, ga: None })? {
                Ok(rec) => return Ok(rec),
                Err(Lost::Seat(seat, holder)) => {
                    let holder = holder.map(|o| (o.hold_id, o.expires_ms));
                    if !self.clear_expired(holder)? {
                        return Err(lost_error(Lost::Seat(seat, None), self.inv.limit()));
                    }
                }
                Err(lost) => return Err(lost_error(lost, self.inv.limit())),
            }
        }
        Err(changing_hands())
    }

    /// Picks the best free seats of `tier` (see [`crate::selection`]) by
    /// pages of the free-seat index, best rows first.
    fn choose(&self, c: &Connection, tier: &str, n: usize, avoid: &HashSet<String>) -> ApiResult<Option<Vec<SeatRow>>> {
        let mut rows: Vec<FreeRow> = Vec::new();
        let mut found: HashMap<String, SeatRow> = HashMap::new();
        let mut after = None;
        loop {
            let page = mirror::free_seats(c, &self.inv.event_id, tier, after, PAGE)?;
            let done = (page.len() as i64) < PAGE || found.len() + page.len() >= MAX_SCAN;
            if let Some(last) = page.last() {
                after = Some((last.row_rank, last.position));
            }
            for f in page {
                if rows.last().is_none_or(|r| r.rank != f.row_rank) {
                    rows.push(FreeRow { rank: f.row_rank, mid2: f.row_mid2, seats: Vec::new() });
                }
                rows.last_mut()
                    .expect("pushed")
                    .seats
                    .push(selection::FreeSeat { id: f.row.id.clone(), position: f.position });
                found.insert(f.row.id.clone(), f.row);
            }
            // the last row may continue on the next page: decide on the complete ones
            let complete = if done { &rows[..] } else { &rows[..rows.len().saturating_sub(1)] };
            let pick = match best_available(complete, n, avoid) {
                Some(p @ Pick::Block(_)) => Some(p),
                _ if !done => continue,
                _ => best_available(&rows, n, avoid),
            };
            return Ok(pick.map(|p| p.into_seats().into_iter().filter_map(|id| found.remove(&id)).collect()));
        }
    }

    /// Best available seats of a seated tier.
    pub fn best(&self, tier: &Tier, q: u32) -> ApiResult<HoldRecord> {
        let mut avoid: HashSet<String> = HashSet::new();
        let mut swept = false;
        for _ in 0..4 {
            let reserved = platform::db::transaction(self.conn, |c| -> ApiResult<Result<Vec<SeatRow>, Refused>> {
                match self.choose(c, &tier.id, q as usize, &avoid)? {
                    Some(rows) => self.reserve_in(c, rows),
                    None => Ok(Err(Refused::SoldOut)),
                }
            })?;
            let rows = match reserved {
                Ok(rows) => rows,
                Err(_) if !swept => {
                    // seats may be tied up in holds past their time: expire them, look again
                    swept = true;
                    if holds::sweep_event(self.kv, self.conn, &self.inv.event_id, self.now, 100)? > 0 {
                        continue;
                    }
                    return Err(self.sold_out(tier));
                }
                Err(_) => return Err(self.sold_out(tier)),
            };
            let chosen: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let seats = rows
                .into_iter()
                .map(|r| HeldSeat { id: r.id, tier_id: tier.id.clone(), price_minor: tier.price_minor })
                .collect();
            match self.claim(Plan { seats, ga: None })? {
                Ok(rec) => return Ok(rec),
                Err(Lost::Seat(_, holder)) => {
                    // a claim this table did not know of: leave this block to it
                    if !self.clear_expired(holder.map(|o| (o.hold_id, o.expires_ms)))? {
                        avoid.extend(chosen);
                    }
                }
                Err(lost) => return Err(lost_error(lost, self.inv.limit())),
            }
        }
        Err(changing_hands())
    }

    fn sold_out(&self, tier: &Tier) -> ApiError {
        let left = load(self.conn, &self.inv.event_id)
            .ok()
            .flatten()
            .and_then(|inv| inv.tier(&tier.id).map(|t| (i64::from(t.capacity) - t.held - t.sold).max(0)))
            .unwrap_or(0);
        ApiError::conflict("sold-out", format!("only {left} seats left in tier {}", tier.id))
    }

    /// General-admission places: the KV counter decides; the index row is
    /// written first so the sweep finds the hold if this request dies.
    pub fn general_admission(&self, tier: &Tier, q: u32) -> ApiResult<HoldRecord> {
        let ga = (tier.id.clone(), q, tier.capacity);
        let index =
            |c: &Connection| holds::index(c, &self.owner.hold_id, &self.inv.event_id, self.user, self.owner.expires_ms);
        index(self.conn)?;
        match self.claim(Plan { seats: vec![], ga: Some(ga.clone()) })? {
            Ok(rec) => return Ok(rec),
            Err(lost @ Lost::Tier(..)) => {
                // places may be tied up in holds past their time: expire them, retry once
                if holds::sweep_event(self.kv, self.conn, &self.inv.event_id, self.now, 100)? == 0 {
                    return Err(lost_error(lost, self.inv.limit()));
                }
            }
            Err(lost) => return Err(lost_error(lost, self.inv.limit())),
        }
        index(self.conn)?;
        match self.claim(Plan { seats: vec![], ga: Some(ga) })? {
            Ok(rec) => Ok(rec),
            Err(lost) => Err(lost_error(lost, self.inv.limit())),
        }
    }
}
