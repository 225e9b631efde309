-- Where the event takes place, as one line people read ("Browser Hall, Rua
-- Augusta 1, 1100-048 Lisbon, PT"): events gives it in the inventory
-- document (`venue.location`); a booking keeps the line it was sold with and
-- passes it on in BookingOrdered/Confirmed, so tickets, the e-mail and the
-- calendar file say where to go. Empty for copies made before it existed.
ALTER TABLE inv_events ADD COLUMN venue TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN venue TEXT NOT NULL DEFAULT '';
