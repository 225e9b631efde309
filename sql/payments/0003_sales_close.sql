-- When the booking's sales window closes (Unix ms, from BookingOrdered's
-- `sales_close_at`: the event's sales_end, else its start). A payment is
-- not started after it (issue 13); NULL = not told (older events).
ALTER TABLE orders ADD COLUMN sales_close_ms INTEGER;
-- The event version `sales_close_ms` was last set from by EventRescheduled
-- (0: from BookingOrdered): an older move delivered late changes nothing.
ALTER TABLE orders ADD COLUMN schedule_version INTEGER NOT NULL DEFAULT 0;
