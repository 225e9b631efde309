import { ApiError } from '../api.js';
import { signInFirst } from '../app.js';
import { h, setTitle, loading, mount } from '../ui.js';
import { getTicket } from '../commerce.js';
import { ticketCard } from './tickets.js';

export async function render(main, [id]) {
  if (signInFirst()) return;
  mount(main, loading());
  let t;
  try {
    t = await getTicket(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && signInFirst(true)) return;
    throw err;
  }
  setTitle(t.event_title || 'Ticket');
  main.replaceChildren(
    h('p', h('a', { href: '#/tickets' }, '← All my tickets')),
    h('h1', 'Your ticket'),
    h('div.form-narrow.ticket-page', { style: 'max-width:40rem' }, ticketCard(t)),
    h('p.muted', { style: 'text-align:center;margin-top:1rem' }, 'Show this QR code at the door. Each ticket admits one person once.'),
  );
}
