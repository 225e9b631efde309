// "Forgot password": ask for a reset link (#/forgot-password), then choose a
// new password from the e-mailed link (#/reset-password/<token>). The API
// answers the request the same way whether or not the address has an
// account, and so does this page.
import { post } from '../api.js';
import { h, field, setTitle, showFormError, busy, toast } from '../ui.js';
import { go } from '../app.js';

export function render(main, [token]) {
  return token ? chooseNew(main, token) : ask(main);
}

function ask(main) {
  setTitle('Forgot your password?');
  const btn = h('button.btn.primary.block.big', { type: 'submit' }, 'Send me a link');
  const done = h('div', { id: 'forgot-done', role: 'status' });
  const form = h(
    'form.panel.stack',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        busy(
          btn,
          async () => {
            try {
              const r = await post('/api/auth/password/forgot', { email: form.email.value.trim() });
              showFormError(form, null);
              done.replaceChildren(h('div.alert', h('strong', 'Check your e-mail'), h('p', r.detail)));
              btn.remove();
            } catch (err) {
              showFormError(form, err);
            }
          },
          'Sending…',
        );
      },
    },
    h('h1', 'Forgot your password?'),
    h('p.muted', 'Give the e-mail address of your account and we send you a link to choose a new password.'),
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
    btn,
    done,
    h('p.muted', { style: 'text-align:center' }, 'Remembered it? ', h('a', { href: '#/login' }, 'Sign in')),
  );
  main.append(h('div.form-narrow', form));
  form.email.focus();
}

function chooseNew(main, token) {
  setTitle('Choose a new password');
  const btn = h('button.btn.primary.block.big', { type: 'submit' }, 'Save the new password');
  const form = h(
    'form.panel.stack',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const pw = form.new_password.value;
        if (form.confirm.value !== pw) {
          showFormError(form, { message: 'The two passwords do not match.', fields: { confirm: 'must match the password' } });
          return;
        }
        busy(
          btn,
          async () => {
            try {
              await post('/api/auth/password/reset', { token, new_password: pw });
              toast('Your password is changed and you were signed out everywhere. Sign in with the new one.', 'ok');
              go('/login');
            } catch (err) {
              showFormError(form, err);
            }
          },
          'Saving…',
        );
      },
    },
    h('h1', 'Choose a new password'),
    h('p.muted', 'This ends every session of your account: sign in again afterwards.'),
    field(
      'New password',
      { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 },
      'At least 8 characters; common passwords are refused.',
    ),
    field('Repeat password', { name: 'confirm', type: 'password', autocomplete: 'new-password', required: true }),
    btn,
    h('p.muted', { style: 'text-align:center' }, 'Link expired? ', h('a', { href: '#/forgot-password' }, 'Ask for a new one')),
  );
  main.append(h('div.form-narrow', form));
  form.new_password.focus();
}
