-- Sandbox payment provider (component `sandbox`, label `sandbox`): a
-- PaymentIntents-style subset with test cards, idempotent requests, signed
-- webhooks and failure injection. Local and test use only.

CREATE TABLE sb_intents (
    id              TEXT PRIMARY KEY,            -- pi_…
    amount          INTEGER NOT NULL CHECK (amount > 0),
    currency        TEXT NOT NULL,               -- lower case, as Stripe
    status          TEXT NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '{}',  -- JSON object of strings
    card_brand      TEXT,
    card_last4      TEXT,
    error_code      TEXT,
    decline_code    TEXT,
    error_message   TEXT,
    return_url      TEXT,
    settle_at_ms    INTEGER,                     -- processing → succeeded from then on
    amount_received INTEGER NOT NULL DEFAULT 0,
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded <= amount_received),
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);

CREATE TABLE sb_refunds (
    id          TEXT PRIMARY KEY,                -- re_…
    intent_id   TEXT NOT NULL REFERENCES sb_intents (id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    status      TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_ms  INTEGER NOT NULL
);

-- Idempotent requests: the first answer to a key is replayed for the same
-- parameters; other parameters get 400, a key still in flight 409.
CREATE TABLE sb_idempotency (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       INTEGER,                        -- NULL while in flight
    body         TEXT,
    created_ms   INTEGER NOT NULL
);

-- Failure injection: the next `remaining` API calls of `op` (or any op)
-- misbehave as `mode`.
CREATE TABLE sb_faults (
    op         TEXT PRIMARY KEY,                 -- create | confirm | retrieve | cancel | refund | any
    mode       TEXT NOT NULL,                    -- latency | timeout | error | malformed | redirect
    remaining  INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sb_settings (
    name  TEXT PRIMARY KEY,                      -- webhooks: normal | none | duplicate | concurrent | out_of_order
    value TEXT NOT NULL
);

-- Every webhook event the sandbox made, with its last delivery status.
CREATE TABLE sb_webhooks (
    id          TEXT PRIMARY KEY,                -- evt_…
    event_type  TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX sb_webhooks_object ON sb_webhooks (object_id, created_ms);
