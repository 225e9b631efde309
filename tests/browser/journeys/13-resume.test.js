// Journey 13: Back from checkout. The event page shows the buyer's held
// seats as theirs (not as taken), says how long the hold has left, resumes
// the checkout or releases the seats, and starts no second hold meanwhile.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, holdBestAvailable } from './lib.js';

let event;
let buyer;
before(async () => ({ event, buyer } = await eventAndBuyer('Second Thoughts Sonata', 'back')));

test('back from checkout: the hold is shown as yours, resumed, then released', async () => {
  const { page, shot, errors, close } = await open('13-resume');
  try {
    await holdBestAvailable(page, buyer.email, event.id, 2);
    await page.goBack();
    const banner = page.locator('#resume-hold');
    await banner.waitFor();
    assert.match(await banner.innerText(), /You are holding 2 tickets for this event/);
    assert.match(await page.locator('#resume-left').innerText(), /^1[45]:\d\d$/);
    await page.locator('svg.seatmap .seat.yours').nth(1).waitFor();
    assert.equal(await page.locator('svg.seatmap .seat.yours').count(), 2, 'the two held seats are shown as yours');
    assert.equal(await page.locator('svg.seatmap .seat.yours.held').count(), 0, 'not as taken by someone else');
    await shot('held-seats-are-yours');

    // no second hold beside the first
    await page.getByRole('button', { name: 'Find best available' }).click();
    await page.locator('.toast', { hasText: 'You already hold tickets for this event' }).waitFor();
    assert.ok(page.url().includes(`#/events/${event.id}`), 'still on the event page');

    // resume: back on the checkout of the same hold
    await banner.getByRole('link', { name: 'Resume checkout' }).click();
    await page.locator('#details-form').waitFor();
    await page.goBack();
    await banner.waitFor();

    // release: the banner goes, the seats are free again
    await banner.getByRole('button', { name: 'Release them' }).click();
    await page.locator('#resume-hold').waitFor({ state: 'detached' });
    assert.equal(await page.locator('svg.seatmap .seat.yours').count(), 0);
    await page.waitForFunction(() => document.querySelectorAll('svg.seatmap .seat.held').length === 0, null, { timeout: 15000, polling: 500 });
    await shot('released');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
