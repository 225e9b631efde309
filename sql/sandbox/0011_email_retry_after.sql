-- An injected e-mail failure may carry a Retry-After (seconds), as a
-- rate-limited provider's 429 does.
ALTER TABLE sb_email_faults ADD COLUMN retry_after_secs INTEGER;
