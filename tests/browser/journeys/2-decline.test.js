// Journey 2: a declined card, then a successful retry within the same hold.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, seatedEvent, signIn, fillDetails, payWith, SUCCESS_CARD, DECLINE_CARD, BASE } from './lib.js';

let event;
let buyer;
before(async () => {
  const org = await userWithRole('organizer');
  event = await seatedEvent(org.tokens.access_token, `Decline Disco ${uniq()}`);
  buyer = await userWithRole('customer', 'retry');
});

test('a declined card shows a readable refusal and a retry with the success card pays', async () => {
  const { page, shot, errors, close } = await open('2-decline');
  try {
    await signIn(page, buyer.email);
    await page.goto(`${BASE}/#/events/${event.id}`);
    await page.locator('svg.seatmap .seat').first().waitFor();
    // best available instead of the map this time
    await page.locator('#best-qty').selectOption('2');
    await page.getByRole('button', { name: 'Find best available' }).click();
    await page.locator('#details-form').waitFor();
    await fillDetails(page, 'Grace Hopper');
    await payWith(page, DECLINE_CARD);
    await page.locator('#declined').waitFor();
    assert.match(await page.locator('#declined').innerText(), /declined/i);
    await shot('declined');
    await payWith(page, SUCCESS_CARD);
    await page.locator('[data-outcome="paid"]').waitFor();
    await shot('paid-after-retry');
    await page.locator('#see-tickets').click();
    await page.locator('.ticket').nth(1).waitFor({ timeout: 20000 });
    assert.deepEqual(errors, []);
  } finally { await close(); }
});
