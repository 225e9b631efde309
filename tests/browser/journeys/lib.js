// Shared helpers of the browser journeys: the app's URL, an API client for
// seeding, browser pages with screenshots, and readable waits.
import { launch } from '../browser.js';
import { join } from 'node:path';
import axeCore from 'axe-core';

export let BASE = process.env.BASE_URL || 'http://127.0.0.1:3000';

/** Points this test file's helpers at another app (`url`); returns it (or null when unset). */
export function useApp(url) {
  if (url) BASE = url;
  return url || null;
}
const SHOTS = process.env.SHOTS || join(import.meta.dirname, '..', 'screenshots');
export const ADMIN_EMAIL = process.env.ADMIN_EMAIL || 'admin@browser.test';
export const PASSWORD = 'correct-horse-battery-9';
/** The first admin's password (`admin_password`, which auth's one-time bootstrap gives the account). */
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || PASSWORD;
export const SUCCESS_CARD = '4242424242424242';
export const DECLINE_CARD = '4000000000000002';

/** A unique suffix for names and e-mail addresses. */
export const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Calls the API; throws with the problem detail on a non-2xx answer. */
export async function call(method, path, body, token, headers = {}) {
  const res = await fetch(new URL(path, BASE), {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok)
    throw new Error(
      `${method} ${path} → ${res.status}: ${typeof data === 'object' && data ? (data.detail || data.title) + (data.errors ? ` ${JSON.stringify(data.errors)}` : '') : text}`,
    );
  return data;
}

/** Registers (or, when taken, logs in) `email`; returns the token response. */
export async function account(email, password = PASSWORD) {
  try {
    return await call('POST', '/api/auth/register', { email, password });
  } catch (e) {
    if (!/409/.test(e.message)) throw e;
    return call('POST', '/api/auth/login', { email, password });
  }
}

let adminTokens = null;
/** The configured admin's token response (signed in once per test file: sign-ins are rate limited). */
export const admin = async () => (adminTokens ??= await account(ADMIN_EMAIL, ADMIN_PASSWORD));

/**
 * A fresh account with `role` (granted by the admin); returns `{email, tokens}` with a token carrying the role.
 * Organizers and staff need a confirmed address, so the account first opens its confirmation link from the sandbox mailbox.
 */
export async function userWithRole(role, prefix = role) {
  const email = `${prefix}-${uniq()}@browser.test`;
  const tokens = await account(email);
  if (role !== 'customer') {
    await confirmEmail(email);
    const a = await admin();
    await call('PUT', `/api/users/${tokens.user.id}/role`, { role }, a.access_token);
  }
  // a refresh answers a token carrying the account's current role
  const fresh = await call('POST', '/api/auth/refresh', { refresh_token: tokens.refresh_token });
  return { email, tokens: fresh };
}

/** A local wall-clock time `days` from now in the form the events API takes (`2026-07-04T20:00`). */
export function localIn(days, hour = 20) {
  const d = new Date(Date.now() + days * 86400000);
  return `${d.toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:00`;
}

/** Creates and publishes a small seated event (2 sections × 4 rows × 10 seats) plus a GA tier; returns the event detail. */
export async function seatedEvent(token, title) {
  const venue = await call(
    'POST',
    '/api/venues',
    {
      name: `Browser Hall ${uniq()}`,
      city: 'Lisbon',
      country: 'PT',
      timezone: 'Europe/Lisbon',
      address: 'Rua Augusta 1',
      seat_map: { sections: ['A', 'B'].map((code) => ({ code, name: `Section ${code}`, rows: ['1', '2', '3', '4'].map((label) => ({ label, count: 10 })) })) },
    },
    token,
  );
  const ev = await call(
    'POST',
    '/api/events',
    {
      title,
      category: 'concert',
      venue_id: venue.id,
      starts_at: localIn(20),
      ends_at: localIn(20, 23),
      performers: ['The Headless Chromes'],
      description: 'A journey through the whole checkout, played by a robot.',
      tiers: [
        { name: 'Front', price_minor: 6500, currency: 'EUR', kind: 'seated', sections: ['A'] },
        { name: 'Back', price_minor: 3500, currency: 'EUR', kind: 'seated', sections: ['B'] },
      ],
    },
    token,
  );
  await call('POST', `/api/events/${ev.id}/publish`, {}, token);
  return ev;
}

/**
 * A new browser page at `path` (hash route) with a screenshot helper `shot(name)` and console errors collected.
 * `close()` takes one last screenshot first (`<journey>-NN-last.png`), so a failed journey shows where it stopped.
 */
export async function open(journey, path = '#/') {
  const { context, close: closeBrowser } = await launch();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let n = 0;
  const picture = async (name) => {
    n += 1;
    await page.screenshot({ path: join(SHOTS, `${journey}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  // every screenshot of a journey is also an accessibility check of the whole page
  const shot = async (name) => {
    await picture(name);
    const found = await seriousViolations(page);
    if (found.length) throw new Error(`axe-core: serious or critical violations on ${journey}/${name}:\n  ${found.join('\n  ')}`);
  };
  const close = async () => {
    try {
      await picture('last');
    } catch {
      /* the page is gone: nothing to show */
    }
    await closeBrowser();
  };
  await page.goto(`${BASE}/${path}`);
  return { page, shot, errors, close };
}

/**
 * axe-core's WCAG 2.x A and AA violations inside `selector` on `page`, as readable lines
 * (`rule: help — the first offending element`); empty when there are none. The engine is
 * evaluated through the browser's DevTools protocol, which the site's CSP does not govern.
 */
export async function axe(page, selector) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeCore.source);
  return page.evaluate(async (sel) => {
    const r = await window.axe.run(sel, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes[0] ? v.nodes[0].html : ''}`);
  }, selector);
}

/**
 * axe-core's serious and critical violations on the whole of `page` (every rule axe-core runs by default:
 * WCAG 2.x A/AA and its best practices), as readable lines (`impact rule: help — each offending element`).
 */
export async function seriousViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeCore.source);
  return page.evaluate(async () => {
    const r = await window.axe.run(document);
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.html.slice(0, 120)).join(' | ')}`);
  });
}

/** Signs in through the UI. */
export async function signIn(page, email, password = PASSWORD) {
  await page.goto(`${BASE}/#/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).last().click();
  await page.waitForFunction(() => !location.hash.startsWith('#/login'));
}

