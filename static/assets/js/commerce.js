// Every call the buying journey makes to the booking, payments and tickets
// components, in one place (their contracts: DESIGN §2, issues 5–7).
import { get, post, del, api, idem } from './api.js';

/**
 * Live seat status of an event: `{seats: {seat_id: "held"|"sold"}, tiers: {tier_id: remaining},
 * tierInfo: {tier_id: {capacity, sold, held, available}}}`
 * normalised from the booking component's availability answer.
 */
export async function availability(eventId) {
  const r = await get(`/api/holds/availability/${encodeURIComponent(eventId)}`);
  return normaliseAvailability(r);
}

export function normaliseAvailability(r) {
  const seats = {};
  const tiers = {};
  const tierInfo = {};
  if (!r || typeof r !== 'object') return { seats, tiers, tierInfo };
  const s = r.seats;
  if (Array.isArray(s)) {
    for (const x of s) if (x && x.id && x.status && x.status !== 'available') seats[x.id] = x.status;
  } else if (s && typeof s === 'object') {
    for (const [id, st] of Object.entries(s)) if (st !== 'available') seats[id] = st;
  }
  for (const key of ['held', 'sold']) {
    if (Array.isArray(r[key])) for (const id of r[key]) seats[id] = key;
  }
  const t = r.tiers;
  if (Array.isArray(t)) {
    for (const x of t) {
      if (!x || !(x.id || x.tier_id)) continue;
      tiers[x.id || x.tier_id] = x.remaining ?? x.available ?? null;
      tierInfo[x.id || x.tier_id] = x;
    }
  } else if (t && typeof t === 'object') {
    for (const [id, v] of Object.entries(t)) tiers[id] = typeof v === 'number' ? v : (v && (v.remaining ?? v.available));
  }
  return { seats, tiers, tierInfo };
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
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
export const checkIn = (body) => post('/api/tickets/check-in', body);
