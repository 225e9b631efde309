-- Who to tell about a booking, learned from BookingOrdered, BookingConfirmed
-- and TicketsIssued (later saga events carry only the booking id).
CREATE TABLE IF NOT EXISTS booking_contacts (
    booking_id  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    event_id    TEXT,
    email       TEXT,
    name        TEXT,
    event_title TEXT,
    starts_at   TEXT,                 -- RFC 3339
    timezone    TEXT,                 -- IANA zone
    confirmed   INTEGER NOT NULL DEFAULT 0,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS booking_contacts_by_event ON booking_contacts (event_id, confirmed);

-- Email jobs: one per (reason, subject) — dedupe_key — so one saga event
-- never yields two emails; the id is also the provider's Idempotency-Key.
-- pending -> sent | dead | skipped (the user switched that email off).
CREATE TABLE IF NOT EXISTS email_jobs (
    id              TEXT PRIMARY KEY,           -- ntf_<ulid>
    dedupe_key      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,              -- tickets, booking_closed, payment_failed, refund
    user_id         TEXT,
    booking_id      TEXT,
    to_email        TEXT NOT NULL,
    to_name         TEXT,
    subject         TEXT NOT NULL,
    html            TEXT NOT NULL,
    text            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms INTEGER NOT NULL,           -- due time; moved ahead while a sender holds the lease
    last_error      TEXT,
    provider_id     TEXT,                       -- the provider's message id once accepted
    created_ms      INTEGER NOT NULL,
    finished_ms     INTEGER                     -- sent, dead or skipped at
);
CREATE INDEX IF NOT EXISTS email_jobs_due ON email_jobs (status, next_attempt_ms);
CREATE INDEX IF NOT EXISTS email_jobs_by_booking ON email_jobs (booking_id);

-- In-site messages, newest first per user.
CREATE TABLE IF NOT EXISTS messages (
    id         TEXT PRIMARY KEY,                -- ntf_<ulid> (time-sortable)
    user_id    TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT,
    booking_id TEXT,
    created_ms INTEGER NOT NULL,
    read_ms    INTEGER
);
CREATE INDEX IF NOT EXISTS messages_by_user ON messages (user_id, id);
CREATE INDEX IF NOT EXISTS messages_unread ON messages (user_id, read_ms);
