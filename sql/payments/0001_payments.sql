-- Payments (DESIGN §2, §3): one order per booking, one payment per attempt,
-- refunds, and the provider's webhook events already applied.
-- Times are Unix milliseconds; money is integer minor units + ISO 4217.

-- What the booking asked us to collect (from BookingOrdered), and the
-- booking-level outcome we told booking (`succeeded` / `failed`, once each).
CREATE TABLE orders (
    booking_id      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    buyer_email     TEXT NOT NULL DEFAULT '',
    hold_expires_ms INTEGER NOT NULL,
    attempt         INTEGER NOT NULL,            -- latest attempt booking ordered
    outcome         TEXT CHECK (outcome IN ('succeeded', 'failed')),
    cancelled_ms    INTEGER,                     -- BookingCancelled received
    cancel_reason   TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);

-- One row per attempt, each with its own provider PaymentIntent.
-- status: pending (no intent yet) | requires_payment_method | requires_action
--   | processing | succeeded | partially_refunded | refunded | failed | canceled
CREATE TABLE payments (
    id                    TEXT PRIMARY KEY,      -- pay_<ulid>
    booking_id            TEXT NOT NULL REFERENCES orders (booking_id),
    attempt               INTEGER NOT NULL,      -- 1, 2, 3… per booking (provider Idempotency-Key)
    round                 INTEGER NOT NULL DEFAULT 1, -- the booking's attempt (BookingOrdered.attempt) it belongs to
    amount_minor          INTEGER NOT NULL CHECK (amount_minor > 0),
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL,
    intent_id             TEXT UNIQUE,           -- provider PaymentIntent id (pi_…)
    card_brand            TEXT,
    card_last4            TEXT,
    failure_code          TEXT,
    decline_code          TEXT,
    failure_message       TEXT,
    next_action_url       TEXT,
    refund_reserved_minor INTEGER NOT NULL DEFAULT 0 CHECK (refund_reserved_minor >= 0),
    refunded_minor        INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    checks                INTEGER NOT NULL DEFAULT 0,  -- reconciliation attempts so far
    next_check_ms         INTEGER,               -- reconcile with the provider from then on
    created_ms            INTEGER NOT NULL,
    updated_ms            INTEGER NOT NULL,
    succeeded_ms          INTEGER,
    UNIQUE (booking_id, attempt),
    CHECK (refunded_minor <= refund_reserved_minor AND refund_reserved_minor <= amount_minor)
);
CREATE INDEX payments_check ON payments (next_check_ms) WHERE next_check_ms IS NOT NULL;

-- Money going back. The reservation (payments.refund_reserved_minor) is taken
-- when the row is inserted, so concurrent refunds can never exceed the total.
-- status: pending (provider not yet confirmed) | succeeded | failed
CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,            -- rfd_<ulid>; the provider Idempotency-Key
    payment_id      TEXT NOT NULL REFERENCES payments (id),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    reason          TEXT NOT NULL,
    request_key     TEXT,                        -- client Idempotency-Key, if any
    status          TEXT NOT NULL DEFAULT 'pending',
    provider_id     TEXT,                        -- re_…
    failure         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_try_ms     INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    UNIQUE (payment_id, request_key)
);
CREATE INDEX refunds_pending ON refunds (status, next_try_ms);

-- Provider webhook events already applied (unique provider event id).
CREATE TABLE webhook_events (
    event_id    TEXT PRIMARY KEY,                -- evt_…
    event_type  TEXT NOT NULL,
    object_id   TEXT,
    received_ms INTEGER NOT NULL
);
