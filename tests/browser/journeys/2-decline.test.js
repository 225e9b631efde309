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
    // no name: a sentence next to the name box; the attendee boxes left empty (they take the buyer's name) stay unmarked
    await page.getByLabel('Mobile phone').fill('+14155550100');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.locator('#details-form .field-error').first().waitFor();
    assert.equal(await page.getByLabel('Full name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#details-form [name^="attendees/"][aria-invalid]').count(), 0);
    const details = await page.locator('#details-form').innerText();
    assert.match(details, /Full name: Please fill this in\./);
    assert.doesNotMatch(details, /control characters|attendee name: Please|#\d/i);
    await shot('details-need-a-name');
    await fillDetails(page, 'Grace Hopper');
    // an expired card: the one expiry box is marked, with a sentence a buyer reads
    await page.getByLabel('Card number').fill(SUCCESS_CARD);
    await page.getByLabel('Expiry (MM/YY)').fill('01/20');
    await page.getByLabel('CVC').fill('123');
    await page.locator('#pay').click();
    await page.locator('#payment-form .field-error').first().waitFor();
    assert.equal(await page.getByLabel('Expiry (MM/YY)').getAttribute('aria-invalid'), 'true');
    const pay = await page.locator('#payment-form').innerText();
    assert.match(pay, /Expiry \(MM\/YY\): This card has expired/);
    assert.doesNotMatch(pay, /plausible|exp year|exp_year/);
    await shot('expired-card');
    await payWith(page, DECLINE_CARD);
    await page.locator('#declined').waitFor();
    assert.match(await page.locator('#declined').innerText(), /declined/i);
    await shot('declined');
    await payWith(page, SUCCESS_CARD);
    await page.locator('[data-outcome="paid"]').waitFor();
    await shot('paid-after-retry');
    // the booking's receipt: each ticket with its price, no service fees, the total, the card used
    await page.getByRole('link', { name: 'View booking' }).click();
    const receipt = page.locator('#receipt');
    await receipt.locator('p.muted', { hasText: 'Paid with' }).waitFor();
    const text = await receipt.innerText();
    assert.equal(await receipt.locator('ul.selection li').count(), 2);
    assert.match(text, /Section [AB] · Row \d · Seat \d+ — Grace Hopper/);
    assert.match(text, /Service fees\s+None/);
    assert.match(text, /Total\s+€\d+\.\d\d/);
    assert.match(text, /Paid with \w+ ending 4242 on /);
    await shot('receipt');
    await page.getByRole('link', { name: 'My tickets' }).first().click();
    await page.locator('.ticket').nth(1).waitFor({ timeout: 20000 });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
