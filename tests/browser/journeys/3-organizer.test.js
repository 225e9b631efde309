// Journey 3: an organizer creates and publishes an event; it appears in search.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, signIn, localIn, call, BASE } from './lib.js';

let org;
before(async () => {
  org = await userWithRole('organizer');
});

test('an organizer creates a seated event with tiers, publishes it, and buyers find it', async () => {
  const title = `Organizer Opera ${uniq()}`;
  const { page, shot, errors, close } = await open('3-organizer');
  try {
    await signIn(page, org.email);
    await page.getByRole('link', { name: 'Organizer', exact: true }).click();
    await page.locator('#new-event').click();
    await page.locator('#event-form').waitFor();
    await page.locator('[name=title]').fill(title);
    await page.locator('[name=category]').selectOption('theatre');
    await page.locator('[name=v_name]').fill(`Teatro ${uniq()}`);
    await page.locator('[name=v_city]').fill('Porto');
    await page.locator('[name=v_country]').fill('PT');
    await page.locator('[name=v_timezone]').selectOption('Europe/Lisbon');
    await page.locator('[name=starts_at]').fill(localIn(30, 19));
    await page.locator('[name=currency]').fill('EUR');
    await page.locator('[name=v_stage]').fill('Screen');
    await page.locator('[name="tier_price"]').first().fill('42.50');
    await shot('form');
    await page.locator('#save-event').click();
    await page.locator('#publish-event').waitFor();
    await shot('draft-saved');
    await page.locator('#publish-event').click();
    await page.locator('#my-events').waitFor();
    await page.locator('#my-events .pill', { hasText: 'published' }).first().waitFor();
    await shot('published');

    await page.goto(`${BASE}/#/search?q=${encodeURIComponent(title)}`);
    const card = page.locator('#results .card', { hasText: title });
    await card.waitFor();
    assert.match(await card.innerText(), /42\.50/);
    // the date filters show a whole date each ("mm/dd/yyyy" and the picker), not "mm/dd/"
    for (const name of ['from', 'to']) {
      const box = await page.locator(`.filters [name=${name}]`).boundingBox();
      assert.ok(box.width >= 150, `date box ${name} is ${box.width}px wide`);
    }
    await shot('in-search');

    // the seat map says what the seats face, as the venue names it
    const id = await card.getAttribute('data-event-id');
    await page.goto(`${BASE}/#/events/${id}`);
    await page.locator('svg.seatmap text.stage-label').waitFor();
    assert.equal(await page.locator('svg.seatmap text.stage-label').textContent(), 'SCREEN');

    // the edit form of a saved event names its venue, which is fixed: no "A new venue"
    await page.goto(`${BASE}/#/organizer/events/${id}`);
    await page.locator('#venue-mode').waitFor();
    const venueBox = await page.locator('#venue-mode').innerText();
    assert.doesNotMatch(venueBox, /A new venue/);
    assert.ok(await page.locator('#venue-mode').isDisabled());
    await shot('edit-form');

    // cancelled: the event page says so and offers nothing to buy
    const c = await call('POST', `/api/events/${id}/cancel`, { reason: 'the tenor lost his voice.' }, org.tokens.access_token);
    assert.equal(c.status, 'cancelled');
    await page.goto(`${BASE}/#/events/${id}`);
    await page.locator('#off-sale', { hasText: 'This event was cancelled' }).waitFor();
    assert.match(await page.locator('#sale-state').innerText(), /tenor lost his voice\. Tickets/, 'the reason ends in one full stop');
    for (const name of ['Get tickets', 'Find best available']) assert.equal(await page.getByRole('button', { name }).count(), 0);
    assert.equal(await page.locator('#best-qty, #best-tier, svg.seatmap').count(), 0);
    assert.doesNotMatch(await page.locator('main').innerText(), /15 minutes/);
    await shot('cancelled');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
