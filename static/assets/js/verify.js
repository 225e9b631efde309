// E-mail confirmation: the notice shown while the signed-in account has not
// confirmed its address, and its "Send again" button. An unconfirmed
// account can buy tickets; organizer and staff accounts need a confirmed
// address (the API's rule, see auth's verify module).
import { post, syncSession } from './api.js';
import { h, mount, busy } from './ui.js';

/** Readable minutes (at least one) of `seconds`. */
function minutes(seconds) {
  const m = Math.max(1, Math.ceil(seconds / 60));
  return m === 1 ? 'a minute' : `${m} minutes`;
}

/**
 * A "Send again" button asking for a new confirmation link; the answer
 * (sent, too many requests with how long to wait, already confirmed) goes
 * into `status` (a role=status element), as the API said it.
 */
export function resendButton(status, label = 'Send again') {
  const btn = h('button.btn.small', { type: 'button' }, label);
  btn.addEventListener('click', () =>
    busy(
      btn,
      async () => {
        try {
          const r = await post('/api/auth/email/verify/resend');
          mount(status, r.detail);
        } catch (err) {
          if (err.status === 429) {
            mount(status, `You asked for several links in a short time. ${err.retryAfter ? `Try again in ${minutes(err.retryAfter)}.` : 'Try again later.'}`);
          } else if (err.status === 409 && err.type === '/problems/email-already-verified') {
            mount(status, 'Your e-mail address is already confirmed.');
            await syncSession();
          } else {
            mount(status, err.message);
          }
        }
      },
      'Sending…',
    ),
  );
  return btn;
}

/**
 * Shows (or removes) the notice in `#verify-notice` for `user`: only while signed in and unconfirmed,
 * and not on the confirmation page itself (`#/verify-email/…`, which says what happened and offers its own new link).
 */
export function renderVerifyNotice(user) {
  const slot = document.getElementById('verify-notice');
  if (!slot) return;
  if (user?.email_verified !== false || location.hash.startsWith('#/verify-email/')) {
    slot.replaceChildren();
    return;
  }
  if (slot.dataset.for === user.email && slot.firstChild) return;
  slot.dataset.for = user.email;
  const status = h('p', { id: 'verify-status', role: 'status' });
  mount(
    slot,
    h(
      'section.alert.warn.verify-notice',
      { 'aria-labelledby': 'verify-title' },
      h(
        'div.verify-inner',
        h('strong', { id: 'verify-title' }, 'Confirm your e-mail address'),
        h('p', `We sent a link to ${user.email}. Open it to confirm the address. You can buy tickets meanwhile.`),
        resendButton(status),
        status,
      ),
    ),
  );
}
