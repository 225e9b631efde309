import { get, currentUser, clockSkew, ApiError } from '../api.js';
import { h, mount, money, when, setTitle, loading, field, showFormError, busy, toast } from '../ui.js';
import { getHold, releaseHold, book, getBooking, pay, getPayment, abandonBooking } from '../commerce.js';
import { refreshBell } from '../bell.js';
import { go, signInFirst } from '../app.js';
import { icon } from '../icons.js';

let sandboxAnswer = null;
/** Whether the sandbox providers are on (`GET /sandbox/health` answers 200 only then): asked once per page load. */
const sandboxOn = () =>
  (sandboxAnswer ??= fetch('/sandbox/health', { headers: { accept: 'application/json' } })
    .then((r) => r.ok)
    .catch(() => false));

const serverNow = () => Date.now() + clockSkew;

function seatText(s) {
  if (s && typeof s === 'object' && s.id) return seatText(s.id);
  if (typeof s === 'string') return s.replace(/^([^-]+)-([^-]+)-(.+)$/, '$1 · Row $2 · Seat $3');
  if (s?.section) return `${s.section} · Row ${s.row} · Seat ${s.number}`;
  return String((s && (s.id || s.label)) || '');
}

/** Lines of a hold or booking: `[{label, amount}]` and the total, whatever shape the API gives. */
function lines(x, cache) {
  const cur = x.currency || x.total?.currency || cache?.event?.currency;
  const items = x.items || x.lines || x.tickets || null;
  const out = [];
  if (Array.isArray(items))
    for (const it of items) out.push([seatText(it.seat || it.seat_id || it) || it.tier_name || 'Ticket', it.price_minor ?? it.amount_minor]);
  else {
    if (Array.isArray(x.seats)) for (const s of x.seats) out.push([seatText(s), s.price_minor]);
    for (const t of x.tiers || []) {
      if (t.kind === 'general_admission') out.push([`${t.quantity} × general admission`, t.price_minor * t.quantity]);
    }
  }
  const total = x.total_minor ?? x.amount_minor ?? x.total?.amount_minor ?? null;
  return { out, total, cur };
}

/** A readable reason for a declined payment (402 problem with `decline_code`/`attempts_left`, or a payment view's `failure`). */
function declineText(d) {
  const p = (d instanceof ApiError ? d.problem : d) || {};
  const code = p.decline_code || p.failure?.decline_code || '';
  const reason =
    {
      insufficient_funds: 'The card has insufficient funds.',
      expired_card: 'The card has expired.',
      incorrect_cvc: 'The security code (CVC) is wrong.',
      lost_card: 'The bank refused this card.',
      stolen_card: 'The bank refused this card.',
      generic_decline: 'The bank refused this payment.',
    }[code] ||
    (d instanceof ApiError ? d.message : p.message || p.failure_message) ||
    'The bank refused this payment.';
  const left = p.attempts_left;
  return `${reason} Nothing was charged — check the details or try another card.${typeof left === 'number' ? ` ${left} attempt${left === 1 ? '' : 's'} left.` : ''}`;
}

