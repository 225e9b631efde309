-- A payment provider that answered 429 or 503 with Retry-After (RFC 9110
-- §10.2.3) asked for no calls until `until_ms` (Unix ms; the wait capped
-- at provider::MAX_WAIT_MS). Every instance reads it before calling that
-- provider (`base`: the payment_api_base it answered on), so neither a
-- buyer's request nor the tick calls it before then. `status` is the
-- answer that set it.
CREATE TABLE provider_pauses (
    base       TEXT PRIMARY KEY,
    until_ms   INTEGER NOT NULL,
    status     INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
