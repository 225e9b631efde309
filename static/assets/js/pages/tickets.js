import { h, mount, money, when, setTitle, errorBox, loading, empty, toast, busy, moreButton } from '../ui.js';
import { myTickets, myBookings, ticketQr, downloadIcs, cancelBooking } from '../commerce.js';
import { signInFirst } from '../app.js';
import { icon } from '../icons.js';

export const seatLabel = (id) => (id ? String(id).replace(/^([^-]+)-([^-]+)-(.+)$/, 'Section $1 · Row $2 · Seat $3') : 'General admission');

/** Why a booking's cancellation voided its tickets (booking's `BookingCancelled` reasons), for the buyer. */
const CANCELLED_BECAUSE = {
  event_cancelled: 'the organizer cancelled the event, and your payment is refunded.',
  abandoned: 'the booking was cancelled on the payment step; nothing was charged.',
  expired: 'the hold ran out before the booking was paid.',
  payment_failed: 'the payment did not go through.',
};

/** A void ticket's reason as a sentence (tickets stores `booking cancelled (<reason>)`, `payment refunded` or a staff note). */
export function voidText(reason) {
  const m = /^booking cancelled \((\w+)\)$/.exec(reason || '');
  if (m) return `This ticket is void: ${CANCELLED_BECAUSE[m[1]] || 'the booking was cancelled.'}`;
  if (reason === 'payment refunded') return 'This ticket is void: its payment was refunded.';
  return reason ? `This ticket is void: ${reason.replace(/[.!?]+$/, '')}.` : 'This ticket is no longer valid.';
}

const STATUS = {
  pending_payment: ['Awaiting payment', 'warn'],
  confirmed: ['Confirmed', 'ok'],
  payment_failed: ['Payment failed', 'bad'],
  expired: ['Expired', 'muted'],
  cancelled: ['Cancelled', 'muted'],
  refunded: ['Refunded', 'muted'],
  valid: ['Valid', 'ok'],
  issued: ['Valid', 'ok'],
  void: ['Void', 'bad'],
  checked_in: ['Checked in', 'muted'],
};
export function statusPill(s) {
  const [t, k] = STATUS[s] || [String(s || '').replace(/_/g, ' '), ''];
  return h('span.pill', { class: k }, t);
}

