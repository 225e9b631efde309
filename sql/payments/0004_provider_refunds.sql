-- A refund is known once by its provider id (re_…), whichever way the news
-- came: our own call's answer, a refund.* webhook, or the provider's list
-- fetched on charge.refunded. Refunds made at the provider (its dashboard)
-- get a row of their own with it; two deliveries of one refund at once
-- cannot both insert it.
CREATE UNIQUE INDEX refunds_by_provider ON refunds (provider_id) WHERE provider_id IS NOT NULL;
