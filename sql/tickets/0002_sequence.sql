-- iCalendar SEQUENCE of a ticket's VEVENT (RFC 5545 §3.8.7.4): the event
-- version of its last move (EventRescheduled.version), 0 when never moved,
-- so a calendar that imported the ticket replaces the old time.
ALTER TABLE tickets ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