/** A ticket card with its QR code (loaded lazily), calendar link and details. */
/** One ticket as a card whose title is an `h2` (under the page's `h1`, in the list and on the ticket's own page). */
export function ticketCard(t) {
  const qr = h('div.qr', { 'aria-label': `QR code of ticket ${t.id}`, role: 'img' }, h('span.spinner', { 'aria-hidden': 'true' }));
  const isVoid = t.status === 'void';
  if (!isVoid) {
    const load = (svg) => mount(qr, h('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt: '' }));
    if (t.qr_svg) load(t.qr_svg);
    else
      ticketQr(t.id)
        .then(load)
        .catch(() => mount(qr, h('small.muted', 'QR unavailable')));
  } else mount(qr, icon('x', 48));
  return h(
    'article.ticket',
    { class: isVoid ? 'void' : '', 'data-ticket-id': t.id },
    qr,
    h(
      'div.stack',
      h(
        'div.spread',
        h('h2', { style: 'margin:0;font-size:1.17rem' }, t.event_title || 'Ticket'),
        statusPill(t.checked_in_at && !isVoid ? 'checked_in' : t.status),
      ),
      h('div', h('strong', when(t.starts_at, t.timezone)), t.venue ? h('div.venue', t.venue) : null, h('div.muted', seatLabel(t.seat_id))),
      h('div.muted', `Attendee: ${t.attendee || '—'}`),
      t.checked_in_at ? h('div.muted', `Checked in ${when(t.checked_in_at, t.timezone)}`) : null,
      isVoid ? h('div.alert.error', voidText(t.void_reason)) : null,
      h('details', h('summary', 'Ticket code'), h('code', { style: 'overflow-wrap:anywhere;font-size:.8rem' }, t.code)),
      isVoid
        ? null
        : h(
            'div.row',
            h(
              'button.btn.small',
              { type: 'button', onclick: (e) => busy(e.currentTarget, () => downloadIcs(t.id, t.event_title).catch((err) => toast(err.message, 'error'))) },
              icon('download', 16),
              ' Add to calendar',
            ),
            h('a.btn.small', { href: `#/tickets/${t.id}` }, 'Open ticket'),
            h('a.btn.small', { href: `#/events/${t.event_id}` }, 'Event page'),
          ),
    ),
  );
}

export async function render(main, [tab], query) {
  if (signInFirst()) return;
  const showBookings = tab === 'bookings';
  setTitle(showBookings ? 'My bookings' : 'My tickets');
  main.append(
    h('h1', showBookings ? 'My bookings' : 'My tickets'),
    h(
      'nav.tabs',
      { 'aria-label': 'Tickets and bookings' },
      h('a', { href: '#/tickets', 'aria-current': showBookings ? null : 'page' }, 'Tickets'),
      h('a', { href: '#/bookings', 'aria-current': showBookings ? 'page' : null }, 'Bookings'),
    ),
  );
  const list = h('div.tickets', { id: showBookings ? 'bookings' : 'tickets' }, loading());
  const more = h('div.pager');
  main.append(list, more);

  async function page(cursor) {
    const filter = query?.get('booking_id') ? { booking_id: query.get('booking_id') } : {};
    const data = await (showBookings ? myBookings(cursor) : myTickets(cursor, filter));
    if (!cursor) list.replaceChildren();
    list.append(...data.items.map(showBookings ? bookingRow : ticketCard));
    if (!cursor && !data.items.length) {
      mount(
        list,
        empty(
          showBookings ? 'No bookings yet' : 'No tickets yet',
          'When you buy tickets they show up here.',
          h('a.btn.primary', { href: '#/search' }, 'Find events'),
        ),
      );
    }
    moreButton(more, data.next_cursor, page, 'Show more');
  }
  try {
    await page();
  } catch (err) {
    mount(list, errorBox(err));
  }
}

export function bookingRow(b) {
  const cancellable = b.status === 'confirmed' || b.status === 'pending_payment';
  const total =
    b.total ??
    (b.total_minor != null
      ? { amount_minor: b.total_minor, currency: b.currency }
      : b.amount_minor != null
        ? { amount_minor: b.amount_minor, currency: b.currency }
        : null);
  const row = h(
    'article.panel',
    { 'data-booking-id': b.id },
    h(
      'div.spread',
      h('div', h('h3', { style: 'margin:0' }, b.event_title || b.event?.title || 'Booking'), h('small.muted', `Booking ${b.id}`)),
      statusPill(b.status),
    ),
    h(
      'p.muted',
      { style: 'margin:.4rem 0' },
      [
        b.starts_at ? when(b.starts_at, b.timezone) : null,
        `${b.seats?.length || b.quantity || (b.attendees?.length) || ''} ticket(s)`,
        total ? money(total) : null,
      ]
        .filter(Boolean)
        .join(' · '),
    ),
    h(
      'div.row',
      h('a.btn.small', { href: `#/bookings/${b.id}` }, 'Details'),
      cancellable
        ? h(
            'button.btn.small.danger',
            {
              type: 'button',
              onclick: async (e) => {
                if (!confirm('Cancel this booking? Paid bookings are refunded and the tickets stop working.')) return;
                await busy(e.currentTarget, async () => {
                  try {
                    const nb = await cancelBooking(b.id);
                    toast('Booking cancelled. Any payment is refunded.', 'ok');
                    row.replaceWith(bookingRow({ ...b, ...(nb?.id ? nb : { status: 'cancelled' }) }));
                  } catch (err) {
                    toast(err.message, 'error');
                  }
                });
              },
            },
            'Cancel booking',
          )
        : null,
    ),
  );
  return row;
}
