-- The events catalogue: venues (with their seat maps), events, price tiers
-- and the full-text index used by search. Times are Unix milliseconds (UTC);
-- money is integer minor units with an ISO 4217 code.

CREATE TABLE venues (
    id           TEXT PRIMARY KEY,            -- ven_<ulid>
    owner_id     TEXT NOT NULL,               -- usr_… who created it
    name         TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL,
    region       TEXT NOT NULL DEFAULT '',
    postal_code  TEXT NOT NULL DEFAULT '',
    country      TEXT NOT NULL,               -- ISO 3166-1 alpha-2
    timezone     TEXT NOT NULL,               -- IANA zone
    latitude     REAL,
    longitude    REAL,
    seat_count   INTEGER NOT NULL DEFAULT 0,
    seat_map     TEXT,                        -- canonical seat map JSON (seatmap::SeatMap) or NULL
    ga_areas     TEXT NOT NULL DEFAULT '[]',  -- [{"name","capacity"}]
    source       TEXT,                        -- 'ticketmaster' | 'jsonld' for imported venues
    external_id  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX venues_external ON venues (source, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE events (
    id            TEXT PRIMARY KEY,           -- evt_<ulid>
    organizer_id  TEXT NOT NULL,
    venue_id      TEXT NOT NULL REFERENCES venues (id),
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    category      TEXT NOT NULL,
    performers    TEXT NOT NULL DEFAULT '[]', -- JSON array of names
    image_url     TEXT,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER,
    timezone      TEXT NOT NULL,
    time_tba      INTEGER NOT NULL DEFAULT 0, -- source gave no start time
    sales_start   INTEGER,
    sales_end     INTEGER,
    order_limit   INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    price_from    INTEGER,                    -- lowest tier price, for sort and listing
    status        TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    published_at  INTEGER,
    cancelled_at  INTEGER,
    cancel_reason TEXT,
    source        TEXT,                       -- importer name, NULL when created through the API
    external_id   TEXT,
    source_status TEXT,                       -- the source's own status (onsale, rescheduled, ...)
    fingerprint   TEXT,                       -- digest of the imported record, to skip unchanged re-imports
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_external ON events (organizer_id, source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX events_by_start ON events (status, starts_at, id);
CREATE INDEX events_by_price ON events (status, price_from, id);
CREATE INDEX events_by_organizer ON events (organizer_id, created_at);

CREATE TABLE tiers (
    id          TEXT PRIMARY KEY,             -- tier_<ulid>
    event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    currency    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('seated', 'general_admission')),
    capacity    INTEGER NOT NULL CHECK (capacity > 0),
    sections    TEXT NOT NULL DEFAULT '[]',   -- seated: section codes wholly in this tier
    seats       TEXT NOT NULL DEFAULT '[]'    -- seated: single seat ids in this tier
);
CREATE INDEX tiers_by_event ON tiers (event_id, position);
CREATE INDEX tiers_by_price ON tiers (price_minor, event_id);

-- Full-text index over what buyers type: title, performers, venue, city,
-- description. Its rowid is the event's rowid; the write commands keep it in
-- step with events.
CREATE VIRTUAL TABLE events_fts USING fts5 (
    title,
    performers,
    venue,
    city,
    description,
    tokenize = 'unicode61 remove_diacritics 2'
);
