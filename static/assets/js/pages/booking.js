import { ApiError } from '../api.js';
import { signInFirst } from '../app.js';
import { h, setTitle, loading, mount, money, when } from '../ui.js';
import { getBooking, myTickets, getPayment } from '../commerce.js';
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
  main.append(await receipt(b));
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

/**
 * The receipt of booking `b`: one line per ticket (seat or general admission, attendee, tier, price), service
 * fees (Boxoffice charges none), the total, and how it was paid (card brand and last four digits, when) and
 * refunded. The payment part is left out when payments cannot say.
 */
async function receipt(b) {
  const price = new Map((b.tiers || []).map((t) => [t.tier_id, t.price_minor]));
  const lines = (Array.isArray(b.attendees) ? b.attendees : []).map((a) =>
    h(
      'li',
      h('span', seatLabel(a.seat_id), a.name ? h('small.muted', ` — ${a.name}`) : null),
      h('span', price.has(a.tier_id) ? money(price.get(a.tier_id), b.currency) : ''),
    ),
  );
  let pay = null;
  try {
    pay = await getPayment(b.id);
  } catch {
    /* payments did not answer: the receipt still lists what was bought */
  }
  const paid = pay && ['succeeded', 'refunded', 'partially_refunded'].includes(pay.status);
  return h(
    'section.panel',
    { id: 'receipt', 'aria-labelledby': 'receipt-h' },
    h('h2', { id: 'receipt-h' }, 'Receipt'),
    h('ul.selection', lines),
    h('div.total', h('span', 'Service fees'), h('span', 'None')),
    h('div.total', h('strong', 'Total'), h('strong', money(b.amount_minor, b.currency))),
    paid
      ? h(
          'p.muted',
          `Paid ${pay.card ? `with ${pay.card.brand ? `${pay.card.brand[0].toUpperCase()}${pay.card.brand.slice(1)}` : 'card'} ending ${pay.card.last4}` : 'by card'} on ${when(pay.updated_at)}.`,
        )
      : null,
    b.refunded_minor > 0 ? h('p.muted', `Refunded so far: ${money(b.refunded_minor, b.currency)}.`) : null,
  );
}
