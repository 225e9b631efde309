// Journey 1: register → search → open an event → pick 2 seats → checkout →
// pay with the success card → see the tickets and a notification.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, seatedEvent, fillDetails, payWith, mailbox, call, SUCCESS_CARD, PASSWORD } from './lib.js';

let event;
before(async () => {
  const org = await userWithRole('organizer');
  event = await seatedEvent(org.tokens.access_token, `Robot Rock ${uniq()}`);
  // someone else holds the first seat of the front row
  const other = await userWithRole('customer', 'other');
  await call('POST', '/api/holds', { event_id: event.id, seats: ['A-1-1'] }, other.tokens.access_token, { 'idempotency-key': uniq() });
});

test('a new buyer finds an event, picks two seats, pays and gets tickets and a notification', async () => {
  const { page, shot, errors, close } = await open('1-buy');
  try {
    await shot('home');
    // register
    await page.getByRole('link', { name: 'Sign up' }).click();
    const email = `buyer-${uniq()}@browser.test`;
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await shot('register');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('.avatar').waitFor();
    // the refresh token lives in an HttpOnly cookie for auth's routes, never in script-readable storage
    const stored = await page.evaluate(() => localStorage.getItem('boxoffice.session'));
    assert.ok(stored && !stored.includes('refresh'), stored);
    const jar = await page.context().cookies();
    const rc = jar.find((c) => c.name === 'boxoffice_refresh');
    assert.ok(rc?.httpOnly && rc.secure && rc.sameSite === 'Strict' && rc.path === '/api/auth', JSON.stringify(jar));
    // an expired access token is renewed through that cookie
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('boxoffice.session'));
      localStorage.setItem('boxoffice.session', JSON.stringify({ ...s, access: 'expired', expires: 0 }));
    });
    await page.reload();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('boxoffice.session') || '{}').access?.startsWith('ey'));
    await page.locator('.avatar').waitFor();

    // search from the header
    await page.locator('#top-q').fill(event.title);
    await page.locator('#top-q').press('Enter');
    const card = page.locator(`#results [data-event-id="${event.id}"]`);
    await card.waitFor();
    await shot('search');
    await card.click();

    // the event page: venue, local time, seat map
    await page.getByRole('heading', { name: event.title }).waitFor();
    assert.match(await page.locator('#event-when').innerText(), /20:00|8:00/);
    const seats = page.locator('svg.seatmap .seat:not(.held):not(.sold)');
    await seats.first().waitFor();
    // a held seat says so when clicked
    await page.locator('svg.seatmap .seat.held[data-seat="A-1-1"]').waitFor();
    await page.locator('svg.seatmap [data-seat="A-1-1"]').click({ force: true }); // aria-disabled, yet a mouse can click it
    assert.match(await page.locator('.seat-status').innerText(), /held by another buyer right now/);
    // the tooltip of a seat at the map's left edge stays inside the map, and follows a pick
    const edge = page.locator('svg.seatmap [data-seat="A-1-2"]');
    await edge.hover();
    await page.locator('.seat-tip:not([hidden])').waitFor();
    const inside = await page.evaluate(() => {
      const tip = document.querySelector('.seat-tip').getBoundingClientRect();
      const box = document.querySelector('.seat-tip').parentElement.getBoundingClientRect();
      return tip.left >= box.left && tip.right <= box.right;
    });
    assert.ok(inside, 'the tooltip is not cut off at the edge');
    assert.match(await page.locator('.seat-tip').innerText(), /available$/);
    await edge.click();
    assert.match(await page.locator('.seat-tip').innerText(), /selected$/);
    await edge.click(); // and dropped again
    await seats.nth(4).click();
    await seats.nth(5).click();
    await page.getByRole('button', { name: 'Continue with 2 seats' }).waitFor();
    await shot('seats-picked');
    await page.getByRole('button', { name: 'Continue with 2 seats' }).click();

    // checkout: countdown from the server's expires_at, details, card
    await page.locator('#details-form').waitFor();
    assert.match(await page.locator('#countdown').innerText(), /^1[45]:\d\d$/);
    await shot('checkout');
    await fillDetails(page, 'Ada Lovelace');
    // the payment step talks to a buyer: the sandbox's test cards (this run has the sandbox on), no developer notes
    await page.locator('.test-cards:not([hidden])').waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /payment_method|one-time token|payments API/);
    await shot('payment');
    await payWith(page, SUCCESS_CARD);
    await page.locator('[data-outcome="paid"]').waitFor();
    await shot('paid');

    // tickets
    await page.locator('#see-tickets').click();
    await page.locator('.ticket').nth(1).waitFor({ timeout: 20000 });
    assert.equal(await page.locator('.ticket').count(), 2);
    // each ticket says where to go: the venue's name and address
    assert.match(await page.locator('.ticket .venue').first().innerText(), /^Browser Hall \w+, Rua Augusta 1, Lisbon, PT$/);
    await page.locator('.ticket .qr img').first().waitFor();
    await shot('tickets');
    // a void ticket says why in words, not tickets' stored code
    const why = await page.evaluate(async () => {
      const { voidText } = await import('/assets/js/pages/tickets.js');
      return [voidText('booking cancelled (event_cancelled)'), voidText('payment refunded'), voidText(null)];
    });
    assert.deepEqual(why, [
      'This ticket is void: the organizer cancelled the event, and your payment is refunded.',
      'This ticket is void: its payment was refunded.',
      'This ticket is no longer valid.',
    ]);

    // the tickets e-mail names seats as the site does, never by their ids
    let mail;
    for (let i = 0; i < 50 && !mail; i++) {
      mail = (await mailbox(email)).find((m) => /ticket/i.test(m.subject));
      if (!mail) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(mail, 'the tickets e-mail arrived');
    assert.match(mail.text, /Section [AB], Row \d, Seat \d+/);
    assert.match(mail.text, /Where: Browser Hall \w+, Rua Augusta 1, Lisbon, PT/);
    assert.doesNotMatch(mail.text, /seat [AB]-\d-\d/);

    // notification: the bell shows an unread count, the list has the message
    await page
      .waitForFunction(
        () => {
          const b = document.getElementById('bell-count');
          return b && !b.hidden && Number(b.textContent) > 0;
        },
        null,
        { timeout: 30000, polling: 1000 },
      )
      .catch(async () => {
        await page.reload();
        await page.locator('#bell-count:not([hidden])').waitFor({ timeout: 15000 });
      });
    await page.locator('#bell').click();
    await page.locator('#notifications .note').first().waitFor();
    await shot('notifications');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
