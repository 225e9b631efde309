// Journey 4: staff checks a ticket in once, then sees "already checked in".
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, userWithRole, seatedEvent, signIn, call, SUCCESS_CARD, BASE } from './lib.js';

let event;
let code;
let staff;
before(async () => {
  const org = await userWithRole('organizer');
  event = await seatedEvent(org.tokens.access_token, `Door Test ${uniq()}`);
  staff = await userWithRole('staff');
  // staff check in only at the events their organizer assigned them to
  await call('PUT', `/api/events/${event.id}/staff/${staff.tokens.user.id}`, undefined, org.tokens.access_token);
  // a buyer with one paid ticket, bought through the API
  const buyer = await userWithRole('customer', 'doorbuyer');
  const t = buyer.tokens.access_token;
  const hold = await call('POST', '/api/holds', { event_id: event.id, tier_id: event.tiers[0].id, quantity: 1 }, t, { 'idempotency-key': uniq() });
  const booking = await call(
    'POST',
    '/api/bookings',
    { hold_id: hold.id, buyer: { name: 'Door Buyer', email: buyer.email, phone: '+14155550100' }, attendees: [{ name: 'Door Buyer' }] },
    t,
    { 'idempotency-key': uniq() },
  );
  await call('POST', `/api/payments/${booking.id}/pay`, { method: 'card', card: { number: SUCCESS_CARD, exp_month: 12, exp_year: 2034, cvc: '123' } }, t, {
    'idempotency-key': uniq(),
  });
  for (let i = 0; i < 40 && !code; i++) {
    const list = await call('GET', `/api/tickets?booking_id=${booking.id}`, undefined, t);
    code = list.items[0]?.code;
    if (!code) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(code, 'the paid booking got a ticket');
});

test('staff admits a ticket once and the second scan says already checked in', async () => {
  const { page, shot, errors, close } = await open('4-checkin');
  try {
    await signIn(page, staff.email);
    await page.goto(`${BASE}/#/checkin`);
    await page.locator(`#checkin-event option[value="${event.id}"]`).waitFor({ state: 'attached' });
    await page.locator('#checkin-event').selectOption(event.id);
    await page.locator('#checkin-code').fill(code);
    await page.locator('#checkin-code').press('Enter');
    await page.locator('.verdict.admitted').waitFor();
    assert.match(await page.locator('.verdict').innerText(), /ADMITTED/);
    await shot('admitted');
    await page.locator('#checkin-code').fill(code);
    await page.locator('#checkin-code').press('Enter');
    await page.locator('.verdict.already').waitFor();
    assert.match(await page.locator('.verdict').innerText(), /ALREADY CHECKED IN/);
    await shot('already-checked-in');
    await page.locator('#checkin-code').fill('not-a-ticket');
    await page.locator('#checkin-code').press('Enter');
    await page.locator('.verdict.refused').waitFor();
    await shot('refused');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
