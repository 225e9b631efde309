-- A refund of one cancelled ticket names the ticket (issue 13, item 6),
-- whichever way it was asked for: booking's TicketCancelled event, or the
-- refund API with a ticket_id. A ticket is refunded at most once: the two
-- ways racing cannot both insert a refund for it. Refunds recorded before
-- this kept the ticket id in request_key; it moves here.
ALTER TABLE refunds ADD COLUMN ticket_id TEXT;
UPDATE refunds SET ticket_id = request_key, request_key = NULL WHERE reason = 'ticket_cancelled' AND request_key IS NOT NULL;
CREATE UNIQUE INDEX refunds_by_ticket ON refunds (ticket_id) WHERE ticket_id IS NOT NULL;
