-- A confirmation whose answer never came (provider timeout, transport
-- failure, 5xx, unreadable answer): the card may or may not have been
-- charged. Such an attempt is `processing` with the time the confirmation was
-- sent here, until the provider's PaymentIntent says what happened (next
-- GET / pay / tick, or the webhook).
ALTER TABLE payments ADD COLUMN confirm_unknown_ms INTEGER;
