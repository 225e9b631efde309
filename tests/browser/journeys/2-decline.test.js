// Journey 2: a declined card, then a successful retry within the same hold.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, holdBestAvailable, fillDetails, payWith, SUCCESS_CARD, DECLINE_CARD } from './lib.js';

let event;
let buyer;
before(async () => ({ event, buyer } = await eventAndBuyer('Decline Disco', 'retry')));

test('a declined card shows a readable refusal and a retry with the success card pays', async () => {
  const { page, shot, errors, close } = await open('2-decline');
  try {
    // best available instead of the map this time
    await holdBestAvailable(page, buyer.email, event.id, 2);
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
  } finally {
    await close();
  }
});
