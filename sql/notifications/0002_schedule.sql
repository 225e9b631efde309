-- The event version whose start time `booking_contacts.starts_at` shows
-- (EventRescheduled.version): an older move delivered late changes nothing.
ALTER TABLE booking_contacts ADD COLUMN schedule_version INTEGER NOT NULL DEFAULT 0;
