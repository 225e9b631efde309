-- Saga backbone tables (crate `saga`), shared by every component that emits
-- or consumes events. Versions >= 1000 never collide with a component's own.

-- Every event a component emitted, written in the same transaction as the
-- state change it describes (transactional outbox).
CREATE TABLE IF NOT EXISTS saga_outbox (
    id          TEXT PRIMARY KEY,         -- evn_<ulid>
    event_type  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,            -- RFC 3339 UTC
    producer    TEXT NOT NULL,
    payload     TEXT NOT NULL,            -- JSON
    created_ms  INTEGER NOT NULL
);

-- One row per (event, subscriber): the delivery state machine
-- pending -> delivered | dead.
CREATE TABLE IF NOT EXISTS saga_deliveries (
    event_id        TEXT NOT NULL REFERENCES saga_outbox(id),
    subscriber      TEXT NOT NULL,        -- component id (host <subscriber>.spin.internal)
    path            TEXT NOT NULL,        -- its saga route
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    delivered_ms    INTEGER,
    PRIMARY KEY (event_id, subscriber)
);
CREATE INDEX IF NOT EXISTS saga_deliveries_due ON saga_deliveries (status, next_attempt_ms);

-- Ids of events this component has applied (idempotent consumer).
CREATE TABLE IF NOT EXISTS saga_inbox (
    event_id    TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    producer    TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);

-- Deliveries that gave up after the bounded number of attempts (or were
-- refused as malformed by the subscriber); readable by admins, requeueable.
CREATE TABLE IF NOT EXISTS saga_dead_letters (
    event_id    TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    path        TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    last_error  TEXT NOT NULL,
    dead_ms     INTEGER NOT NULL,
    PRIMARY KEY (event_id, subscriber)
);
CREATE INDEX IF NOT EXISTS saga_dead_letters_time ON saga_dead_letters (dead_ms);