/** The sandbox mailbox's messages to `to` (newest first), read with the sandbox tools' token. */
export async function mailbox(to) {
  const token = process.env.SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN;
  if (!token) throw new Error('SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN is not set: the sandbox mailbox cannot be read');
  const r = await call('GET', `/sandbox/email/messages?to=${encodeURIComponent(to)}`, undefined, token);
  return r.items || [];
}

/**
 * The token of the newest e-mailed link to `to` whose subject is `subject` and whose link is `#/<route>/<token>`,
 * waiting up to 10 s for the e-mail; throws when none arrives.
 */
export async function mailedToken(to, subject, route) {
  const re = new RegExp(`#/${route}/([\\w-]+)`);
  for (let i = 0; i < 50; i++) {
    const m = (await mailbox(to)).find((x) => x.subject === subject);
    const token = m && re.exec(m.text)?.[1];
    if (token) return token;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no e-mail "${subject}" with a #/${route}/ link reached ${to}`);
}

/** The subject of the e-mail that confirms a new account's address. */
export const CONFIRM_SUBJECT = 'Confirm your Boxoffice e-mail address';

/** Confirms `email`'s address as its owner would: the link from the sandbox mailbox, posted to the API. */
export async function confirmEmail(email) {
  const token = await mailedToken(email, CONFIRM_SUBJECT, 'verify-email');
  await call('POST', '/api/auth/email/verify', { token });
}

/** An organizer's fresh seated event titled `title` (plus a unique suffix) and a fresh customer to buy it: `{event, buyer}`. */
export async function eventAndBuyer(title, prefix) {
  const org = await userWithRole('organizer');
  const event = await seatedEvent(org.tokens.access_token, `${title} ${uniq()}`);
  return { event, buyer: await userWithRole('customer', prefix) };
}

/** Signs `email` in, opens the event and holds `qty` best-available seats; ends on the checkout's details form. */
export async function holdBestAvailable(page, email, eventId, qty) {
  await signIn(page, email);
  await page.goto(`${BASE}/#/events/${eventId}`);
  await page.locator('svg.seatmap .seat').first().waitFor();
  await page.locator('#best-qty').selectOption(String(qty));
  await page.getByRole('button', { name: 'Find best available' }).click();
  await page.locator('#details-form').waitFor();
}

/** Fills the checkout details form and moves on to payment. */
export async function fillDetails(page, name) {
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Mobile phone').fill('+14155550100');
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await page.locator('#payment-form').waitFor();
}

/** Fills the sandbox card form and pays. */
export async function payWith(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByLabel('CVC').fill('123');
  await page.locator('#pay').click();
}
