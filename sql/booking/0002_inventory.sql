-- booking: its own copy of what it sells (the read model of DESIGN §2),
-- filled from the events component once per event version, and the live
-- seat states that holds, releases, expiries and sales keep up to date.
-- The `holds` KV store stays the authority on who holds a seat, and
-- sold_seats the final guard against a double sale; the tables here gate
-- and answer reads (see components/booking/src/inventory.rs and mirror.rs).

-- One row per event copied from events.
CREATE TABLE IF NOT EXISTS inv_events (
    event_id     TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,            -- events' inventory version this copy was made from
    wanted       INTEGER NOT NULL,            -- highest version announced by EventChanged; > version = stale
    status       TEXT NOT NULL,               -- draft | published | cancelled
    title        TEXT NOT NULL,
    starts_at    TEXT NOT NULL,               -- RFC 3339
    timezone     TEXT NOT NULL,               -- IANA
    sales_start  TEXT,                        -- RFC 3339 or NULL (at once)
    sales_end    TEXT,                        -- RFC 3339 or NULL (at the start)
    order_limit  INTEGER NOT NULL,
    currency     TEXT NOT NULL,               -- ISO 4217
    seat_count   INTEGER NOT NULL,            -- seats in the layout (= status bits / 2)
    loaded_ms    INTEGER NOT NULL
);

-- Price tiers, in the event's order. held/sold count seats of a seated
-- tier; for general admission only `sold` is kept here (places held are
-- the KV counter ga:<event>:<tier>).
CREATE TABLE IF NOT EXISTS inv_tiers (
    event_id    TEXT NOT NULL,
    tier_id     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    kind        TEXT NOT NULL CHECK (kind IN ('seated', 'general_admission')),
    capacity    INTEGER NOT NULL CHECK (capacity >= 0),
    held        INTEGER NOT NULL DEFAULT 0,
    sold        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, tier_id)
) WITHOUT ROWID;

-- Every seat of the seated tiers, in layout order (idx, 0-based: the seat's
-- place in the status bits), with its best-available rank and live state.
CREATE TABLE IF NOT EXISTS inv_seats (
    event_id  TEXT NOT NULL,
    seat_id   TEXT NOT NULL,
    idx       INTEGER NOT NULL,
    section   TEXT NOT NULL,
    row_label TEXT NOT NULL,
    number    TEXT NOT NULL,
    position  INTEGER NOT NULL,               -- order within the row; adjacent seats differ by 1
    tier_id   TEXT NOT NULL,
    row_rank  INTEGER NOT NULL,               -- 0 = the row nearest the stage's centre
    row_mid2  INTEGER NOT NULL,               -- twice the row's middle position
    state     INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),  -- 0 free, 1 held, 2 sold
    hold_id   TEXT,                           -- the hold that has it (held/sold); NULL while held = a KV claim nobody recorded
    until_ms  INTEGER,                        -- when that hold runs out (held), or when to look again (held by nobody known)
    PRIMARY KEY (event_id, seat_id)
) WITHOUT ROWID;
-- best available: the free seats of a tier, best rows first
CREATE INDEX IF NOT EXISTS inv_seats_free ON inv_seats (event_id, tier_id, state, row_rank, position);
-- releasing a hold's seats
CREATE INDEX IF NOT EXISTS inv_seats_by_hold ON inv_seats (hold_id) WHERE hold_id IS NOT NULL;
-- held seats by when their hold runs out (status reads show those past it as available; the sweep frees them)
CREATE INDEX IF NOT EXISTS inv_seats_held_until ON inv_seats (event_id, until_ms) WHERE state = 1;

-- The live status of an event's seats: 2 bits per seat in layout order
-- (seat i in byte i/4, bits 2*(i%4) and up: 0 free, 1 held, 2 sold), and a
-- version that changes with every seat state change.
CREATE TABLE IF NOT EXISTS inv_status (
    event_id TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    bits     BLOB NOT NULL
);

-- The seat layout document of each copied version, gzip-compressed once.
CREATE TABLE IF NOT EXISTS inv_layouts (
    event_id TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    gz       BLOB NOT NULL,
    raw_len  INTEGER NOT NULL
);

-- Who is copying an event from events right now (one loader at a time).
CREATE TABLE IF NOT EXISTS inv_loads (
    event_id TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL
);

-- Open holds of one event by expiry (best available and general admission expire those in their way).
CREATE INDEX IF NOT EXISTS hold_index_event_due ON hold_index (event_id, open, expires_ms);
