// Small DOM and formatting helpers shared by every page. Text always goes in
// as text nodes, never as HTML.
import { icon } from './icons.js';
import { fieldLabel, fieldSentence } from './errors.js';

/** `h('a.btn.primary', {href}, 'text', child, ...)` → element. */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = name === 'svg' || SVG_TAGS.has(name) ? document.createElementNS('http://www.w3.org/2000/svg', name) : document.createElement(name || 'div');
  if (classes.length) el.setAttribute('class', classes.join(' '));
  if (attrs !== undefined && attrs !== null && attrs !== false && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', [el.getAttribute('class'), v].filter(Boolean).join(' '));
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') {
      el[k] = !!v;
      if (v) el.setAttribute(k, '');
    } else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

const SVG_TAGS = new Set(['g', 'circle', 'rect', 'path', 'text', 'title', 'line', 'polyline', 'defs', 'use', 'symbol']);

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ---- formatting -----------------------------------------------------------

/** `{amount_minor, currency}` or (minor, currency) → "£45.00". */
export function money(amount, currency) {
  if (amount && typeof amount === 'object') {
    currency = amount.currency;
    amount = amount.amount_minor;
  }
  if (amount === null || amount === undefined) return '';
  const cur = currency || 'USD';
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency: cur }).resolvedOptions().maximumFractionDigits;
  } catch {
    /* unknown code */
  }
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: cur }).format(amount / 10 ** digits);
  } catch {
    return `${(amount / 100).toFixed(2)} ${cur}`;
  }
}

/** Date and time of `iso` as seen in `timeZone` (the venue's), e.g. "Sat 4 Jul 2026, 20:00 EDT". */
export function when(iso, timeZone, opts = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  const base = opts.dateOnly
    ? { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }
    : { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
  try {
    return new Intl.DateTimeFormat(undefined, { ...base, timeZone: timeZone || undefined }).format(d);
  } catch {
    return new Intl.DateTimeFormat(undefined, base).format(d);
  }
}

/** Parts for a date badge: {month:"JUL", day:"4"} in the venue zone. */
export function dateBadge(iso, timeZone) {
  const d = new Date(iso);
  const f = (o) => {
    try {
      return new Intl.DateTimeFormat('en', { ...o, timeZone }).format(d);
    } catch {
      return new Intl.DateTimeFormat('en', o).format(d);
    }
  };
  return { month: f({ month: 'short' }).toUpperCase(), day: f({ day: 'numeric' }), weekday: f({ weekday: 'short' }) };
}

export function relative(iso) {
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export const CATEGORIES = [
  ['concert', 'Concerts'],
  ['live_music', 'Live music'],
  ['sports', 'Sports'],
  ['film', 'Film'],
  ['theatre', 'Theatre'],
  ['comedy', 'Comedy'],
  ['festival', 'Festivals'],
  ['other', 'More'],
];
export const categoryName = (c) => (CATEGORIES.find((x) => x[0] === c) || [c, c || 'Event'])[1];

// ---- feedback -------------------------------------------------------------

/** A short message in the corner (role=status). */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div.toast', { class: kind, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(t);
  setTimeout(() => t.classList.add('out'), 4200);
  setTimeout(() => t.remove(), 4800);
}

/** An inline error box for `err` (ApiError or any Error). */
export function errorBox(err, retry) {
  return h(
    'div.alert.error',
    { role: 'alert' },
    h(
      'strong',
      err && err.status === 0
        ? 'Connection problem'
        : err && (err.status === 422 || err.status === 400)
          ? 'Please check the details'
          : err && err.status === 409
            ? 'That did not work'
            : 'Something went wrong',
    ),
    h('p', err?.message || String(err)),
    retry ? h('button.btn.small', { type: 'button', onclick: retry }, 'Try again') : null,
  );
}

export function loading(label = 'Loading…') {
  return h('div.loading', { role: 'status', 'aria-live': 'polite' }, h('span.spinner', { 'aria-hidden': 'true' }), label);
}

export function empty(title, text, action) {
  return h('div.empty', h('div.empty-icon', icon('ticket', 44)), h('h3', title), text ? h('p', text) : null, action || null);
}

/**
 * Shows field errors of an ApiError next to the inputs of `form` and a summary at the top. An error finds its
 * input by `name` (the API's field path), by an input's `data-fields` (space-separated paths it stands for, as
 * the one expiry box stands for `card/exp_month card/exp_year`), then by the path's last segment. An input marked
 * `data-falls-back` that was left empty is not marked: the API judged the value it falls back to (an attendee
 * name left empty is the buyer's). Each message is a sentence (`fieldSentence`). Returns true if any field matched.
 */
export function showFormError(form, err) {
  for (const e of form.querySelectorAll('.field-error')) e.remove();
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  let box = form.querySelector('.form-alert');
  if (!box) {
    box = h('div.form-alert');
    form.prepend(box);
  }
  let matched = false;
  const summary = [];
  const byFields = (field) => [...form.querySelectorAll('[data-fields]')].find((i) => i.dataset.fields.split(' ').includes(field));
  for (const [field, msg] of Object.entries(err?.fields || {})) {
    const input =
      form.querySelector(`[name="${CSS.escape(field)}"]`) || byFields(field) || form.querySelector(`[name="${CSS.escape(field.split('/').pop())}"]`);
    if (input?.hasAttribute('data-falls-back') && !input.value.trim()) continue;
    const sentence = fieldSentence(msg, input ? input.value.trim() : undefined);
    const id = input && `${input.id || input.name}-err`;
    // one sentence per input (month and year share the expiry box)
    if (!input || !document.getElementById(id)) summary.push(`${fieldLabel(field)}: ${sentence}`);
    if (!input || document.getElementById(id)) continue;
    matched = true;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    (input.closest('label') || input).after(h('p.field-error', { id }, sentence));
  }
  // the summary names what is marked below it (and what has no box of its own), in the same sentences
  mount(box, err ? errorBox(summary.length ? { status: err.status, message: summary.join(' ') } : err) : null);
  if (err) box.scrollIntoView({ block: 'nearest' });
  return matched;
}

/** A labelled form input. */
export function field(label, attrs = {}, hint) {
  const id = attrs.id || `f-${attrs.name}-${Math.random().toString(36).slice(2, 7)}`;
  const input =
    attrs.tag === 'select'
      ? h(
          'select',
          { ...attrs, tag: null, options: null, id },
          (attrs.options || []).map(([v, t]) => h('option', { value: v, selected: String(attrs.value) === String(v) }, t)),
        )
      : attrs.tag === 'textarea'
        ? h('textarea', { ...attrs, tag: null, id })
        : h('input', { type: 'text', ...attrs, id });
  if (hint) input.setAttribute('aria-describedby', `${id}-hint`);
  return h('div.field', h('label.label', { for: id }, label), input, hint ? h('small.hint', { id: `${id}-hint` }, hint) : null);
}

/** Disables a button while `fn` runs. */
export async function busy(button, fn, text) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (text) button.textContent = text;
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = old;
  }
}

/**
 * Fills the pager `box` with a `label` button that loads the page after
 * `cursor` (`load(cursor)`; a failure shows in the box), or empties it when
 * there is no next page.
 */
export function moreButton(box, cursor, load, label) {
  mount(
    box,
    cursor
      ? h('button.btn', { type: 'button', onclick: (e) => busy(e.currentTarget, () => load(cursor).catch((err) => mount(box, errorBox(err)))) }, label)
      : null,
  );
}

export function setTitle(t) {
  document.title = t ? `${t} — Boxoffice` : 'Boxoffice — tickets for concerts, sports, films and more';
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}
