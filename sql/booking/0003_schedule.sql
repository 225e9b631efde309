-- The event version whose start time `bookings.starts_at` shows (the copy
-- it was checked out from, then EventRescheduled.version): an older move
-- delivered late changes nothing.
ALTER TABLE bookings ADD COLUMN schedule_version INTEGER NOT NULL DEFAULT 0;
