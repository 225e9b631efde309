// Journey 5: the checkout countdown follows the server's expires_at; when the
// hold runs out the buyer is told clearly and nothing can be paid (an app
// whose holds last 8 seconds).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, seatedEvent, signIn, fillDetails, useApp } from './lib.js';

const base = useApp(process.env.SHORT_HOLD_URL);
let event;
let buyer;
before(async () => {
  const org = await userWithRole('organizer');
  event = await seatedEvent(org.tokens.access_token, `Slow Buyer Blues ${uniq()}`);
  buyer = await userWithRole('customer', 'slow');
});

test('a hold that runs out ends the checkout with a clear expired message and frees the seats', { skip: !base && 'SHORT_HOLD_URL is not set' }, async () => {
  const { page, shot, errors, close } = await open('5-expired');
  try {
    await signIn(page, buyer.email);
    await page.goto(`${base}/#/events/${event.id}`);
    await page.locator('svg.seatmap .seat').first().waitFor();
    await page.getByRole('button', { name: 'Find best available' }).click();
    await page.locator('#details-form').waitFor();
    const left = await page.locator('#countdown').innerText();
    assert.match(left, /^00:0[5-8]$/, "the countdown starts from the server's expires_at");
    await fillDetails(page, 'Slow Buyer');
    await page.locator('[data-outcome="expired"]').waitFor({ timeout: 20000 });
    assert.equal(await page.locator('#pay').count(), 0);
    await shot('expired');
    // the seats are for sale again
    await page.getByRole('link', { name: 'Back to the event' }).click();
    await page.locator('svg.seatmap .seat').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('svg.seatmap .seat.held, svg.seatmap .seat.sold').length === 0, null, {
      timeout: 15000,
      polling: 500,
    });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
