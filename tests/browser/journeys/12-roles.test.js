// Journey 12: roles have a screen. An admin finds a new account under
// People and roles and makes it an organizer; an account that has not
// confirmed its address is refused in words; a customer is offered no
// Check-in or Admin page, and opening Check-in explains whom it is for.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, account, confirmEmail, call, signIn, admin, ADMIN_EMAIL, ADMIN_PASSWORD, BASE } from './lib.js';

let confirmed;
let unconfirmed;
before(async () => {
  confirmed = { email: `to-organize-${uniq()}@browser.test` };
  confirmed.tokens = await account(confirmed.email);
  await confirmEmail(confirmed.email);
  unconfirmed = { email: `not-yet-${uniq()}@browser.test` };
  unconfirmed.tokens = await account(unconfirmed.email);
});

test('an admin grants the organizer role on a screen; an unconfirmed account is refused in words', async () => {
  const { page, shot, errors, close } = await open('12-roles');
  try {
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Admin' }).first().click();
    await page.locator('#people tbody tr').first().waitFor();
    const row = page.locator('#people tr', { hasText: confirmed.email });
    await row.waitFor();
    await shot('people');
    await row.getByLabel(`Role of ${confirmed.email}`).selectOption('organizer');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('.toast', { hasText: `${confirmed.email} is now organizer.` }).waitFor();
    const a = await admin();
    const organizers = await call('GET', '/api/users?role=organizer&limit=100', undefined, a.access_token);
    assert.ok(
      organizers.items.some((u) => u.id === confirmed.tokens.user.id),
      'the role is granted',
    );

    const other = page.locator('#people tr', { hasText: unconfirmed.email });
    await other.getByLabel(`Role of ${unconfirmed.email}`).selectOption('staff');
    await other.getByRole('button', { name: 'Save' }).click();
    await other.locator('.alert.error', { hasText: 'has not confirmed their e-mail address' }).waitFor();
    assert.equal(await other.getByLabel(`Role of ${unconfirmed.email}`).inputValue(), 'customer', 'the box shows the role the account still has');
    await shot('refused-unconfirmed');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a customer is offered no door or admin page, and the Check-in address says whom it is for', async () => {
  const { page, shot, errors, close } = await open('12-roles-customer');
  try {
    await signIn(page, unconfirmed.email);
    const nav = await page.locator('#nav-links').innerText();
    assert.doesNotMatch(nav, /Check-in|Admin|Organizer/);
    await page.goto(`${BASE}/#/checkin`);
    await page.getByText('Checking tickets in at the door is for door staff and organizers.').waitFor();
    assert.equal(await page.locator('#checkin-form').count(), 0, 'no form that would be refused on submit');
    await shot('checkin-refused');
    await page.goto(`${BASE}/#/admin`);
    await page.getByText('Only admins can see and change').waitFor();
    assert.equal(await page.locator('#people').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
