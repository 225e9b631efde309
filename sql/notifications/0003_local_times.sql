-- Local start times as people read them ("Friday 1 May 2026, 19:00 EDT"),
-- given by events (the one component with the tz database) and kept here
-- so a message costs a chained call only the first time an instant is
-- shown in a zone. `at` is the RFC 3339 text as the saga carried it.
CREATE TABLE IF NOT EXISTS local_times (
    timezone TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (timezone, at)
) WITHOUT ROWID;
