-- Where the event is, one line people read (BookingConfirmed's `venue`,
-- from events through booking): on the ticket, in its e-mail and as the
-- calendar file's LOCATION. Empty for tickets issued before it was kept.
ALTER TABLE tickets ADD COLUMN venue TEXT NOT NULL DEFAULT '';
