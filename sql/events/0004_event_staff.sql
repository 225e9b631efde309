-- Door staff assigned to an event by its organizer (issue 17, item 7): a
-- staff account checks tickets in only at the events it is listed for.
CREATE TABLE IF NOT EXISTS event_staff (
    event_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    added_by  TEXT NOT NULL,
    added_ms  INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX IF NOT EXISTS event_staff_by_user ON event_staff (user_id, event_id);
