// Journey 11: what a buyer sees as places run out. A standing tier of two:
// while both places are only held the page says none are left right now
// (they may come back); once both are paid it says sold out; either way
// nothing can be chosen or bought, and the button says why.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, call, localIn, signIn, SUCCESS_CARD, BASE } from './lib.js';

let event;
let tierId;
let holder;
let watcher;
before(async () => {
  const org = await userWithRole('organizer');
  const token = org.tokens.access_token;
  const venue = await call('POST', '/api/venues', { name: `Tiny Club ${uniq()}`, city: 'Porto', country: 'PT', timezone: 'Europe/Lisbon' }, token);
  event = await call(
    'POST',
    '/api/events',
    {
      title: `Last Two Standing ${uniq()}`,
      category: 'concert',
      venue_id: venue.id,
      starts_at: localIn(15),
      tiers: [{ name: 'Standing', price_minor: 2000, currency: 'EUR', kind: 'general_admission', capacity: 2 }],
    },
    token,
  );
  await call('POST', `/api/events/${event.id}/publish`, {}, token);
  tierId = event.tiers[0].id;
  holder = await userWithRole('customer', 'holder');
  watcher = await userWithRole('customer', 'watcher');
});

/** The event page's standing tier and buy box once the live counts have arrived. */
async function buyBox(page) {
  await page.locator(`li.tier[data-tier-id="${tierId}"] .left`).waitFor();
  return {
    tier: await page.locator(`li.tier[data-tier-id="${tierId}"]`).innerText(),
    button: page.locator('form[aria-label="Best available"] button[type=submit]'),
  };
}

test('a tier with nothing free is offered to nobody, and says whether it may come back', async () => {
  const { page, shot, errors, close } = await open('11-sold-out');
  try {
    const buyer = holder.tokens.access_token;
    const hold = await call('POST', '/api/holds', { event_id: event.id, tier_id: tierId, quantity: 2 }, buyer, { 'idempotency-key': uniq() });

    await signIn(page, watcher.email);
    await page.goto(`${BASE}/#/events/${event.id}`);
    await page.waitForFunction(() => /None left right now/.test(document.querySelector('li.tier')?.innerText || ''), null, { timeout: 15000 });
    let box = await buyBox(page);
    assert.match(box.tier, /None left right now/);
    assert.ok(await box.button.isDisabled());
    assert.equal((await box.button.innerText()).trim(), 'None left right now');
    await shot('all-held');

    // the holder pays: both places are sold
    const booking = await call(
      'POST',
      '/api/bookings',
      { hold_id: hold.id, buyer: { name: 'Hold Er', email: holder.email, phone: '+14155550100' }, attendees: [{ name: 'Hold Er' }, { name: 'Plus One' }] },
      buyer,
      { 'idempotency-key': uniq() },
    );
    await call(
      'POST',
      `/api/payments/${booking.id}/pay`,
      { method: 'card', card: { number: SUCCESS_CARD, exp_month: 12, exp_year: 2034, cvc: '123' } },
      buyer,
      { 'idempotency-key': uniq() },
    );
    for (let i = 0; i < 50; i++) {
      const b = await call('GET', `/api/bookings/${booking.id}`, undefined, buyer);
      if (b.status === 'confirmed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.reload();
    await page.waitForFunction(() => /Sold out/.test(document.querySelector('li.tier')?.innerText || ''), null, { timeout: 15000 });
    box = await buyBox(page);
    assert.match(box.tier, /Sold out/);
    assert.ok(await box.button.isDisabled());
    assert.equal((await box.button.innerText()).trim(), 'Sold out');
    assert.ok(await page.locator('#best-tier').isDisabled());
    assert.equal((await page.locator('#hero-price').innerText()).trim(), 'Sold out', 'no "From €20.00" on a sold-out event');
    await shot('sold-out');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
