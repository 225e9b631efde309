// Admin: people and their roles. Lists accounts (GET /api/users, newest
// first, filtered by role, paged) and grants customer, organizer or door
// staff (PUT /api/users/{id}/role). Admins are made only by configuration,
// so an admin's row offers no change.
import { get, put, currentUser, ApiError } from '../api.js';
import { h, mount, when, setTitle, loading, busy, toast, errorBox } from '../ui.js';
import { go, signInFirst } from '../app.js';

const ROLES = [
  ['customer', 'Customer'],
  ['organizer', 'Organizer'],
  ['staff', 'Door staff'],
];

/** Why a role change was refused, in words (the API's 409 types). */
function refusal(err) {
  if (err instanceof ApiError && /email-unverified/.test(err.type))
    return 'This person has not confirmed their e-mail address yet. Organizers and door staff must confirm it first; ask them to open the link we sent.';
  if (err instanceof ApiError && /admin-role-fixed/.test(err.type)) return 'An admin stays an admin: that role is set in the configuration.';
  return err.message;
}

export async function render(main, _p, query) {
  if (signInFirst()) return;
  const user = currentUser();
  setTitle('People and roles');
  if (user.role !== 'admin') {
    mount(main, h('div.panel', h('h1', 'People and roles'), h('p', 'Only admins can see and change who organizes events and who works the door.')));
    return;
  }
  const filter = query.get('role') || '';
  const roleFilter = h(
    'select',
    { id: 'role-filter', name: 'role' },
    h('option', { value: '' }, 'Everyone'),
    [...ROLES, ['admin', 'Admin']].map(([v, t]) => h('option', { value: v, selected: v === filter }, t)),
  );
  roleFilter.addEventListener('change', () => go(roleFilter.value ? `/admin?role=${roleFilter.value}` : '/admin'));
  const body = h('tbody');
  const more = h('button.btn', { type: 'button', hidden: true }, 'Show more');
  const status = h('p.muted', { role: 'status', 'aria-live': 'polite' });
  main.replaceChildren(
    h('h1', 'People and roles'),
    h('p.muted', 'Give an account the organizer role to let it create and sell events, or the door staff role to let it check tickets in.'),
    h('div.panel.stack', h('label.field', { for: 'role-filter' }, h('span.label', 'Show'), roleFilter), status),
    h(
      'div.panel',
      h(
        'table.data',
        { id: 'people' },
        h(
          'thead',
          h(
            'tr',
            h('th', { scope: 'col' }, 'Account'),
            h('th', { scope: 'col' }, 'Since'),
            h('th', { scope: 'col' }, 'Role'),
            h('th', { scope: 'col' }, h('span.sr-only', 'Save')),
          ),
        ),
        body,
      ),
      more,
    ),
  );

  function row(u) {
    const name = u.display_name ? `${u.display_name} · ` : '';
    const account = h('td', h('strong', u.email || '(erased)'), h('div.muted', `${name}${u.email_verified ? 'e-mail confirmed' : 'e-mail not confirmed'}`));
    const since = h('td', when(u.created_at, undefined, { dateOnly: true }));
    if (u.role === 'admin' || u.deleted) {
      return h('tr', { 'data-user-id': u.id }, account, since, h('td', u.deleted ? 'Erased' : 'Admin'), h('td'));
    }
    const select = h(
      'select',
      { 'aria-label': `Role of ${u.email}`, name: 'role' },
      ROLES.map(([v, t]) => h('option', { value: v, selected: v === u.role }, t)),
    );
    const save = h('button.btn.small', { type: 'button' }, 'Save');
    save.addEventListener('click', () =>
      busy(
        save,
        async () => {
          for (const old of account.querySelectorAll('.alert')) old.remove();
          try {
            const r = await put(`/api/users/${encodeURIComponent(u.id)}/role`, { role: select.value });
            u.role = r.role;
            toast(`${u.email} is now ${ROLES.find(([v]) => v === r.role)?.[1].toLowerCase() || r.role}.`, 'ok');
          } catch (err) {
            select.value = u.role;
            // said in the person's own row, where the admin is looking
            account.append(h('div.alert.error', { role: 'alert' }, refusal(err)));
          }
        },
        'Saving…',
      ),
    );
    return h('tr', { 'data-user-id': u.id }, account, since, h('td', select), h('td', save));
  }

  let cursor = null;
  async function page() {
    const q = { limit: 50 };
    if (filter) q.role = filter;
    if (cursor) q.cursor = cursor;
    const r = await get('/api/users', q);
    body.append(...r.items.map(row));
    cursor = r.next_cursor;
    more.hidden = !cursor;
    if (!body.children.length) mount(status, 'Nobody here yet.');
  }
  more.addEventListener('click', () => busy(more, page, 'Loading…'));
  mount(status, loading());
  try {
    await page();
    if (body.children.length) mount(status, null);
  } catch (err) {
    mount(status, errorBox(err));
  }
}
