-- booking: bookings, sold seats (the final guard against double sales),
-- sold general-admission quantities, and an index of holds for the sweep.

CREATE TABLE IF NOT EXISTS bookings (
    id              TEXT PRIMARY KEY,                 -- bkg_<ulid>
    user_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    hold_id         TEXT NOT NULL UNIQUE,             -- the hold it was made from (or its re-hold)
    status          TEXT NOT NULL CHECK (status IN ('pending_payment', 'confirmed', 'payment_failed', 'expired', 'cancelled', 'refunded')),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency        TEXT NOT NULL,
    buyer           TEXT NOT NULL,                    -- JSON {name, email, phone}
    attendees       TEXT NOT NULL,                    -- JSON [{name, seat_id, tier_id}]
    seats           TEXT NOT NULL,                    -- JSON [seat id]
    tiers           TEXT NOT NULL,                    -- JSON [{tier_id, quantity, price_minor, kind}]
    event_title     TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    hold_expires_ms INTEGER NOT NULL,
    payment_id      TEXT,
    refunded_minor  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    cancel_reason   TEXT,
    hold_freed      INTEGER NOT NULL DEFAULT 0,       -- 1 once the hold's KV claims were given back
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_by_user ON bookings (user_id, id);
CREATE INDEX IF NOT EXISTS bookings_by_event ON bookings (event_id, status);

-- One row per sold seat: the database refuses a double sale even if a hold misbehaves.
CREATE TABLE IF NOT EXISTS sold_seats (
    event_id   TEXT NOT NULL,
    seat_id    TEXT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    PRIMARY KEY (event_id, seat_id)
);
CREATE INDEX IF NOT EXISTS sold_seats_by_booking ON sold_seats (booking_id);

-- Sold general-admission tickets per booking and tier.
CREATE TABLE IF NOT EXISTS sold_ga (
    booking_id TEXT NOT NULL REFERENCES bookings(id),
    event_id   TEXT NOT NULL,
    tier_id    TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    capacity   INTEGER NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (booking_id, tier_id)
);
CREATE INDEX IF NOT EXISTS sold_ga_by_tier ON sold_ga (event_id, tier_id);

-- ... and never sells a tier past its capacity.
CREATE TRIGGER IF NOT EXISTS sold_ga_capacity BEFORE INSERT ON sold_ga
WHEN (SELECT COALESCE(SUM(quantity), 0) FROM sold_ga WHERE event_id = NEW.event_id AND tier_id = NEW.tier_id) + NEW.quantity > NEW.capacity
BEGIN
    SELECT RAISE(ABORT, 'ga_capacity_exceeded');
END;

-- Holds live in the KV store; this index lets the tick find expired ones
-- without listing every key.
CREATE TABLE IF NOT EXISTS hold_index (
    hold_id    TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    open       INTEGER NOT NULL DEFAULT 1          -- 0 once consumed, released or expired
);
CREATE INDEX IF NOT EXISTS hold_index_due ON hold_index (open, expires_ms);
CREATE INDEX IF NOT EXISTS hold_index_by_event ON hold_index (event_id, open);
