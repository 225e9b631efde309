import { get, patch, post, del, currentUser, setSession, logout } from '../api.js';
import { h, mount, setTitle, loading, field, showFormError, busy, toast, errorBox } from '../ui.js';
import { go, signInFirst } from '../app.js';

const KINDS = [
  ['booking', 'Bookings', 'Confirmations, failed payments, cancellations and refunds'],
  ['ticket', 'Tickets', 'Tickets issued or voided'],
  ['reminders', 'Reminders', 'A reminder before your event'],
  ['marketing', 'News and offers', 'Events we think you will like'],
];

export async function render(main, [tab]) {
  if (signInFirst()) return;
  const settings = tab === 'settings';
  setTitle(settings ? 'Settings' : 'Profile');
  main.append(
    h('h1', 'Your account'),
    h(
      'nav.tabs',
      { 'aria-label': 'Account' },
      h('a', { href: '#/account', 'aria-current': settings ? null : 'page' }, 'Profile'),
      h('a', { href: '#/settings', 'aria-current': settings ? 'page' : null }, 'Settings & security'),
    ),
  );
  const body = h('div.stack', loading());
  main.append(body);
  try {
    mount(body, settings ? await settingsView() : await profileView());
  } catch (err) {
    mount(body, errorBox(err));
  }
}

async function profileView() {
  const p = await get('/api/users/me');
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const btn = h('button.btn.primary', { type: 'submit' }, 'Save profile');
  const form = h(
    'form.panel.stack',
    {
      id: 'profile-form',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const val = (k) => {
          const v = String(f.get(k) || '').trim();
          return v || null;
        };
        busy(
          btn,
          async () => {
            try {
              await patch('/api/users/me', { display_name: val('display_name'), phone: val('phone'), locale: val('locale'), time_zone: val('time_zone') });
              showFormError(form, null);
              toast('Profile saved', 'ok');
            } catch (err) {
              showFormError(form, err);
            }
          },
          'Saving…',
        );
      },
    },
    h('h2', 'Profile'),
    h(
      'p.muted',
      `Signed in as ${p.email || currentUser().email} (${currentUser().role}). `,
      p.email_verified ? 'E-mail address confirmed.' : 'E-mail address not confirmed yet: open the link we sent you.',
    ),
    h(
      'div.form-grid',
      field('Display name', { name: 'display_name', value: p.display_name || '', autocomplete: 'name' }),
      field('Phone', { name: 'phone', type: 'tel', value: p.phone || '', autocomplete: 'tel' }),
      field('Language', {
        tag: 'select',
        name: 'locale',
        value: p.locale || '',
        options: [
          ['', 'Browser default'],
          ['en', 'English'],
          ['en-GB', 'English (UK)'],
          ['de', 'Deutsch'],
          ['fr', 'Français'],
          ['es', 'Español'],
          ['nl', 'Nederlands'],
        ],
      }),
      field('Time zone', {
        tag: 'select',
        name: 'time_zone',
        value: p.time_zone || '',
        options: [['', 'Browser default'], ...zones.map((z) => [z, z.replace(/_/g, ' ')])],
      }),
    ),
    h('div.row', btn),
  );
  return form;
}

async function settingsView() {
  const s = await get('/api/users/me/settings');
  const n = s.notifications || {};
  const btn = h('button.btn.primary', { type: 'submit' }, 'Save settings');
  const form = h(
    'form.panel.stack',
    {
      id: 'settings-form',
      onsubmit: (e) => {
        e.preventDefault();
        const out = {};
        for (const [k] of KINDS) out[k] = { email: form[`${k}.email`].checked, in_app: form[`${k}.in_app`].checked };
        busy(
          btn,
          async () => {
            try {
              await patch('/api/users/me/settings', { notifications: out });
              showFormError(form, null);
              toast('Settings saved', 'ok');
            } catch (err) {
              showFormError(form, err);
            }
          },
          'Saving…',
        );
      },
    },
    h('h2', 'Notifications'),
    h('p.muted', 'Ticket e-mails for your purchases are always sent.'),
    h(
      'div.table-wrap',
      h(
        'table.data',
        h('thead', h('tr', h('th', 'What'), h('th', 'E-mail'), h('th', 'In the site'))),
        h(
          'tbody',
          KINDS.map(([k, name, hint]) =>
            h(
              'tr',
              h('td', h('strong', name), h('div.muted', hint)),
              h('td', h('input', { type: 'checkbox', name: `${k}.email`, checked: n[k] ? n[k].email : true, 'aria-label': `${name} by e-mail` })),
              h('td', h('input', { type: 'checkbox', name: `${k}.in_app`, checked: n[k] ? n[k].in_app : true, 'aria-label': `${name} in the site` })),
            ),
          ),
        ),
      ),
    ),
    h('div.row', btn),
  );

  const pwBtn = h('button.btn.primary', { type: 'submit' }, 'Change password');
  const pw = h(
    'form.panel.stack',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        busy(
          pwBtn,
          async () => {
            try {
              setSession(await post('/api/auth/password', { current_password: pw.current_password.value, new_password: pw.new_password.value }));
              pw.reset();
              showFormError(pw, null);
              toast('Password changed. Other devices were signed out.', 'ok');
            } catch (err) {
              showFormError(pw, err);
            }
          },
          'Changing…',
        );
      },
    },
    h('h2', 'Password'),
    h(
      'div.form-grid',
      field('Current password', { name: 'current_password', type: 'password', autocomplete: 'current-password' }),
      field('New password', { name: 'new_password', type: 'password', autocomplete: 'new-password' }, 'At least 8 characters.'),
    ),
    h('div.row', pwBtn),
  );

  const danger = h(
    'section.panel.stack',
    h('h2', 'Sessions and account'),
    h(
      'div.row',
      h(
        'button.btn',
        {
          type: 'button',
          onclick: (e) =>
            busy(e.currentTarget, async () => {
              try {
                await post('/api/auth/logout-all', {});
              } catch {
                /* signing out anyway */
              }
              await logout();
              toast('Signed out everywhere');
              go('/');
            }),
        },
        'Sign out on every device',
      ),
      h(
        'button.btn.danger',
        {
          type: 'button',
          onclick: (e) => {
            if (!confirm('Delete your account? Your personal data is erased; this cannot be undone.')) return;
            busy(e.currentTarget, async () => {
              try {
                await del('/api/users/me');
                await logout();
                toast('Your account was deleted.');
                go('/');
              } catch (err) {
                toast(err.message, 'error');
              }
            });
          },
        },
        'Delete my account',
      ),
    ),
  );
  return h('div.stack', form, pw, danger);
}
