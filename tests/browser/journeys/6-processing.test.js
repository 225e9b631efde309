// Journey 6: a card the provider keeps "processing" for a moment: checkout
// says it is confirming (never "successful" early), then shows the success.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, holdBestAvailable, fillDetails, payWith } from './lib.js';

// Sandbox test card: processing, then succeeded about 2 s later.
const PROCESSING_CARD = '4000000000000077';

let event;
let buyer;
before(async () => ({ event, buyer } = await eventAndBuyer('Slow Bank Ball', 'slowbank')));

test('a processing payment is shown as confirming, then as paid once the provider settles it', async () => {
  const { page, shot, errors, close } = await open('6-processing');
  try {
    await holdBestAvailable(page, buyer.email, event.id, 1);
    await fillDetails(page, 'Katherine Johnson');
    await payWith(page, PROCESSING_CARD);
    await page.locator('[data-outcome="confirming"]').waitFor();
    assert.match(await page.locator('#outcome').innerText(), /confirming/i);
    await shot('confirming');
    await page.locator('[data-outcome="paid"]').waitFor({ timeout: 30000 });
    await shot('paid-after-processing');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
