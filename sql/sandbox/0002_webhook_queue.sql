-- Webhook deliveries still to make. Like a real provider, the sandbox
-- answers the API call first and delivers its webhooks afterwards (after its
-- response is sent), so a slow webhook receiver never delays the API answer.
-- A row is claimed before sending and deleted once sent; a claim older than
-- a minute (its instance died) may be taken again.
CREATE TABLE sb_webhook_queue (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order
    event_id   TEXT NOT NULL REFERENCES sb_webhooks (id),
    copies     INTEGER NOT NULL DEFAULT 1,          -- duplicate / concurrent modes send 3
    at_once    INTEGER NOT NULL DEFAULT 0,          -- 1: the copies are sent concurrently
    claimed_ms INTEGER,                             -- NULL until an instance takes it
    created_ms INTEGER NOT NULL
);
