// Journey 10: a new account confirms its e-mail address — register, see
// "Confirm your e-mail address", ask for the link again, find that the
// first link was replaced, open the new one from the mailbox, see
// "confirmed", and the notice is gone. axe-core checks the notice and the
// confirmation page (WCAG 2.x A and AA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, mailbox, mailedToken, axe, CONFIRM_SUBJECT, PASSWORD, BASE } from './lib.js';

/** The confirmation links' tokens mailed to `to`, newest first, once there are `n` of them. */
async function confirmations(to, n) {
  for (let i = 0; i < 50; i++) {
    const tokens = (await mailbox(to)).filter((m) => m.subject === CONFIRM_SUBJECT).map((m) => /#\/verify-email\/([\w-]+)/.exec(m.text)?.[1]);
    if (tokens.length >= n) return tokens;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fewer than ${n} confirmation e-mails reached ${to}`);
}

test('a new account confirms its e-mail address from the link it was sent', async () => {
  const email = `newcomer-${uniq()}@browser.test`;
  const { page, shot, errors, close } = await open('10-verify-email', '#/register');
  try {
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForFunction(() => !location.hash.startsWith('#/register'));

    // the notice, named as a region, with the address the link went to
    const notice = page.getByRole('region', { name: 'Confirm your e-mail address' });
    await notice.waitFor();
    assert.match(await notice.innerText(), new RegExp(`We sent a link to ${email.replace(/[.+]/g, '\\$&')}`));
    assert.deepEqual(await axe(page, '#verify-notice'), [], 'the notice has no accessibility violations');
    await shot('notice');
    const first = await mailedToken(email, CONFIRM_SUBJECT, 'verify-email');

    // "Send again": the answer is said in the notice's status line
    await notice.getByRole('button', { name: 'Send again' }).click();
    await page.waitForFunction(() => /We sent a new confirmation link/.test(document.getElementById('verify-status')?.textContent || ''));
    const [newest, older] = await confirmations(email, 2);
    assert.equal(older, first);
    assert.notEqual(newest, first);
    await shot('sent-again');

    // the replaced link says so and offers a new one
    await page.goto(`${BASE}/#/verify-email/${first}`);
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor();
    assert.ok(await page.getByRole('button', { name: 'Send a new link' }).isVisible());
    assert.deepEqual(await axe(page, '#main'), [], 'the invalid-link page has no accessibility violations');
    await shot('link-replaced');

    // the new link confirms; the notice is gone from every page
    await page.goto(`${BASE}/#/verify-email/${newest}`);
    await page.getByRole('heading', { name: 'Your e-mail address is confirmed' }).waitFor();
    assert.deepEqual(await axe(page, '#main'), [], 'the confirmed page has no accessibility violations');
    await shot('confirmed');
    await page.goto(`${BASE}/#/`);
    await page.locator('.hero').waitFor();
    assert.equal(await notice.count(), 0, 'no notice once confirmed');

    // and it stays confirmed on the profile, after a reload
    await page.goto(`${BASE}/#/account`);
    await page.reload();
    await page.locator('#profile-form').waitFor();
    assert.match(await page.locator('#profile-form').innerText(), /E-mail address confirmed/);
    assert.equal(await notice.count(), 0);
    await shot('profile');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
