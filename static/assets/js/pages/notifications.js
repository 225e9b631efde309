import { get, post } from '../api.js';
import { h, mount, setTitle, errorBox, loading, empty, relative, busy, toast, moreButton } from '../ui.js';
import { refreshBell } from '../bell.js';
import { signInFirst } from '../app.js';
import { icon } from '../icons.js';

// The in-site notification API (notifications component).
const list = (cursor) => get('/api/notifications', { cursor, limit: 20 });
const markRead = (id) => post(`/api/notifications/${encodeURIComponent(id)}/read`, {});
const markAll = () => post('/api/notifications/read-all', {});

const ICON = { cancel: 'alert', fail: 'alert', refund: 'card', payment: 'card', ticket: 'ticket', booking: 'ticket', event: 'calendar' };
function noteIcon(n) {
  const k = String(n.kind || n.type || '');
  return icon(Object.entries(ICON).find(([p]) => k.includes(p))?.[1] || 'bell', 24);
}
const isUnread = (n) => n.unread ?? (n.read === undefined ? !n.read_at : !n.read);

function item(n) {
  const li = h(
    'li.note',
    { class: isUnread(n) ? 'unread' : '', 'data-id': n.id },
    h('span.dot', { 'aria-hidden': 'true' }),
    h('span.note-ico', noteIcon(n)),
    h(
      'div',
      { style: 'flex:1' },
      h('strong', n.title || n.subject || 'Notification'),
      n.body || n.text || n.message ? h('p', { style: 'margin:.2rem 0' }, n.body || n.text || n.message) : null,
      h('small.muted', n.created_at ? relative(n.created_at) : ''),
      isUnread(n) ? h('span.sr-only', ' (unread)') : null,
    ),
    n.link || n.url ? h('a.btn.small', { href: String(n.link || n.url).replace(/^\/(?!#)/, '#/') }, 'Open') : null,
    isUnread(n)
      ? h(
          'button.btn.small',
          {
            type: 'button',
            onclick: (e) =>
              busy(e.currentTarget, async () => {
                try {
                  await markRead(n.id);
                  li.replaceWith(item({ ...n, unread: false, read: true, read_at: new Date().toISOString() }));
                  refreshBell();
                } catch (err) {
                  toast(err.message, 'error');
                }
              }),
          },
          'Mark read',
        )
      : null,
  );
  return li;
}

export async function render(main) {
  if (signInFirst()) return;
  setTitle('Notifications');
  const ul = h('ul.notes', { id: 'notifications' });
  const box = h('section.panel', { style: 'padding:0;overflow:hidden' }, loading());
  const more = h('div.pager');
  main.append(
    h(
      'div.spread',
      h('h1', 'Notifications'),
      h(
        'button.btn.small',
        {
          type: 'button',
          onclick: (e) =>
            busy(e.currentTarget, async () => {
              try {
                await markAll();
                ul.querySelectorAll('.note.unread').forEach((li) => {
                  li.classList.remove('unread');
                  li.querySelector('button')?.remove();
                });
                refreshBell();
                toast('All caught up.', 'ok');
              } catch (err) {
                toast(err.message, 'error');
              }
            }),
        },
        'Mark all as read',
      ),
    ),
    box,
    more,
  );
  async function page(cursor) {
    const data = await list(cursor);
    ul.append(...data.items.map(item));
    if (!cursor) mount(box, data.items.length ? ul : empty('Nothing here yet', 'Booking confirmations, tickets and event updates appear here.'));
    moreButton(more, data.next_cursor, page, 'Older notifications');
  }
  try {
    await page();
  } catch (err) {
    mount(box, errorBox(err));
  }
  refreshBell();
}
