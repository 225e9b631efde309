-- Idempotency-Key records (platform::idempotency), one table in each
-- component database that guards its state-creating POSTs. Version 900 is
-- reserved for the platform: components number their own migrations from 1,
-- the saga crate from 1000.

-- One row per (caller, route, key): claimed by the first request with a single
-- INSERT (the primary key refuses a second claim), completed with the stored
-- answer, or deleted again when the first attempt did not succeed.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope        TEXT NOT NULL,       -- the caller's user id
    route        TEXT NOT NULL,       -- "POST /api/holds" (method and path)
    key          TEXT NOT NULL,       -- the client's Idempotency-Key
    fingerprint  TEXT NOT NULL,       -- hex SHA-256 of method, path and body
    token        TEXT NOT NULL,       -- which attempt holds the claim
    status       INTEGER,             -- NULL while the first attempt runs
    headers      TEXT,                -- JSON [[name, value], ...] of the stored answer
    body         BLOB,                -- body of the stored answer
    lease_ms     INTEGER NOT NULL,    -- in flight until then; afterwards a retry may take over
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,    -- created + 24 h; expired rows are deleted lazily
    PRIMARY KEY (scope, route, key)
);

CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_ms);
