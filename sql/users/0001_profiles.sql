-- Profiles and notification settings (DESIGN §2). Times are Unix ms.
-- A profile is created on first use from the auth account (lazily); account
-- deletion blanks every personal column and keeps the row as a tombstone so
-- records elsewhere keyed by the user id stay consistent.

CREATE TABLE profiles (
    user_id      TEXT PRIMARY KEY,               -- usr_<ulid>, the auth account id
    email        TEXT,                           -- copy of the account e-mail; NULL once deleted
    display_name TEXT,
    phone        TEXT,                           -- E.164
    locale       TEXT,                           -- BCP 47 tag
    time_zone    TEXT,                           -- IANA name
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);

-- Only explicit choices are stored; absent rows mean the default.
CREATE TABLE notification_prefs (
    user_id    TEXT NOT NULL REFERENCES profiles (user_id),
    kind       TEXT NOT NULL CHECK (kind IN ('booking', 'ticket', 'reminders', 'marketing')),
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'in_app')),
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);
