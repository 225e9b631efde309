// The HTTP client of the site: bearer tokens (RFC 6749 token responses from
// /api/auth), one refresh on 401, and problem+json (RFC 9457) errors turned
// into ApiError with a readable message.

import { fieldLabel, fieldSentence } from './errors.js';

const KEY = 'boxoffice.session';

/**
 * An API failure: `status`, `problem` (the problem+json body when there is one), readable `message`,
 * and `retryAfter` (seconds, from a 429's or 503's Retry-After header; null when absent).
 */
export class ApiError extends Error {
  constructor(status, problem, fallback, retryAfter = null) {
    super(readable(status, problem, fallback));
    this.status = status;
    this.problem = problem || null;
    this.type = problem?.type ? String(problem.type) : '';
    this.fields = fieldErrors(problem);
    this.retryAfter = retryAfter;
  }
}

const FRIENDLY = {
  400: 'The request was not understood.',
  401: 'Please sign in to continue.',
  403: "You don't have access to this.",
  404: 'We could not find that.',
  409: 'That conflicts with something that just changed. Please try again.',
  410: 'That is no longer available.',
  422: 'Some details need fixing.',
  429: 'Too many attempts — please wait a moment and try again.',
  502: 'A provider did not answer properly. Please try again.',
  503: 'The service is busy. Please try again in a moment.',
};

function fieldErrors(problem) {
  const out = {};
  if (problem && Array.isArray(problem.errors)) {
    for (const e of problem.errors) {
      if (e?.field) out[e.field] = e.message || 'is not valid';
    }
  }
  return out;
}

function readable(status, problem, fallback) {
  if (problem && typeof problem === 'object') {
    const parts = [];
    const hasFields = Array.isArray(problem.errors) && problem.errors.length > 0;
    // with field errors the generic "N field(s) are invalid" adds nothing
    if (problem.detail && !(hasFields && /field\(s\)|invalid/i.test(problem.detail))) parts.push(String(problem.detail));
    else if (problem.title && !hasFields) parts.push(String(problem.title));
    if (hasFields) {
      parts.push(problem.errors.map((e) => `${fieldLabel(e.field)}: ${fieldSentence(e.message)}`).join(' '));
    }
    if (parts.length) {
      let m = parts.join(' — ');
      m = m.charAt(0).toUpperCase() + m.slice(1);
      return /[.!?]$/.test(m) ? m : `${m}.`;
    }
  }
  if (status === 0) return fallback || 'Could not reach Boxoffice. Check your connection and try again.';
  return FRIENDLY[status] || fallback || `Something went wrong (HTTP ${status}).`;
}

// ---- session ------------------------------------------------------------

let session = load();
const listeners = new Set();

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

/** The signed-in user `{id, email, role, email_verified}` or null. */
export function currentUser() {
  return session ? session.user : null;
}

/** Calls `fn(user)` whenever the session changes. */
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Stores a token response (`access_token`, `expires_in`, `user`). The
 * refresh token is NOT kept here: auth hands it to the browser as an
 * HttpOnly, Secure, SameSite=Strict cookie scoped to /api/auth, which no
 * script can read, and refresh/logout send it from there.
 */
export function setSession(tokens) {
  session = tokens
    ? {
        access: tokens.access_token,
        expires: Date.now() + (Number(tokens.expires_in) || 900) * 1000,
        user: tokens.user || session?.user || null,
      }
    : null;
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  for (const fn of listeners) fn(currentUser());
}

let refreshing = null;
async function refresh() {
  if (!session) return false;
  if (!refreshing) {
    const before = session.access;
    // A session stored before the cookie existed still holds its refresh
    // token: send it once; setSession keeps none from then on.
    const legacy = session.refresh ? { refresh_token: session.refresh } : {};
    refreshing = fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(legacy),
    })
      .then(async (r) => {
        if (r.ok) {
          setSession(await r.json());
          return true;
        }
        // Another tab may have rotated the cookie already: pick up its session.
        const again = load();
        if (again && again.access !== before) {
          session = again;
          return true;
        }
        setSession(null);
        return false;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// ---- requests -----------------------------------------------------------

/** Milliseconds the server clock is ahead of ours (from the last `Date` header). */
export let clockSkew = 0;

/**
 * `api(path, {method, body, query, headers, raw, auth})` → parsed JSON (or
 * the Response when `raw`). Throws ApiError with a readable message.
 */
export async function api(path, opts = {}) {
  const url = new URL(path, location.origin);
  if (opts.query) {
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
    }
  }
  const send = async () => {
    const headers = { accept: 'application/json, application/problem+json', ...(opts.headers || {}) };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (session?.access && opts.auth !== false) headers.authorization = `Bearer ${session.access}`;
    return fetch(url, { method: opts.method || 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
  };
  let res;
  try {
    if (session && session.expires - Date.now() < 30000 && opts.auth !== false) await refresh();
    res = await send();
    if (res.status === 401 && session && opts.auth !== false && (await refresh())) res = await send();
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  const date = res.headers.get('date');
  if (date) {
    const t = Date.parse(date);
    if (!Number.isNaN(t)) clockSkew = t - Date.now();
  }
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const wait = Number.parseInt(res.headers.get('retry-after') || '', 10);
    throw new ApiError(res.status, typeof data === 'object' ? data : null, undefined, Number.isFinite(wait) ? wait : null);
  }
  return data;
}

export const get = (path, query, opts = {}) => api(path, { ...opts, query });
export const post = (path, body, opts = {}) => api(path, { ...opts, method: 'POST', body: body === undefined ? {} : body });
export const patch = (path, body, opts = {}) => api(path, { ...opts, method: 'PATCH', body });
export const put = (path, body, opts = {}) => api(path, { ...opts, method: 'PUT', body });
export const del = (path, opts = {}) => api(path, { ...opts, method: 'DELETE' });

/** A fresh Idempotency-Key header for one user action. */
export function idem() {
  return { 'idempotency-key': crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now() };
}

// ---- auth ---------------------------------------------------------------

export async function login(email, password) {
  setSession(await post('/api/auth/login', { email, password }, { auth: false }));
  return currentUser();
}

export async function register(email, password) {
  setSession(await post('/api/auth/register', { email, password }, { auth: false }));
  return currentUser();
}

export async function logout() {
  const s = session;
  setSession(null);
  if (s) {
    // the refresh cookie goes along (and is cleared by the answer)
    try {
      await post('/api/auth/logout', s.refresh ? { refresh_token: s.refresh } : {}, { auth: false });
    } catch {
      /* signed out locally anyway */
    }
  }
}

/**
 * Re-reads the role (an admin may have changed it) and whether the e-mail
 * address is confirmed (the link may have been opened elsewhere) from the server.
 */
export async function syncSession() {
  if (!session) return null;
  try {
    const s = await get('/api/auth/session');
    if (!s || !session.user) return currentUser();
    const roleChanged = s.role && s.role !== session.user.role;
    const verifiedChanged = typeof s.email_verified === 'boolean' && s.email_verified !== session.user.email_verified;
    // a new access token is needed for the new role
    if (roleChanged) await refresh();
    if (roleChanged || verifiedChanged) {
      session.user = { ...session.user, role: s.role || session.user.role, email_verified: s.email_verified };
      localStorage.setItem(KEY, JSON.stringify(session));
      for (const fn of listeners) fn(currentUser());
    }
  } catch {
    /* offline or signed out */
  }
  return currentUser();
}
