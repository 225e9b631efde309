import { get, currentUser, ApiError } from '../api.js';
import { h, mount, money, when, setTitle, errorBox, loading, categoryName, toast, busy } from '../ui.js';
import { art } from '../cards.js';
import { SeatMap, PALETTE } from '../seatmap.js';
import { seatStatus, seatLayout, layoutSeats, seatStates, tierCounts, holdSeats, holdBest, getHold, releaseHold } from '../commerce.js';
import { go } from '../app.js';
import { icon } from '../icons.js';

const POLL_MS = 8000;

export async function render(main, [id]) {
  mount(main, loading('Loading event…'));
  const ev = await get(`/api/events/${encodeURIComponent(id)}`, { seat_map: 'false' });
  setTitle(ev.title);
  const tiers = new Map((ev.tiers || []).map((t, i) => [t.id, { ...t, color: PALETTE[i % PALETTE.length] }]));
  const seated = [...tiers.values()].some((t) => t.kind === 'seated');
  const limit = ev.order_limit || 8;
  const venue = ev.venue || {};
  const now = Date.now();
  const notYet = ev.sales_start && Date.parse(ev.sales_start) > now;
  const closed = (ev.sales_end && Date.parse(ev.sales_end) < now) || Date.parse(ev.starts_at) < now;
  const onSale = ev.status === 'published' && !notYet && !closed;
  const offSale = onSale ? null : saleState(ev, notYet);

  main.replaceChildren();
  const address = [venue.address, venue.city, venue.region, venue.postal_code, venue.country].filter(Boolean).join(', ');
  main.append(
    h(
      'section.event-hero',
      art(ev, true),
      h(
        'div.panel.event-facts',
        h('span.pill', categoryName(ev.category)),
        h('h1', ev.title),
        ev.performers?.length ? h('p.muted', ev.performers.join(' · ')) : null,
        h(
          'div.fact',
          h('span.ico', icon('calendar', 24)),
          h(
            'div',
            h(
              'strong',
              { id: 'event-when' },
              ev.time_tba ? `${when(ev.starts_at, ev.timezone, { dateOnly: true })} · time to be announced` : when(ev.starts_at, ev.timezone),
            ),
            h('div.muted', `Local time at the venue (${ev.timezone})`),
          ),
        ),
        h('div.fact', h('span.ico', icon('pin', 24)), h('div', h('strong', venue.name || ''), h('div.muted', address))),
        ev.price_from
          ? h(
              'div.fact',
              h('span.ico', icon('ticket', 24)),
              h('div', h('strong', { id: 'hero-price' }, `From ${money(ev.price_from)}`), h('div.muted', `Up to ${limit} tickets per order`)),
            )
          : null,
      ),
    ),
  );

  if (offSale)
    main.append(
      h(
        `div.alert.${offSale.tone}`,
        { id: 'sale-state', role: offSale.tone === 'error' ? 'alert' : 'status' },
        h('strong', offSale.title),
        h('p', offSale.text),
      ),
    );

  const left = h('div.stack');
  const box = h('aside.panel.buy-box', { 'aria-label': 'Your tickets' });
  main.append(h('div.event-grid', left, box));
  if (ev.description)
    main.append(h('section.panel', { style: 'margin-top:1.5rem' }, h('h2', 'About'), ...ev.description.split(/\n{2,}/).map((p) => h('p', p))));

  // ---- state ----
  // seats picked before signing in come back after it (kept for this tab only)
  const picksKey = `boxoffice.picks.${ev.id}`;
  let picked = JSON.parse(sessionStorage.getItem(picksKey) || '[]');
  sessionStorage.removeItem(picksKey);
  let inv = null;
  let map = null;
  let yourHold = null; // this tab's live hold of this event, when the buyer came Back from its checkout
  let holdTimer = null;
  let remaining = {};
  let tierInfo = {};
  /** `sold_out` (every place sold), `held_out` (none free, some only held: they may come back) or null. */
  const outState = (id) => {
    const t = tierInfo[id];
    if (t?.available !== 0) return null;
    return t.held > 0 ? 'held_out' : 'sold_out';
  };
  const status = h('p.seat-status', { role: 'status', 'aria-live': 'polite' });

  const tierList = h('ul.tiers');
  function drawTiers() {
    mount(
      tierList,
      [...tiers.values()].map((t) => {
        const left = remaining[t.id];
        const out = outState(t.id);
        return h(
          'li.tier',
          { class: out ? 'out' : '', 'data-tier-id': t.id },
          h('span.swatch', { style: `background:${t.color}`, 'aria-hidden': 'true' }),
          h(
            'span.name',
            t.name,
            h(
              'div.left',
              t.kind === 'general_admission' ? 'General admission' : 'Reserved seating',
              out === 'sold_out'
                ? ' · Sold out'
                : out === 'held_out'
                  ? ' · None left right now (held seats come back if not bought)'
                  : typeof left === 'number'
                    ? ` · ${left} left`
                    : '',
            ),
          ),
          h('strong', money(t.price_minor, t.currency)),
        );
      }),
    );
  }
  drawTiers();

  // best available / GA quantity
  const tierSel = h(
    'select',
    { name: 'tier', id: 'best-tier' },
    [...tiers.values()].map((t) => h('option', { value: t.id }, `${t.name} — ${money(t.price_minor, t.currency)}`)),
  );
  const qty = h(
    'select',
    { name: 'quantity', id: 'best-qty' },
    Array.from({ length: limit }, (_, i) => h('option', { value: i + 1, selected: i === 1 }, String(i + 1))),
  );
  const bestBtn = h('button.btn.primary.block', { type: 'submit', disabled: !onSale || !tiers.size }, seated ? 'Find best available' : 'Get tickets');
  const bestForm = h(
    'form.stack',
    {
      'aria-label': 'Best available',
      onsubmit: (e) => {
        e.preventDefault();
        busy(bestBtn, () => hold(() => holdBest(ev.id, tierSel.value, Number(qty.value))), 'Holding…');
      },
    },
    h(
      'div.buy-fields',
      h('label.field', { for: 'best-tier' }, h('span.label', 'Ticket type'), tierSel),
      h('label.field', { for: 'best-qty' }, h('span.label', 'Quantity'), qty),
    ),
    bestBtn,
  );

  // what is offered follows what is left: a tier with nothing free cannot be chosen, the quantity
  // goes no higher than what the chosen tier has, and with nothing free anywhere the button says so
  function drawBuyBox() {
    for (const o of tierSel.options) {
      const t = tiers.get(o.value);
      const out = outState(o.value);
      o.disabled = !!out;
      o.textContent = `${t.name} — ${money(t.price_minor, t.currency)}${out === 'sold_out' ? ' (sold out)' : out ? ' (none left right now)' : ''}`;
    }
    const open = [...tierSel.options].filter((o) => !o.disabled);
    if (tierSel.selectedOptions[0]?.disabled && open.length) tierSel.value = open[0].value;
    const left = remaining[tierSel.value];
    const most = Math.max(1, Math.min(limit, typeof left === 'number' && left > 0 ? left : limit));
    for (const o of qty.options) o.disabled = Number(o.value) > most;
    if (Number(qty.value) > most) qty.value = String(most);
    const none = tiers.size > 0 && open.length === 0;
    const allSold = none && [...tiers.keys()].every((id) => outState(id) === 'sold_out');
    const heroPrice = document.getElementById('hero-price');
    if (heroPrice && ev.price_from) heroPrice.textContent = allSold ? 'Sold out' : `From ${money(ev.price_from)}`;
    bestBtn.disabled = !onSale || !tiers.size || none;
    bestBtn.textContent = allSold ? 'Sold out' : none ? 'None left right now' : seated ? 'Find best available' : 'Get tickets';
    tierSel.disabled = qty.disabled = none;
  }
  tierSel.addEventListener('change', () => {
    mount(holdErr, null);
    drawBuyBox();
  });

  const selList = h('ul.selection', { 'aria-label': 'Picked seats' });
  const total = h('div.total');
  const pickBtn = h(
    'button.btn.primary.block.big',
    { type: 'button', id: 'checkout-seats', disabled: true, onclick: () => busy(pickBtn, () => hold(() => holdSeats(ev.id, picked)), 'Holding your seats…') },
    'Continue to checkout',
  );

  function drawSelection() {
    mount(
      selList,
      picked.map((sid) => {
        const s = inv.byId.get(sid);
        const t = tiers.get(s.tier_id);
        return h(
          'li',
          h('span', `${s.section} · Row ${s.row} · Seat ${s.number}`),
          h(
            'span',
            money(t.price_minor, t.currency),
            ' ',
            h('button.btn.small', { type: 'button', 'aria-label': `Remove seat ${s.section} ${s.row} ${s.number}`, onclick: () => toggle(sid) }, '✕'),
          ),
        );
      }),
    );
    const sum = picked.reduce((a, sid) => a + tiers.get(inv.byId.get(sid).tier_id).price_minor, 0);
    mount(total, picked.length ? [h('span', `${picked.length} seat${picked.length > 1 ? 's' : ''}`), h('span', money(sum, ev.currency))] : null);
    pickBtn.disabled = !picked.length || !onSale;
    pickBtn.textContent = picked.length ? `Continue with ${picked.length} seat${picked.length > 1 ? 's' : ''}` : 'Pick seats on the map';
  }

  function toggle(sid) {
    if (picked.includes(sid)) picked = picked.filter((x) => x !== sid);
    else if (!onSale) {
      toast('Tickets are not on sale.');
      return;
    } else if (picked.length >= limit) {
      toast(`You can pick up to ${limit} seats per order.`);
      return;
    } else picked = [...picked, sid];
    mount(holdErr, null); // an earlier refusal is about seats no longer picked
    map.setMine(picked);
    const s = inv.byId.get(sid);
    status.textContent = `${picked.includes(sid) ? 'Picked' : 'Removed'} section ${s.section}, row ${s.row}, seat ${s.number}. ${picked.length} picked.`;
    drawSelection();
  }

  // a click on a seat someone else has: say so where the picks are announced
  function taken(sid, state) {
    const s = inv.byId.get(sid);
    const where = `Section ${s.section}, row ${s.row}, seat ${s.number}`;
    status.textContent =
      state === 'sold'
        ? `${where} is sold. Pick another seat.`
        : `${where} is held by another buyer right now and may come back within 15 minutes. Pick another seat.`;
  }

  async function hold(fn) {
    if (yourHold) {
      toast('You already hold tickets for this event: resume that checkout or release them first.');
      document.getElementById('resume-hold')?.scrollIntoView({ block: 'nearest' });
      return;
    }
    if (!currentUser()) {
      toast('Sign in or create an account to hold tickets.');
      if (picked.length) sessionStorage.setItem(picksKey, JSON.stringify(picked));
      sessionStorage.setItem('boxoffice.after-login', location.hash);
      go('/login');
      return;
    }
    mount(holdErr, null);
    try {
      const held = await fn();
      sessionStorage.setItem(
        `boxoffice.hold.${held.id}`,
        JSON.stringify({
          hold: held,
          event: { id: ev.id, title: ev.title, starts_at: ev.starts_at, timezone: ev.timezone, venue: venue.name, currency: ev.currency },
        }),
      );
      go(`/checkout/${held.id}`);
    } catch (err) {
      toast(err.message, 'error');
      mount(holdErr, errorBox(err));
      if (err instanceof ApiError && err.status === 409) refresh();
    }
  }
  const holdErr = h('div');

  if (offSale) {
    // nothing to buy: no picker, quantity, hold button or hold text
    mount(
      box,
      h('h2', 'Tickets'),
      ev.status === 'cancelled' || !tiers.size ? null : tierList,
      h('p.off-sale', { id: 'off-sale' }, h('strong', offSale.title), h('span.muted', offSale.short)),
    );
    return () => {};
  }
  mount(box, h('h2', 'Tickets'), tierList, holdErr);
  if (!tiers.size) box.append(h('p.muted', 'Tickets are not available yet.'));

  // the first status document names the seat layout of the current version
  let first = null;
  try {
    first = (await seatStatus(ev.id)).doc;
  } catch {
    /* live counts are an extra */
  }
  let layoutVersion = null;
  const mapPanel = seated
    ? h(
        'section.panel',
        { 'aria-labelledby': 'map-h' },
        h('div.spread', h('h2', { id: 'map-h' }, 'Choose your seats'), h('span.muted', venue.name)),
        loading('Loading the seat map…'),
      )
    : null;
  async function loadMap(doc) {
    const seats = layoutSeats(await seatLayout(doc.layout.url));
    layoutVersion = doc.layout.version;
    inv = { seats, byId: new Map(seats.map((s) => [s.id, s])) };
    picked = picked.filter((sid) => inv.byId.has(sid));
    if (!seats.length) {
      mapPanel.remove();
      return;
    }
    const old = map;
    map = new SeatMap(seats, tiers, toggle, taken, ev.venue?.stage_label);
    map.setMine(picked);
    map.setYours(yourHold ? holdSeatIds(yourHold) : []);
    if (old) {
      old.el.replaceWith(map.el);
      return;
    }
    mapPanel.lastChild.replaceWith(
      h(
        'div',
        h(
          'div.legend',
          [...tiers.values()]
            .filter((t) => t.kind === 'seated')
            .map((t) => h('span', h('i', { style: `background:${t.color}` }), `${t.name} ${money(t.price_minor, t.currency)}`)),
          h('span', h('i', { style: 'background:var(--seat-mine)' }), 'Your pick'),
          h('span', h('i', { style: 'background:var(--seat-held)' }), 'Unavailable'),
        ),
        map.el,
        status,
      ),
    );
    box.append(
      h('h3', { style: 'margin-top:1.2rem' }, 'Your seats'),
      selList,
      total,
      pickBtn,
      h('p.muted', { style: 'margin:.9rem 0 .4rem;text-align:center' }, 'or let us pick'),
    );
  }
  if (seated) {
    left.prepend(mapPanel);
    try {
      if (!first) throw new ApiError(503, null);
      await loadMap(first);
    } catch (err) {
      mapPanel.lastChild.replaceWith(errorBox(err));
    }
  }
  box.append(bestForm);
  if (!seated && tiers.size) {
    left.append(
      h(
        'section.panel',
        h('h2', 'General admission'),
        h(
          'p',
          'No reserved seats at this event: choose the ticket type and how many tickets you want, and we hold them for you for 15 minutes while you check out.',
        ),
        h('p.muted', [venue.name, address].filter(Boolean).join(' — ')),
      ),
    );
  }
  if (!currentUser()) box.append(h('p.muted', { style: 'margin-top:.8rem;font-size:.9rem' }, 'You will be asked to sign in before your tickets are held.'));
  if (map) drawSelection();

  // ---- a hold this tab already has here (checkout left with Back): show it as the buyer's, offer to resume or release it ----
  function dropYourHold(key) {
    sessionStorage.removeItem(key);
    yourHold = null;
    clearInterval(holdTimer);
    document.getElementById('resume-hold')?.remove();
    map?.setYours([]);
  }
  async function findYourHold() {
    for (const key of Object.keys(sessionStorage).filter((k) => k.startsWith('boxoffice.hold.'))) {
      const cached = JSON.parse(sessionStorage.getItem(key) || 'null');
      if (cached?.event?.id !== ev.id || !cached.hold?.id) continue;
      let live = null;
      try {
        live = await getHold(cached.hold.id);
      } catch {
        /* gone, or not this account's: forget it */
      }
      if (live?.status === 'active' && Date.parse(live.expires_at) > Date.now()) return { key, hold: live };
      sessionStorage.removeItem(key);
    }
    return null;
  }
  async function showYourHold() {
    if (!currentUser() || offSale) return;
    const found = await findYourHold();
    if (!found) return;
    yourHold = found.hold;
    const n = holdSeatIds(yourHold).length + (yourHold.tiers || []).reduce((a, t) => a + (t.kind === 'general_admission' ? t.quantity || 0 : 0), 0);
    const left = h('strong', { id: 'resume-left' });
    const tick = () => {
      const ms = Date.parse(yourHold.expires_at) - Date.now();
      if (ms <= 0) return dropYourHold(found.key);
      const s = Math.floor(ms / 1000);
      left.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    };
    const release = h('button.btn.small', { type: 'button' }, 'Release them');
    release.addEventListener('click', () =>
      busy(
        release,
        async () => {
          await releaseHold(yourHold.id).catch((err) => {
            if (!(err instanceof ApiError && err.status === 404)) throw err;
          });
          dropYourHold(found.key);
          toast('Your held tickets are released.', 'ok');
          refresh();
        },
        'Releasing…',
      ),
    );
    box.prepend(
      h(
        'div.alert.warn',
        { id: 'resume-hold', role: 'status' },
        h('strong', `You are holding ${n} ticket${n === 1 ? '' : 's'} for this event`),
        h('p', 'Time left to check out: ', left, '.'),
        h('div.row', h('a.btn.primary.small', { href: `#/checkout/${yourHold.id}` }, 'Resume checkout'), release),
      ),
    );
    tick();
    holdTimer = setInterval(tick, 1000);
    map?.setYours(holdSeatIds(yourHold));
  }

  // ---- live availability: the status document, revalidated with If-None-Match ----
  let timer = null;
  function apply(doc) {
    const counts = tierCounts(doc);
    remaining = counts.tiers;
    tierInfo = counts.tierInfo;
    drawTiers();
    drawBuyBox();
    if (map) {
      const lost = map.setStatus(seatStates(doc, inv.seats));
      if (lost.length) {
        picked = picked.filter((x) => !lost.includes(x));
        map.setMine(picked);
        drawSelection();
        toast(`${lost.length} of your picked seats ${lost.length > 1 ? 'were' : 'was'} just taken by someone else.`, 'error');
      }
    }
  }
  async function refresh() {
    try {
      const { doc, changed } = await seatStatus(ev.id);
      if (!changed) return;
      // the event's seats or tiers changed: draw the new layout first
      if (map && doc.layout.version !== layoutVersion) {
        await loadMap(doc);
        drawSelection();
      }
      apply(doc);
    } catch {
      /* availability is a live extra; the page still works without it */
    }
  }
  if (first) apply(first);
  timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
  showYourHold();
  return () => {
    clearInterval(timer);
    clearInterval(holdTimer);
  };
}

