import { ApiError } from '../api.js';
import { signInFirst } from '../app.js';
import { h, setTitle, loading, mount, money, when } from '../ui.js';
import { getBooking, myTickets } from '../commerce.js';
import { bookingRow, ticketCard, seatLabel } from './tickets.js';

export async function render(main, [id]) {
  if (signInFirst()) return;
  mount(main, loading());
  let b;
  try {
    b = await getBooking(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && signInFirst(true)) return;
    throw err;
  }
  setTitle('Booking');
  main.replaceChildren(h('p', h('a', { href: '#/bookings' }, '← All my bookings')), h('h1', 'Booking'), bookingRow(b));
  const items = b.items || b.seats || [];
  if (items.length) {
    main.append(
      h(
        'section.panel',
        h('h2', 'What you bought'),
        h(
          'ul.selection',
          items.map((it) =>
            h(
              'li',
              h('span', typeof it === 'string' ? seatLabel(it) : seatLabel(it.seat_id || it.id) + (it.attendee ? ` — ${it.attendee}` : '')),
              h('span', it.price_minor != null ? money(it.price_minor, b.currency) : ''),
            ),
          ),
        ),
      ),
    );
  }
  if (b.buyer) main.append(h('section.panel', h('h2', 'Buyer'), h('p', [b.buyer.name, b.buyer.email, b.buyer.phone].filter(Boolean).join(' · '))));
  if (b.created_at) main.append(h('p.muted', `Booked ${when(b.created_at)}`));
  if (b.status === 'confirmed') {
    const list = h('div.tickets', loading());
    main.append(h('h2', { style: 'margin-top:1.5rem' }, 'Tickets'), list);
    try {
      const t = await myTickets(undefined, { booking_id: b.id });
      mount(list, t.items.filter((x) => x.booking_id === b.id).map(ticketCard));
    } catch {
      list.remove();
    }
  }
}
