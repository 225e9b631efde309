import { login, register } from '../api.js';
import { h, field, setTitle, showFormError, busy, toast } from '../ui.js';
import { go } from '../app.js';

function afterLogin() {
  const next = sessionStorage.getItem('boxoffice.after-login');
  sessionStorage.removeItem('boxoffice.after-login');
  go(next ? next.replace(/^#/, '') : '/');
}

export function render(main, [mode]) {
  const isLogin = mode === 'login';
  setTitle(isLogin ? 'Sign in' : 'Create your account');
  const btn = h('button.btn.primary.block.big', { type: 'submit' }, isLogin ? 'Sign in' : 'Create account');
  const form = h(
    'form.panel.stack',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const email = form.email.value.trim();
        const password = form.password.value;
        if (!isLogin && form.confirm.value !== password) {
          showFormError(form, { message: 'The two passwords do not match.', fields: { confirm: 'must match the password' } });
          return;
        }
        busy(
          btn,
          async () => {
            try {
              const user = await (isLogin ? login(email, password) : register(email, password));
              toast(
                isLogin ? `Welcome back, ${user.email}` : 'Your account is ready — welcome to Boxoffice! We sent you a link to confirm your e-mail address.',
                'ok',
              );
              afterLogin();
            } catch (err) {
              showFormError(form, err);
            }
          },
          isLogin ? 'Signing in…' : 'Creating account…',
        );
      },
    },
    h('h1', isLogin ? 'Sign in' : 'Create your account'),
    h(
      'p.muted',
      isLogin ? 'Use the e-mail address and password you signed up with.' : 'Buy tickets, keep them in one place, and get updates about your events.',
    ),
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
    field(
      'Password',
      { name: 'password', type: 'password', autocomplete: isLogin ? 'current-password' : 'new-password', required: true, minlength: isLogin ? null : 8 },
      isLogin ? null : 'At least 8 characters; common passwords are refused.',
    ),
    isLogin ? null : field('Repeat password', { name: 'confirm', type: 'password', autocomplete: 'new-password', required: true }),
    btn,
    isLogin ? h('p', { style: 'text-align:center' }, h('a', { href: '#/forgot-password', id: 'forgot-password' }, 'Forgot your password?')) : null,
    h(
      'p.muted',
      { style: 'text-align:center' },
      isLogin ? ['New here? ', h('a', { href: '#/register' }, 'Create an account')] : ['Already have an account? ', h('a', { href: '#/login' }, 'Sign in')],
    ),
  );
  main.append(h('div.form-narrow', form));
  form.email.focus();
}
