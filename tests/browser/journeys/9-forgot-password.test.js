// Journey 9: "Forgot your password?" — ask for a link, follow the e-mailed
// single-use link, choose a new password, sign in with it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { open, uniq, account, mailedToken, signIn, BASE } from './lib.js';

const NEW_PASSWORD = 'a fresh browser passphrase 77';
let email;
before(async () => {
  email = `forgetful-${uniq()}@browser.test`;
  await account(email);
});

test('a buyer who forgot the password gets a link by e-mail, sets a new one and signs in with it', async () => {
  const { page, shot, errors, close } = await open('9-forgot-password', '#/login');
  try {
    await page.locator('#forgot-password').click();
    await page.waitForFunction(() => location.hash === '#/forgot-password');
    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.locator('#forgot-done .alert').waitFor();
    assert.match(await page.locator('#forgot-done').innerText(), /If an account exists for this address/);
    await shot('link-sent');
    const token = await mailedToken(email, 'Choose a new Boxoffice password', 'reset-password');
    await page.goto(`${BASE}/#/reset-password/${token}`);
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByLabel('Repeat password').fill(NEW_PASSWORD);
    await shot('new-password');
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await page.waitForFunction(() => location.hash === '#/login');
    await signIn(page, email, NEW_PASSWORD);
    assert.ok(!(await page.evaluate(() => location.hash)).startsWith('#/login'), 'signed in with the new password');
    await shot('signed-in');
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
