import { get, currentUser, ApiError } from '../api.js';
import { h, mount, when, setTitle, busy, toast } from '../ui.js';
import { checkIn } from '../commerce.js';
import { seatLabel } from './tickets.js';
import { signInFirst } from '../app.js';

const EVENT_KEY = 'boxoffice.checkin-event';

export async function render(main, _p, query) {
  if (signInFirst()) return;
  const user = currentUser();
  setTitle('Check-in');
  // the door is for staff, organizers and admins: nobody else gets a form the API would refuse on submit
  if (user.role === 'customer') {
    mount(
      main,
      h(
        'div.panel',
        h('h1', 'Check-in'),
        h('p', 'Checking tickets in at the door is for door staff and organizers. An admin can give your account the door staff role.'),
        h('p', h('a', { href: '#/tickets' }, 'Your own tickets are in My tickets →')),
      ),
    );
    return;
  }
  const eventSel = h('select', { name: 'event_id', id: 'checkin-event', required: true }, h('option', { value: '' }, 'Loading events…'));
  const verdict = h('div', { id: 'verdict', 'aria-live': 'assertive' });
  const code = h('input.code-input', {
    name: 'code',
    id: 'checkin-code',
    autocomplete: 'off',
    autocapitalize: 'off',
    spellcheck: 'false',
    placeholder: 'Scan or type the ticket code',
    required: true,
  });
  const btn = h('button.btn.primary.big.block', { type: 'submit' }, 'Check in');
  const form = h(
    'form.panel.stack',
    {
      id: 'checkin-form',
      onsubmit: (e) => {
        e.preventDefault();
        const c = code.value.trim();
        if (!c || !eventSel.value) {
          toast('Pick the event and enter a code.', 'error');
          return;
        }
        localStorage.setItem(EVENT_KEY, eventSel.value);
        busy(
          btn,
          async () => {
            try {
              const r = await checkIn({ code: c, event_id: eventSel.value });
              show('admitted', 'ADMITTED', r.ticket ? [r.ticket.attendee, seatLabel(r.ticket.seat_id)].filter(Boolean).join(' · ') : 'Welcome!');
            } catch (err) {
              const p = (err instanceof ApiError && err.problem) || {};
              const kind = p.result || (err.type || '').replace('/problems/', '');
              if (kind === 'already-checked-in')
                show(
                  'already',
                  'ALREADY CHECKED IN',
                  `First scanned ${p.checked_in_at ? when(p.checked_in_at) : 'earlier'}${p.attendee ? ` · ${p.attendee}` : ''}`,
                );
              else if (kind === 'ticket-void') show('refused', 'REFUSED', 'This ticket was cancelled or refunded.');
              else if (kind === 'wrong-event') show('refused', 'REFUSED', 'This ticket is for a different event.');
              else if (kind === 'ticket-invalid') show('refused', 'REFUSED', 'Not a valid Boxoffice ticket.');
              else show('refused', 'NOT CHECKED', err.message);
            }
            code.value = '';
            code.focus();
          },
          'Checking…',
        );
      },
    },
    h('label.field', { for: 'checkin-event' }, h('span.label', 'Event at this door'), eventSel),
    h('label.field', { for: 'checkin-code' }, h('span.label', 'Ticket code'), code),
    h('small.muted', 'A barcode scanner that types the code and presses Enter works here too.'),
    btn,
  );

  function show(kind, title, text) {
    mount(verdict, h('div.verdict', { class: kind, role: 'alert', 'data-result': kind }, h('div.v-title', title), h('p', text)));
  }
  main.append(h('div.scan', h('h1', 'Check-in'), form, verdict));

  // events to pick from: the organizer's own, or what is on sale (staff)
  try {
    let items = [];
    if (user.role === 'organizer' || user.role === 'admin')
      items = (await get('/api/events/mine', { limit: 100 })).items.filter((e) => e.status === 'published');
    if (!items.length || user.role === 'admin' || user.role === 'staff') {
      const more = (await get('/api/events', { limit: 100, past: 'true', from: new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10) })).items;
      items = [...items, ...more.filter((m) => !items.some((x) => x.id === m.id))];
    }
    const pre = query.get('event') || localStorage.getItem(EVENT_KEY);
    mount(
      eventSel,
      h('option', { value: '' }, 'Choose the event…'),
      items.map((e) => h('option', { value: e.id, selected: e.id === pre }, `${e.title} — ${when(e.starts_at, e.timezone)}`)),
    );
  } catch (err) {
    mount(eventSel, h('option', { value: '' }, 'Could not load events'));
    toast(err.message, 'error');
  }
  code.focus();
}
