-- An injected payment fault may be a throttled answer, as a rate-limited
-- or overloaded provider's: mode `throttle` answers `status` (429 or 503)
-- with `Retry-After` of `retry_after_secs`, written as delay-seconds or,
-- with `retry_after_form` = 'http_date', as an HTTP-date that far ahead.
ALTER TABLE sb_faults ADD COLUMN status INTEGER;
ALTER TABLE sb_faults ADD COLUMN retry_after_secs INTEGER;
ALTER TABLE sb_faults ADD COLUMN retry_after_form TEXT;
