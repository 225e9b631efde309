// Journey 8: the ticket e-mail's "Open ticket" link opened where nobody is
// signed in (a phone's mail app): the app asks to sign in, then goes
// straight back to that ticket.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, eventAndBuyer, signIn, call, SUCCESS_CARD, BASE } from './lib.js';

let event;
let buyer;
let ticketId;
before(async () => {
  ({ event, buyer } = await eventAndBuyer('Mail Link Matinee', 'phone'));
  const token = buyer.tokens.access_token;
  const hold = await call('POST', '/api/holds', { event_id: event.id, tier_id: event.tiers[0].id, quantity: 1 }, token);
  const booking = await call(
    'POST',
    '/api/bookings',
    { hold_id: hold.id, buyer: { name: 'Phone Reader', email: buyer.email, phone: '+14155550100' }, attendees: [{ name: 'Phone Reader' }] },
    token,
  );
  await call('POST', `/api/payments/${booking.id}/pay`, { method: 'card', card: { number: SUCCESS_CARD, exp_month: 12, exp_year: 2034, cvc: '123' } }, token);
  for (let i = 0; i < 50 && !ticketId; i++) {
    const mine = await call('GET', `/api/tickets?booking_id=${booking.id}`, undefined, token);
    ticketId = mine.items[0]?.id;
    if (!ticketId) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(ticketId, 'a ticket was issued');
});

test('a signed-out visitor following the ticket link signs in and lands on that ticket', async () => {
  const { page, shot, errors, close } = await open('8-email-link', '#/');
  try {
    // the e-mail's link is a real path: /tickets/<id>
    await page.goto(`${BASE}/tickets/${ticketId}`);
    await page.waitForFunction(() => location.hash.startsWith('#/login'));
    await shot('asked-to-sign-in');
    await signIn(page, buyer.email);
    await page.waitForFunction((id) => location.hash === `#/tickets/${id}`, ticketId);
    await page.locator('.ticket').first().waitFor();
    assert.match(await page.locator('main').innerText(), /Mail Link Matinee/);
    // the door scans this page from a phone: a QR code of at least 240 CSS px
    await page.locator('.ticket-page .qr img').waitFor();
    const qr = await page.locator('.ticket-page .qr').boundingBox();
    assert.ok(qr.width >= 240 && qr.height >= 240, `QR box ${qr.width}x${qr.height}`);
    await shot('the-ticket');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
