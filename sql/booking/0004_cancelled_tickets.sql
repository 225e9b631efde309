-- Tickets cancelled one by one out of a confirmed booking (issue 13,
-- item 6): the ticket is void at tickets, its seat or place is on sale
-- again, `refund_minor` goes back through payments (TicketCancelled).
-- One row per ticket: a retried or simultaneous cancel does it once.
CREATE TABLE cancelled_tickets (
    ticket_id    TEXT PRIMARY KEY,
    booking_id   TEXT NOT NULL REFERENCES bookings (id),
    seat_id      TEXT,                           -- NULL for general admission
    tier_id      TEXT NOT NULL,
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    refund_minor INTEGER NOT NULL CHECK (refund_minor >= 0),
    cancelled_by TEXT NOT NULL,                  -- usr_… (buyer, organizer or admin)
    cancelled_ms INTEGER NOT NULL
);
CREATE INDEX cancelled_tickets_by_booking ON cancelled_tickets (booking_id);
