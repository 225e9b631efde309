-- The request an event came from (issue 18, item 2: one purchase, one
-- trace): the request id current when the event was emitted. The relay
-- sends it as `x-request-id` on every delivery, from a tick too, and the
-- consumer adopts it, so a purchase's later steps log under the id of the
-- request that started them. NULL for events emitted before this column.
ALTER TABLE saga_outbox ADD COLUMN request_id TEXT;
