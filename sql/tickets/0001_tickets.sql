-- Tickets: one row per attendee (seat or general admission) of a confirmed booking.
CREATE TABLE IF NOT EXISTS tickets (
    id            TEXT PRIMARY KEY,               -- tkt_<ulid>
    booking_id    TEXT NOT NULL,
    ordinal       INTEGER NOT NULL CHECK (ordinal >= 0), -- position among the booking's attendees
    user_id       TEXT NOT NULL,                  -- the buyer (owner)
    event_id      TEXT NOT NULL,
    event_title   TEXT NOT NULL,
    starts_at_ms  INTEGER NOT NULL,
    timezone      TEXT NOT NULL,                  -- IANA zone of the event
    attendee_name TEXT NOT NULL,
    seat_id       TEXT,                           -- NULL for general admission
    tier_id       TEXT NOT NULL,
    code          TEXT NOT NULL UNIQUE,           -- signed code (see code.rs)
    status        TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'void')),
    void_reason   TEXT,
    voided_ms     INTEGER,
    checked_in_ms INTEGER,                        -- first admission; NULL until then
    checked_in_by TEXT,
    issued_ms     INTEGER NOT NULL,
    UNIQUE (booking_id, ordinal)
);
CREATE INDEX IF NOT EXISTS tickets_by_user ON tickets (user_id, id);
CREATE INDEX IF NOT EXISTS tickets_by_booking ON tickets (booking_id);

-- Bookings whose tickets must be void (cancelled or refunded), remembered
-- even when the cancellation arrives before the confirmation (at-least-once
-- delivery has no order), so late tickets are issued void.
CREATE TABLE IF NOT EXISTS voided_bookings (
    booking_id TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    voided_ms  INTEGER NOT NULL
);
