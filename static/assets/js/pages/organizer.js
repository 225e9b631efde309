import { get, post, del, currentUser } from '../api.js';
import { h, mount, money, when, setTitle, errorBox, loading, empty, busy, toast, categoryName } from '../ui.js';
import { availability } from '../commerce.js';
import { signInFirst } from '../app.js';

const STATUS_KIND = { draft: 'warn', published: 'ok', cancelled: 'bad' };

/** Sales of one event per tier: `[{tier, sold, held, capacity, revenue}]` from the booking availability counts. */
async function sales(ev) {
  const [detail, av] = await Promise.all([get(`/api/events/${ev.id}`, { seat_map: 'false' }), availability(ev.id)]);
  const rows = detail.tiers.map((t) => {
    const c = av.tierInfo[t.id] || {};
    const sold = c.sold || 0;
    return { tier: t, sold, held: c.held || 0, capacity: c.capacity ?? t.capacity, revenue: sold * t.price_minor };
  });
  return { rows, currency: detail.currency };
}

function salesTable({ rows, currency }) {
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return h(
    'div.table-wrap',
    h(
      'table.data',
      h(
        'thead',
        h(
          'tr',
          ['Tier', 'Price', 'Sold', 'Held', 'Capacity', 'Revenue'].map((x) => h('th', x)),
        ),
      ),
      h(
        'tbody',
        rows.map((r) =>
          h(
            'tr',
            h('td', r.tier.name),
            h('td', money(r.tier.price_minor, r.tier.currency)),
            h('td', r.sold),
            h('td', r.held),
            h('td', r.capacity),
            h('td', money(r.revenue, r.tier.currency)),
          ),
        ),
        h('tr', h('th', 'Total'), h('td'), h('th', sum('sold')), h('th', sum('held')), h('th', sum('capacity')), h('th', money(sum('revenue'), currency))),
      ),
    ),
  );
}

function eventRow(ev, reload) {
  const salesBox = h('div');
  const actions = h('div.row');
  const act = (label, cls, fn, confirmText) =>
    h(
      `button.btn.small${cls}`,
      {
        type: 'button',
        onclick: (e) => {
          if (confirmText && !confirm(confirmText)) return;
          busy(e.currentTarget, async () => {
            try {
              await fn();
              reload();
            } catch (err) {
              toast(err.message, 'error');
            }
          });
        },
      },
      label,
    );
  actions.append(h('a.btn.small', { href: `#/events/${ev.id}` }, 'View'), h('a.btn.small', { href: `#/organizer/events/${ev.id}` }, 'Edit'));
  if (ev.status === 'draft') {
    actions.append(
      act('Publish', '.primary', async () => {
        await post(`/api/events/${ev.id}/publish`, {});
        toast('Published — it is on sale now.', 'ok');
      }),
      act(
        'Delete',
        '.danger',
        async () => {
          await del(`/api/events/${ev.id}`);
          toast('Draft deleted.');
        },
        'Delete this draft?',
      ),
    );
  }
  if (ev.status === 'published') {
    actions.append(
      act(
        'Cancel event',
        '.danger',
        async () => {
          const reason = prompt('Why is the event cancelled? Buyers see this and are refunded.', 'The event has been cancelled by the organizer.');
          if (reason === null) throw new Error('Not cancelled.');
          await post(`/api/events/${ev.id}/cancel`, { reason });
          toast('Event cancelled. Buyers are refunded automatically.', 'ok');
        },
        'Cancel this event? Every booking is cancelled and refunded.',
      ),
    );
    actions.append(
      h(
        'button.btn.small',
        {
          type: 'button',
          onclick: async (e) => {
            await busy(e.currentTarget, async () => {
              try {
                mount(salesBox, salesTable(await sales(ev)));
              } catch (err) {
                mount(salesBox, errorBox(err));
              }
            });
          },
        },
        'Sales',
      ),
    );
  }
  return h(
    'article.panel',
    { 'data-event-id': ev.id },
    h(
      'div.spread',
      h(
        'div',
        h('h2', { style: 'margin:0;font-size:1.17rem' }, ev.title),
        h('small.muted', `${categoryName(ev.category)} · ${when(ev.starts_at, ev.timezone)}`),
      ),
      h('span.pill', { class: STATUS_KIND[ev.status] || '' }, ev.status),
    ),
    h('p.muted', { style: 'margin:.4rem 0' }, ev.price_from ? `From ${money(ev.price_from)}` : 'No prices yet'),
    actions,
    salesBox,
  );
}

export async function render(main) {
  if (signInFirst()) return;
  const user = currentUser();
  setTitle('Organizer');
  if (user.role !== 'organizer' && user.role !== 'admin') {
    main.append(
      h(
        'section.hero.small',
        h('h1', 'Sell tickets with Boxoffice'),
        h(
          'p',
          'Organizer tools are for organizer accounts. Ask an administrator to make your account an organizer — then create venues, events and price tiers here.',
        ),
      ),
    );
    return;
  }
  const list = h('div.stack', { id: 'my-events' }, loading());
  const stats = h('div.stats');
  main.append(
    h('div.spread', h('h1', 'My events'), h('a.btn.primary', { href: '#/organizer/events/new', id: 'new-event' }, '+ New event')),
    stats,
    h('div', { style: 'height:1rem' }),
    list,
  );
  const reload = async () => {
    try {
      const items = [];
      let cursor;
      do {
        const p = await get('/api/events/mine', { cursor, limit: 100 });
        items.push(...p.items);
        cursor = p.next_cursor;
      } while (cursor && items.length < 500);
      items.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
      const count = (s) => items.filter((e) => e.status === s).length;
      mount(
        stats,
        [
          ['Events', items.length],
          ['On sale', count('published')],
          ['Drafts', count('draft')],
          ['Cancelled', count('cancelled')],
        ].map(([l, n]) => h('div.stat', h('b', n), h('small', l))),
      );
      mount(
        list,
        items.length
          ? items.map((e) => eventRow(e, reload))
          : empty(
              'No events yet',
              'Create your first event: pick a venue, set the date and prices, publish.',
              h('a.btn.primary', { href: '#/organizer/events/new' }, 'Create an event'),
            ),
      );
    } catch (err) {
      mount(list, errorBox(err, reload));
    }
  };
  await reload();
}
