-- Sandbox email provider (Resend-style POST /emails): every accepted message,
-- the raw request log, and injected failures.
CREATE TABLE IF NOT EXISTS sb_emails (
    id              TEXT PRIMARY KEY,          -- em_<ulid>
    idempotency_key TEXT UNIQUE,               -- the client's Idempotency-Key
    request_hash    TEXT NOT NULL,             -- SHA-256 of the body: same key + other body = 409
    from_addr       TEXT NOT NULL,
    to_json         TEXT NOT NULL,             -- JSON array of addresses
    subject         TEXT NOT NULL,
    html            TEXT,
    text            TEXT,
    tags_json       TEXT,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sb_emails_time ON sb_emails (created_ms);

-- Every POST /emails as it arrived and how it was answered.
CREATE TABLE IF NOT EXISTS sb_email_requests (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT,
    status          INTEGER NOT NULL,
    outcome         TEXT NOT NULL,             -- accepted, replayed, fault, refused
    email_id        TEXT,
    at_ms           INTEGER NOT NULL
);

-- At most one injected failure plan: the next `remaining` requests fail.
CREATE TABLE IF NOT EXISTS sb_email_faults (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    mode      TEXT NOT NULL CHECK (mode IN ('status', 'timeout')),
    status    INTEGER NOT NULL,
    delay_ms  INTEGER NOT NULL,
    remaining INTEGER NOT NULL
);