export async function render(main, [holdId]) {
  setTitle('Checkout');
  if (signInFirst()) return;
  const cacheKey = `boxoffice.hold.${holdId}`;
  const stateKey = `boxoffice.checkout.${holdId}`;
  const cache = JSON.parse(sessionStorage.getItem(cacheKey) || 'null');
  const state = JSON.parse(sessionStorage.getItem(stateKey) || '{}');
  const save = () => sessionStorage.setItem(stateKey, JSON.stringify(state));

  mount(main, loading('Loading your order…'));
  let hold;
  try {
    hold = await getHold(holdId);
  } catch (err) {
    if (!(err instanceof ApiError && (err.status === 404 || err.status === 410)) || !state.booking) throw err;
    hold = cache ? cache.hold : { id: holdId };
  }
  let ev = hold.event || cache?.event;
  if (!ev) {
    try {
      const d = await get(`/api/events/${encodeURIComponent(hold.event_id)}`, { seat_map: 'false' });
      ev = { id: d.id, title: d.title, starts_at: d.starts_at, timezone: d.timezone, venue: d.venue.name, currency: d.currency };
    } catch {
      ev = { id: hold.event_id, title: 'Your event' };
    }
  }
  const eventId = ev.id || hold.event_id;
  const expiresAt = Date.parse(hold.expires_at || cache?.hold.expires_at);
  const qtyCount = hold.quantity || hold.seats?.length || 1;

  main.replaceChildren();
  const steps = h('ol.steps', { 'aria-label': 'Checkout steps' }, h('li', '1 Details'), h('li', '2 Payment'), h('li', '3 Tickets'));
  const clock = h('span.clock', { id: 'countdown', role: 'timer', 'aria-live': 'off' }, '--:--');
  const clockNote = h('span', 'Your tickets are held for you');
  const countdown = h('div.countdown', { 'aria-label': 'Time left to complete your order' }, icon('clock', 22), clockNote, clock);
  const flow = h('div.stack', { id: 'checkout-flow' });
  const { out, total, cur } = lines(hold, cache);
  const summary = h(
    'aside.panel',
    { 'aria-label': 'Order summary' },
    h('h2', 'Your order'),
    h('strong', ev.title),
    ev.starts_at ? h('p.muted', when(ev.starts_at, ev.timezone)) : null,
    ev.venue ? h('p.muted', typeof ev.venue === 'string' ? ev.venue : ev.venue.name) : null,
    h(
      'ul.selection',
      out.map(([l, a]) => h('li', h('span', l), h('span', a != null ? money(a, cur) : ''))),
    ),
    total != null ? h('div.total', h('span', 'Total'), h('span', { id: 'order-total' }, money(total, cur))) : null,
    h('button.btn.small.danger', { type: 'button', id: 'release-hold', onclick: (e) => busy(e.currentTarget, release) }, 'Release tickets'),
  );
  main.append(h('h1', 'Checkout'), steps, h('div.checkout-grid', h('div', countdown, flow), summary));

  // ---- countdown driven by the server's expires_at ----
  let expired = false;
  let done = false;
  const tick = () => {
    if (Number.isNaN(expiresAt) || done) return;
    const left = Math.max(0, Math.floor((expiresAt - serverNow()) / 1000));
    clock.textContent = `${String(Math.floor(left / 60)).padStart(2, '0')}:${String(left % 60).padStart(2, '0')}`;
    countdown.classList.toggle('low', left < 120 && left > 0);
    if (left === 120) toast('Two minutes left to complete your order.');
    if (left <= 0 && !expired) {
      expired = true;
      onExpired();
    }
  };
  const timer = setInterval(tick, 1000);
  tick();

  function step(n) {
    [...steps.children].forEach((li, i) => {
      if (i === n) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
  }

  function onExpired() {
    countdown.classList.add('over');
    summary.querySelector('#release-hold')?.remove();
    clockNote.textContent = 'Time is up';
    step(-1);
    mount(
      flow,
      h(
        'section.panel.outcome',
        { id: 'outcome', 'data-outcome': 'expired', role: 'alert' },
        h('div.big-ico', icon('hourglass')),
        h('h2', 'Your hold has expired'),
        h('p', 'The tickets were released so others can buy them. Nothing was charged. You can pick them again if they are still free.'),
        h('a.btn.primary', { href: `#/events/${eventId}` }, 'Back to the event'),
      ),
    );
  }

  // ---- giving the tickets up: say only what the API did ----
  // Before checkout the hold is released; once a booking exists (the
  // payment step) the booking is abandoned, which releases its hold and
  // cancels the payment at the provider. A payment that went through
  // meanwhile is never undone here.
  async function release() {
    const bookingId = state.booking || hold.booking_id;
    if (!bookingId) {
      try {
        await releaseHold(holdId);
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 404 || err.status === 410))) {
          if (err instanceof ApiError && /hold-in-checkout/.test(err.type) && hold.booking_id) return release();
          toast(`Your tickets were not released: ${err.message}`);
          return;
        }
      }
      toast('Your tickets were released.');
      go(`/events/${eventId}`);
      return;
    }
    let b;
    try {
      b = await abandonBooking(bookingId);
    } catch (err) {
      if (err instanceof ApiError && /booking-paid/.test(err.type)) {
        await paid();
        toast('Your payment had already gone through, so your booking stands.');
        return;
      }
      toast(`Your booking was not cancelled: ${err.message}`);
      return;
    }
    let p = null;
    try {
      p = await getPayment(bookingId);
    } catch {
      /* no payment yet */
    }
    done = true;
    clearInterval(timer);
    summary.querySelector('#release-hold')?.remove();
    clockNote.textContent = 'Booking cancelled';
    clock.textContent = '';
    step(-1);
    sessionStorage.removeItem(stateKey);
    sessionStorage.removeItem(cacheKey);
    const inFlight = p && ['processing', 'succeeded', 'partially_refunded', 'refunded'].includes(String(p.status));
    const what =
      b.status === 'expired' || b.status === 'payment_failed'
        ? 'This booking had already closed without payment; its tickets are back on sale.'
        : 'Your booking was cancelled and its tickets were released for others to buy.';
    mount(
      flow,
      h(
        'section.panel.outcome',
        { id: 'outcome', 'data-outcome': 'abandoned', role: 'status' },
        h('div.big-ico', icon('ticket')),
        h('h2', 'Booking cancelled'),
        h('p', what),
        h(
          'p',
          { id: 'charge-note' },
          inFlight
            ? 'A payment was still on its way when you left: if your bank completes it, it is refunded to your card in full. We will e-mail you.'
            : 'Nothing was charged.',
        ),
        h('a.btn.primary', { href: `#/events/${eventId}` }, 'Back to the event'),
      ),
    );
  }

  // ---- step 1: details ----
  function details() {
    step(0);
    const user = currentUser();
    const btn = h('button.btn.primary.big', { type: 'submit' }, 'Continue to payment');
    const attendees = Array.from({ length: qtyCount }, (_, i) =>
      field(`Ticket ${i + 1}${hold.seats?.[i] ? ` — ${seatText(hold.seats[i])}` : ''}: attendee name`, {
        name: `attendees/${i}/name`,
        'data-falls-back': true,
        autocomplete: i === 0 ? 'name' : 'off',
        value: (state.attendees || [])[i] || '',
      }),
    );
    const form = h(
      'form.panel.stack',
      {
        id: 'details-form',
        novalidate: true,
        onsubmit: (e) => {
          e.preventDefault();
          if (expired) return;
          const f = new FormData(form);
          const buyer = {
            name: String(f.get('buyer/name')).trim(),
            email: String(f.get('buyer/email')).trim(),
            phone: String(f.get('buyer/phone') || '').trim(),
          };
          const names = Array.from({ length: qtyCount }, (_, i) => String(f.get(`attendees/${i}/name`) || '').trim() || buyer.name);
          state.attendees = names;
          state.buyer = buyer;
          state.bookingKey = state.bookingKey || crypto.randomUUID();
          save();
          busy(
            btn,
            async () => {
              try {
                const b = await book({ hold_id: holdId, buyer, attendees: names.map((name) => ({ name })) }, state.bookingKey);
                state.booking = b.id;
                save();
                payment(b);
              } catch (err) {
                showFormError(form, err);
                if (err.status === 410) {
                  expired = true;
                  onExpired();
                }
              }
            },
            'Saving…',
          );
        },
      },
      h('h2', 'Your details'),
      h('p.muted', 'We send the tickets to this e-mail address.'),
      h(
        'div.form-grid',
        field('Full name', { name: 'buyer/name', autocomplete: 'name', required: true, value: state.buyer?.name || '' }),
        field('E-mail', { name: 'buyer/email', type: 'email', autocomplete: 'email', required: true, value: state.buyer?.email || user.email }),
        field(
          'Mobile phone',
          { name: 'buyer/phone', type: 'tel', autocomplete: 'tel', required: true, placeholder: '+44 7700 900123', value: state.buyer?.phone || '' },
          'With the country code, e.g. +1 415 555 0100',
        ),
      ),
      h('fieldset', h('legend', 'Who is coming?'), h('p.muted', 'One name per ticket — leave empty to use yours.'), h('div.form-grid', attendees)),
      h('div.row', btn),
    );
    // what is typed survives a reload of this step (kept in this tab's checkout state, as on submit)
    form.addEventListener('input', () => {
      const f = new FormData(form);
      state.buyer = { name: String(f.get('buyer/name') || ''), email: String(f.get('buyer/email') || ''), phone: String(f.get('buyer/phone') || '') };
      state.attendees = Array.from({ length: qtyCount }, (_, i) => String(f.get(`attendees/${i}/name`) || ''));
      save();
    });
    mount(flow, form);
    form.querySelector('input').focus();
  }

  // ---- step 2: payment ----
  function payment(booking, declined) {
    step(1);
    const giveUp = summary.querySelector('#release-hold');
    if (giveUp) giveUp.textContent = 'Cancel booking';
    const btn = h('button.btn.primary.big', { type: 'submit', id: 'pay' }, total != null ? `Pay ${money(total, cur)}` : 'Pay now');
    const testCards = h(
      'p.test-cards',
      { hidden: true },
      'Sandbox: use ',
      h('code', '4242 4242 4242 4242'),
      ' to succeed or ',
      h('code', '4000 0000 0000 0002'),
      ' to see a decline, any future expiry and any CVC.',
    );
    const cardBox = h(
      'div.card-form',
      h(
        'div.wide',
        field('Card number', {
          name: 'number',
          inputmode: 'numeric',
          autocomplete: 'cc-number',
          placeholder: '4242 4242 4242 4242',
          required: true,
          maxlength: 23,
        }),
      ),
      field('Expiry (MM/YY)', {
        name: 'exp',
        'data-fields': 'card/exp_month card/exp_year',
        autocomplete: 'cc-exp',
        placeholder: 'MM/YY',
        required: true,
        maxlength: 7,
      }),
      field('CVC', { name: 'cvc', inputmode: 'numeric', autocomplete: 'cc-csc', placeholder: '123', required: true, maxlength: 4 }),
      field('Name on card', { name: 'name', autocomplete: 'cc-name', value: state.buyer?.name || '' }),
    );
    const form = h(
      'form.panel.stack',
      {
        id: 'payment-form',
        novalidate: true,
        onsubmit: (e) => {
          e.preventDefault();
          if (expired) return;
          const f = new FormData(form);
          const [mm, yy] = String(f.get('exp') || '')
            .split('/')
            .map((x) => x.trim());
          const year = Number(yy) < 100 ? 2000 + Number(yy) : Number(yy);
          const body = {
            method: String(f.get('method') || 'card'),
            return_url: `/#/checkout/${holdId}`,
            card: {
              number: String(f.get('number') || '').replace(/\D/g, ''),
              exp_month: Number(mm),
              exp_year: year,
              cvc: String(f.get('cvc') || ''),
              name: String(f.get('name') || '') || undefined,
            },
          };
          // a new attempt after a decline is a new payment attempt; a network retry of the same submit repeats the key
          const key = crypto.randomUUID();
          busy(
            btn,
            async () => {
              try {
                const r = await pay(booking.id || state.booking, body, key);
                const st = String((r && (r.status || r.payment_status)) || '').toLowerCase();
                if (['failed', 'declined', 'requires_payment_method', 'canceled'].includes(st)) return payment(booking, r.failure || r);
                if (st === 'requires_action' && r.next_action && r.next_action.url) {
                  location.href = r.next_action.url;
                  return;
                }
                if (st === 'processing') return confirming(booking, r);
                await paid(r);
              } catch (err) {
                if (err instanceof ApiError && (err.status === 402 || /declin|card/.test(err.type))) return payment(booking, err);
                if (err instanceof ApiError && (err.status === 410 || /hold-expired/.test(err.type))) {
                  expired = true;
                  onExpired();
                  return;
                }
                showFormError(form, err);
              }
            },
            'Paying…',
          );
        },
      },
      declined
        ? h(
            'div.alert.error',
            { id: 'declined', role: 'alert' },
            h('strong', 'Your card was declined'),
            h('p', declineText(declined)),
            h('p', 'Your tickets are still held until the timer runs out.'),
          )
        : null,
      h('h2', 'Payment'),
      h(
        'fieldset',
        h('legend', 'Payment method'),
        h('div.methods', h('label.method', h('input', { type: 'radio', name: 'method', value: 'card', checked: true }), icon('card'), 'Card')),
      ),
      cardBox,
      testCards,
      h('div.row', btn, h('span.muted', { id: 'card-notice' }, icon('lock', 16), ' Boxoffice keeps only the card’s brand and last four digits.')),
    );
    // the test cards are named only where the sandbox provider is on (a local or test run)
    sandboxOn().then((on) => {
      testCards.hidden = !on;
    });
    mount(flow, form);
    form.querySelector('[name="number"]').focus();
  }

  // ---- step 3: outcome ----
  // The provider has not settled the charge yet (a processing card, or an
  // answer lost on the way: `outcome_unknown`). Say so, and look again until
  // it succeeds or fails; never claim success early.
  async function confirming(booking, first) {
    const note = h(
      'p.muted',
      { role: 'status' },
      first.outcome_unknown
        ? 'The payment provider has not answered yet, so we are checking whether your card was charged. Paying again with the same card is safe.'
        : 'Your bank is processing the payment.',
    );
    mount(flow, h('section.panel.outcome', { id: 'outcome', 'data-outcome': 'confirming' }, h('h2', 'Confirming your payment…'), note));
    for (let i = 0; i < 40 && !done; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      try {
        const p = await getPayment(booking.id || state.booking);
        const st = String(p.status || '').toLowerCase();
        if (st === 'succeeded') return paid(p);
        if (['failed', 'requires_payment_method', 'canceled'].includes(st)) return payment(booking, p.failure || p);
      } catch {
        /* keep looking */
      }
    }
    note.textContent = 'This is taking longer than usual. We will e-mail you as soon as the payment settles; your booking page shows its status.';
  }

  async function paid() {
    done = true;
    clearInterval(timer);
    summary.querySelector('#release-hold')?.remove();
    countdown.classList.remove('low');
    clockNote.textContent = 'Paid — your tickets are yours';
    clock.textContent = '✓';
    step(2);
    sessionStorage.removeItem(stateKey);
    sessionStorage.removeItem(cacheKey);
    const note = h('p.muted', { role: 'status' }, 'Issuing your tickets…');
    mount(
      flow,
      h(
        'section.panel.outcome',
        { id: 'outcome', 'data-outcome': 'paid' },
        h('div.big-ico', icon('party')),
        h('h2', 'Payment successful — you’re going!'),
        h('p', `We e-mailed your tickets to ${state.buyer?.email || currentUser().email}.`),
        note,
        h(
          'div.row',
          { style: 'justify-content:center' },
          h('a.btn.primary', { href: '#/tickets', id: 'see-tickets' }, 'See my tickets'),
          h('a.btn', { href: `#/bookings/${state.booking}` }, 'View booking'),
        ),
      ),
    );
    for (let i = 0; i < 15; i++) {
      try {
        const b = await getBooking(state.booking);
        if (b.status === 'confirmed') {
          note.textContent = 'Booking confirmed. Your tickets are ready.';
          break;
        }
        if (b.status === 'refunded' || b.status === 'cancelled') {
          note.textContent = 'The seats were no longer available, so your payment is being refunded.';
          break;
        }
      } catch {
        /* keep waiting */
      }
      await new Promise((r) => setTimeout(r, 700));
    }
    refreshBell();
  }

  if (state.booking) {
    try {
      const b = await getBooking(state.booking);
      if (b.status === 'confirmed') {
        paid();
        return () => clearInterval(timer);
      }
      // back from the card's authentication page (3-D Secure), or a reload mid-payment
      let p = null;
      try {
        p = await getPayment(b.id);
      } catch {
        /* no payment yet */
      }
      if (p && p.status === 'succeeded') {
        paid();
        return () => clearInterval(timer);
      }
      if (p && p.status === 'processing') {
        confirming(b, p);
        return () => clearInterval(timer);
      }
      payment(b, b.status === 'payment_failed' || p?.failure ? p?.failure || { message: 'Your last payment attempt was declined.' } : null);
    } catch {
      details();
    }
  } else details();
  return () => clearInterval(timer);
}