/** The seat ids of hold `hold` (its `seats` are ids or `{id}` objects). */
const holdSeatIds = (hold) => (hold.seats || []).map((s) => (typeof s === 'string' ? s : s.id)).filter(Boolean);

/**
 * Why an event's tickets cannot be bought now (`null` when they can):
 * `{title, text, short, tone}` from the event's status, sales window and
 * start time as the events API gives them.
 */
function saleState(ev, notYet) {
  const now = Date.now();
  if (ev.status === 'cancelled') {
    return {
      tone: 'error',
      title: 'This event was cancelled',
      short: 'Tickets are no longer sold.',
      text: `${ev.cancel_reason ? `The organizer's reason: ${ev.cancel_reason.trim().replace(/[.!?]+$/, '')}. ` : ''}Tickets are no longer sold. Everyone who bought tickets is refunded automatically — see My bookings.`,
    };
  }
  if (ev.status === 'draft')
    return {
      tone: 'warn',
      title: 'Draft — only you can see this page',
      short: 'Not on sale yet.',
      text: 'Publish it from the organizer page to put tickets on sale.',
    };
  if (Date.parse(ev.starts_at) < now)
    return { tone: 'warn', title: 'This event has already taken place', short: 'Tickets are no longer sold.', text: 'Tickets are no longer sold.' };
  if (notYet)
    return {
      tone: 'warn',
      title: 'Tickets are not on sale yet',
      short: `On sale ${when(ev.sales_start, ev.timezone)}.`,
      text: `Sales open ${when(ev.sales_start, ev.timezone)}.`,
    };
  if (ev.sales_end && Date.parse(ev.sales_end) < now)
    return { tone: 'warn', title: 'Ticket sales have closed', short: 'Tickets are no longer sold.', text: `Sales closed ${when(ev.sales_end, ev.timezone)}.` };
  return { tone: 'warn', title: 'Tickets are not on sale', short: 'Tickets are not on sale.', text: 'Tickets for this event cannot be bought now.' };
}
