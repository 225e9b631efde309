// Journey 14: nothing a buyer did is lost on the way. Seats picked while
// signed out are still picked after signing in; a name typed on the
// details step is still there after a reload.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, PASSWORD, BASE } from './lib.js';

let event;
let buyer;
before(async () => ({ event, buyer } = await eventAndBuyer('Patience Polka', 'keeper')));

test('picks survive signing in, and typed details survive a reload', async () => {
  const { page, shot, errors, close } = await open('14-keep', `#/events/${event.id}`);
  try {
    const seats = page.locator('svg.seatmap .seat:not(.held):not(.sold)');
    await seats.first().waitFor();
    await seats.nth(2).click();
    await seats.nth(3).click();
    await page.getByRole('button', { name: 'Continue with 2 seats' }).click();
    // signing in ...
    await page.waitForFunction(() => location.hash.startsWith('#/login'));
    await page.getByLabel('E-mail').fill(buyer.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).last().click();
    // ... comes back to the event with the same two seats picked
    await page.waitForFunction((id) => location.hash === `#/events/${id}`, event.id);
    await page.getByRole('button', { name: 'Continue with 2 seats' }).waitFor();
    assert.equal(await page.locator('svg.seatmap .seat.mine').count(), 2);
    await shot('picks-kept');
    await page.getByRole('button', { name: 'Continue with 2 seats' }).click();

    await page.locator('#details-form').waitFor();
    await page.getByLabel('Full name').fill('Penelope Patience');
    await page.getByLabel('Mobile phone').fill('+14155550100');
    await page.reload();
    await page.locator('#details-form').waitFor();
    assert.equal(await page.getByLabel('Full name').inputValue(), 'Penelope Patience');
    assert.equal(await page.getByLabel('Mobile phone').inputValue(), '+14155550100');
    assert.ok(page.url().startsWith(`${BASE}/#/checkout/`));
    await shot('details-kept');
    // on a phone the order summary comes before the form (and so before Pay)
    await page.setViewportSize({ width: 390, height: 844 });
    const summary = await page.locator('aside[aria-label="Order summary"]').boundingBox();
    const form = await page.locator('#details-form').boundingBox();
    assert.ok(summary.y < form.y, `summary at ${summary.y}, form at ${form.y}`);
    await shot('phone-summary-first');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
