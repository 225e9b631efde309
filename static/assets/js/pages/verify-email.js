// #/verify-email/<token>: the link of the confirmation e-mail. Posts the
// token and says what happened; a link that does not work (expired,
// replaced by a newer one) offers a new one to a signed-in account.
import { post, syncSession } from '../api.js';
import { h, mount, setTitle, loading } from '../ui.js';
import { resendButton } from '../verify.js';

export async function render(main, [token]) {
  setTitle('Confirm your e-mail address');
  const box = h('div.panel.stack', { id: 'verify-result' }, loading('Confirming your e-mail address…'));
  main.append(h('div.form-narrow', box));
  try {
    await post('/api/auth/email/verify', { token }, { auth: false });
    await syncSession();
    mount(
      box,
      h('h1', 'Your e-mail address is confirmed'),
      h('div.alert.ok', { role: 'status' }, h('p', 'Thank you. Your account is all set.')),
      h('p', h('a.btn.primary', { href: '#/search' }, 'Browse events')),
    );
  } catch (err) {
    const user = await syncSession();
    const status = h('p', { id: 'verify-page-status', role: 'status' });
    let next;
    if (user?.email_verified) next = h('p', 'Your e-mail address is already confirmed, so there is nothing more to do.');
    else if (user) next = [h('p', `We can send a new link to ${user.email}.`), h('div', resendButton(status, 'Send a new link')), status];
    else next = h('p', h('a', { href: '#/login' }, 'Sign in'), ' to ask for a new link.');
    mount(
      box,
      h('h1', 'This link does not work'),
      h('div.alert.error', { role: 'alert' }, h('p', err.status === 409 ? 'It may have expired, or a newer link replaced it.' : err.message)),
      next,
    );
  }
}
