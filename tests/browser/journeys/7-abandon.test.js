// Journey 7: a buyer gives up on the payment step. The page says what the
// API did — the booking is cancelled, the seats are free again at once,
// nothing was charged — and the API agrees.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, holdBestAvailable, fillDetails, call } from './lib.js';

let event;
let buyer;
before(async () => ({ event, buyer } = await eventAndBuyer('Second Thoughts', 'leaver')));

test('cancelling on the payment step cancels the booking, frees the seats and charges nothing', async () => {
  const { page, shot, errors, close } = await open('7-abandon');
  try {
    await holdBestAvailable(page, buyer.email, event.id, 2);
    await fillDetails(page, 'Ada Leaving');
    const held = await call('GET', `/api/holds/availability/${event.id}`);
    assert.equal(held.totals.held, 2, 'two seats held while paying');
    await shot('payment-step');
    const giveUp = page.locator('#release-hold');
    assert.equal(await giveUp.innerText(), 'Cancel booking');
    await giveUp.click();
    const outcome = page.locator('[data-outcome="abandoned"]');
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /Booking cancelled/);
    assert.match(await page.locator('#charge-note').innerText(), /Nothing was charged/);
    assert.equal(await page.locator('#pay').count(), 0, 'nothing left to pay');
    await shot('abandoned');
    // what the page said is what happened
    const mine = await call('GET', '/api/bookings', undefined, buyer.tokens.access_token);
    const b = mine.items[0];
    assert.equal(b.status, 'cancelled');
    assert.equal(b.cancel_reason, 'abandoned');
    const payment = await call('GET', `/api/payments/${b.id}`, undefined, buyer.tokens.access_token);
    assert.equal(payment.status, 'canceled');
    assert.equal(payment.refunded_minor, 0);
    const after = await call('GET', `/api/holds/availability/${event.id}`);
    assert.equal(after.totals.held, 0, 'the seats are free at once');
    assert.equal(after.totals.sold, 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
