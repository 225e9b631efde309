// Every call the buying journey makes to the booking, payments and tickets
// components, in one place (their contracts: DESIGN §2, issues 5–7).
import { get, post, del, api, idem, ApiError } from './api.js';

// ---- availability: the seat layout of an event version (fetched once,
// cached by the browser for good: its URL names the version) and the live
// status document (a few KB, revalidated with If-None-Match) -------------

const statusCache = new Map(); // event id -> {etag, doc}

/**
 * Booking's live status document of an event: `{doc, changed}`. The
 * request carries the ETag of the last answer as If-None-Match; a 304
 * gives the cached document back with `changed: false`. Sent without the
 * session's token so any cache on the way may keep it (it is public).
 */
export async function seatStatus(eventId) {
  const url = `/api/holds/availability/${encodeURIComponent(eventId)}`;
  const cached = statusCache.get(eventId);
  const headers = { accept: 'application/json, application/problem+json' };
  if (cached) headers['if-none-match'] = cached.etag;
  let res;
  try {
    res = await fetch(url, { headers, cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (res.status === 304 && cached) return { doc: cached.doc, changed: false };
  const text = await res.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    doc = null;
  }
  if (!res.ok) throw new ApiError(res.status, doc && typeof doc === 'object' ? doc : null);
  const etag = res.headers.get('etag');
  if (etag) statusCache.set(eventId, { etag, doc });
  return { doc, changed: true };
}

/** The seat layout document at `url` (from a status document's `layout.url`); immutable, so the browser keeps it. */
export const seatLayout = (url) => get(url, undefined, { auth: false });

/**
 * The seats of a layout document in layout order, as the seat map draws
 * them: `{id, section, row, number, position, x, y, tier_id, accessible}`.
 */
export function layoutSeats(layout) {
  const tiers = layout?.tiers || [];
  const out = [];
  for (const r of layout?.rows || []) {
    for (const [id, number, position, x, y, t, accessible] of r.seats) {
      out.push({ id, section: r.section, row: r.row, number, position, x, y, tier_id: tiers[t] ? tiers[t].id : null, accessible: !!accessible });
    }
  }
  return out;
}

/**
 * Live state of every seat that is not available: `{seat_id: "held"|"sold"}`,
 * from a status document's 2-bit states (seat i of `seats`, the layout's
 * order: `(byte[i/4] >> 2*(i%4)) & 3`, an index into `seats.states`).
 */
export function seatStates(doc, seats) {
  const out = {};
  const s = doc?.seats;
  if (!s || typeof s.bits !== 'string') return out;
  const bytes = atob(s.bits);
  const states = s.states || ['available', 'held', 'sold'];
  for (let i = 0; i < seats.length; i++) {
    const code = (bytes.charCodeAt(i >> 2) >> ((i & 3) * 2)) & 3;
    if (code && states[code] && states[code] !== 'available') out[seats[i].id] = states[code];
  }
  return out;
}

/** Tier counts of a status document: `{tiers: {tier_id: available}, tierInfo: {tier_id: {capacity, sold, held, available}}}`. */
export function tierCounts(doc) {
  const tiers = {};
  const tierInfo = {};
  for (const t of doc?.tiers || []) {
    if (!t?.tier_id) continue;
    tiers[t.tier_id] = t.available ?? null;
    tierInfo[t.tier_id] = t;
  }
  return { tiers, tierInfo };
}

/** Tier counts of an event now (see [tierCounts]). */
export async function availability(eventId) {
  return tierCounts((await seatStatus(eventId)).doc);
}

/** Holds explicit seats: `{event_id, seats}` → hold `{id, expires_at, seats, ...}`. */
export const holdSeats = (eventId, seats) => post('/api/holds', { event_id: eventId, seats }, { headers: idem() });
/** Holds the best `quantity` of a tier. */
export const holdBest = (eventId, tierId, quantity) => post('/api/holds', { event_id: eventId, tier_id: tierId, quantity }, { headers: idem() });
export const getHold = (id) => get(`/api/holds/${encodeURIComponent(id)}`);
export const releaseHold = (id) => del(`/api/holds/${encodeURIComponent(id)}`);

/** Turns a hold into a booking (`pending_payment`). */
export const book = (body, key) => post('/api/bookings', body, { headers: { 'idempotency-key': key } });
export const getBooking = (id) => get(`/api/bookings/${encodeURIComponent(id)}`);
export const myBookings = (cursor) => get('/api/bookings', { cursor, limit: 20 });
export const cancelBooking = (id) => post(`/api/bookings/${encodeURIComponent(id)}/cancel`, {});
/** Gives up an unpaid booking on the payment step: cancelled, places released, nothing charged (409 `booking-paid` if it was paid meanwhile). */
export const abandonBooking = (id) => post(`/api/bookings/${encodeURIComponent(id)}/abandon`, {});

/** Pays a booking: `{method, card:{number, exp_month, exp_year, cvc, name}}`. */
export const getPayment = (bookingId) => get(`/api/payments/${encodeURIComponent(bookingId)}`);
export const pay = (bookingId, body, key) => post(`/api/payments/${encodeURIComponent(bookingId)}/pay`, body, { headers: { 'idempotency-key': key } });

export const myTickets = (cursor, filter = {}) => get('/api/tickets', { cursor, limit: 50, ...filter });
export const getTicket = (id) => get(`/api/tickets/${encodeURIComponent(id)}`);
/** The ticket's QR code as SVG text. */
export async function ticketQr(id) {
  const r = await api(`/api/tickets/${encodeURIComponent(id)}/qr.svg`, { raw: true, headers: { accept: 'image/svg+xml' } });
  return r.text();
}
/** Downloads the ticket's `.ics` with the bearer token and saves it. */
export async function downloadIcs(id, name) {
  const r = await api(`/api/tickets/${encodeURIComponent(id)}.ics`, { raw: true, headers: { accept: 'text/calendar' } });
  const blob = await r.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${name || id}.ics`;
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}
export const checkIn = (body) => post('/api/tickets/check-in', body);
