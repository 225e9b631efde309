// Interactive SVG seat map.
//
// Seats come from booking's seat layout document of the event version
// (`{id, section, row, number, position, x, y, tier_id, accessible}` after
// commerce.js layoutSeats); their live status (held / sold) from booking's
// status document (commerce.js seatStates), polled with If-None-Match. Mouse: click to pick, wheel or buttons to zoom, drag to
// pan. Keyboard: the map is one tab stop (role=listbox, aria-activedescendant);
// arrows move between seats, Home/End jump to the row's ends, Space or Enter
// picks, +/- zoom. Every seat has a spoken label with its tier, price and status.

import { h, money } from './ui.js';

export const PALETTE = ['#6c4cf5', '#0ea5a4', '#e8590c', '#2563eb', '#c026d3', '#16a34a', '#b45309', '#db2777'];
const R = 4.2;

export class SeatMap {
  /**
   * @param {object[]} seats inventory seats
   * @param {Map<string, object>} tiers tier id → tier (with `color`)
   * @param {(id: string) => void} onToggle
   * @param {(id: string, state: string) => void} [onTaken] a click or Space on a held or sold seat (`state`)
   * @param {string} [stageLabel] what the seats face, as the venue names it (`Stage`, `Screen`)
   */
  constructor(seats, tiers, onToggle, onTaken = () => {}, stageLabel = 'Stage') {
    this.stageLabel = stageLabel || 'Stage';
    this.seats = seats;
    this.tiers = tiers;
    this.onToggle = onToggle;
    this.onTaken = onTaken;
    this.tipSeat = null;
    this.byId = new Map(seats.map((s) => [s.id, s]));
    this.status = {};
    this.mine = new Set();
    this.yours = new Set();
    this.els = new Map();
    this.active = null;
    this.rows = new Map();
    for (const s of seats) {
      const k = `${s.section}|${s.row}`;
      if (!this.rows.has(k)) this.rows.set(k, []);
      this.rows.get(k).push(s);
    }
    for (const r of this.rows.values()) r.sort((a, b) => a.position - b.position || a.x - b.x);
    this.build();
  }

  build() {
    const xs = this.seats.map((s) => s.x);
    const ys = this.seats.map((s) => s.y);
    const minX = Math.min(...xs) - 20;
    const maxX = Math.max(...xs) + 20;
    const minY = Math.min(...ys) - 45;
    const maxY = Math.max(...ys) + 20;
    this.full = { x: minX, y: minY, w: Math.max(60, maxX - minX), h: Math.max(60, maxY - minY) };
    this.view = { ...this.full };
    const svg = h('svg.seatmap', {
      viewBox: this.box(),
      role: 'listbox',
      'aria-multiselectable': 'true',
      tabindex: '0',
      'aria-label': `Seat map, ${this.seats.length} seats. Use the arrow keys to move between seats and Space to pick one.`,
      preserveAspectRatio: 'xMidYMid meet',
      style: `aspect-ratio: ${this.full.w} / ${this.full.h}`,
    });
    const stageW = Math.min(this.full.w * 0.5, 400);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    svg.append(
      h(
        'g',
        { 'aria-hidden': 'true' },
        h('rect.stage', { x: cx - stageW / 2, y: minY + 5, width: stageW, height: 16, rx: 5 }),
        h('text.stage-label', { x: cx, y: minY + 16.5, 'text-anchor': 'middle' }, this.stageLabel.toUpperCase()),
      ),
    );
    // section labels at the top-left of each section
    const secs = new Map();
    for (const s of this.seats) {
      const b = secs.get(s.section) || { x: Infinity, y: Infinity };
      b.x = Math.min(b.x, s.x);
      b.y = Math.min(b.y, s.y);
      secs.set(s.section, b);
    }
    const labels = h('g', { 'aria-hidden': 'true' });
    for (const [code, b] of secs) labels.append(h('text.sec-label', { x: b.x - R, y: b.y - 7 }, code));
    svg.append(labels);
    const frag = document.createDocumentFragment();
    for (const s of this.seats) {
      const tier = this.tiers.get(s.tier_id);
      const c = document.createElementNS('http://www.w3.org/2000/svg', 'circle');
      c.setAttribute('class', 'seat');
      c.setAttribute('id', `seat-${s.id}`);
      c.setAttribute('cx', s.x);
      c.setAttribute('cy', s.y);
      c.setAttribute('r', R);
      c.setAttribute('fill', tier ? tier.color : '#999');
      c.setAttribute('role', 'option');
      c.setAttribute('aria-selected', 'false');
      c.dataset.seat = s.id;
      this.els.set(s.id, c);
      this.label(s);
      frag.append(c);
    }
    const g = h('g');
    g.append(frag);
    svg.append(g);
    this.svg = svg;
    this.tip = h('div.seat-tip', { hidden: true, 'aria-hidden': 'true' });
    const zoom = (f) => this.zoom(f);
    this.el = h(
      'div.seatmap-wrap',
      svg,
      this.tip,
      h(
        'div.map-tools',
        h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => zoom(0.7) }, '+'),
        h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => zoom(1 / 0.7) }, '−'),
        h('button', { type: 'button', 'aria-label': 'Show the whole map', onclick: () => this.reset() }, '⤢'),
      ),
    );
    this.wire();
  }

  box() {
    const v = this.view;
    return `${v.x} ${v.y} ${v.w} ${v.h}`;
  }

  describe(s) {
    const tier = this.tiers.get(s.tier_id);
    const st = this.mine.has(s.id)
      ? 'selected'
      : this.yours.has(s.id)
        ? 'held by you'
        : this.status[s.id] === 'sold'
          ? 'sold'
          : this.status[s.id]
            ? 'unavailable (held)'
            : 'available';
    return `Section ${s.section}, row ${s.row}, seat ${s.number}${s.accessible ? ', wheelchair accessible' : ''}${tier ? `, ${tier.name} ${money(tier.price_minor, tier.currency)}` : ''}, ${st}`;
  }

  label(s) {
    const c = this.els.get(s.id);
    c.setAttribute('aria-label', this.describe(s));
    c.setAttribute('aria-selected', String(this.mine.has(s.id)));
    if (this.status[s.id] && !this.mine.has(s.id)) c.setAttribute('aria-disabled', 'true');
    else c.removeAttribute('aria-disabled');
  }

  /** Applies live statuses `{seat_id: "held"|"sold"}`; returns ids of picked seats that were taken meanwhile. */
  setStatus(status) {
    const changed = new Set([...Object.keys(this.status), ...Object.keys(status)]);
    this.status = status;
    const lost = [];
    for (const id of changed) {
      const c = this.els.get(id);
      const s = this.byId.get(id);
      if (!c || !s) continue;
      c.classList.toggle('held', status[id] === 'held' && !this.mine.has(id) && !this.yours.has(id));
      c.classList.toggle('sold', status[id] === 'sold' && !this.mine.has(id));
      if (this.mine.has(id) && status[id]) lost.push(id);
      this.label(s);
    }
    return lost;
  }

  available(id) {
    return !this.status[id];
  }

  /**
   * Replaces the seat set `kind` (`mine` or `yours`) with `ids` and redraws
   * the seats that joined or left it: class `kind`, their label and, for the
   * buyer's own hold, whether they show as held by someone else.
   */
  mark(kind, ids) {
    const changed = new Set([...this[kind], ...ids]);
    this[kind] = new Set(ids);
    for (const id of changed) {
      const c = this.els.get(id);
      if (!c) continue;
      c.classList.toggle(kind, this[kind].has(id));
      if (kind === 'yours') c.classList.toggle('held', this.status[id] === 'held' && !this.mine.has(id) && !this.yours.has(id));
      this.label(this.byId.get(id));
    }
  }

  /** Marks the picked seats. */
  setMine(ids) {
    this.mark('mine', ids);
    // the tooltip of the seat under the pointer follows what was just picked
    if (this.tipSeat && !this.tip.hidden) this.tip.textContent = this.describe(this.byId.get(this.tipSeat));
  }

  /** Marks the seats of the buyer's own live hold (`ids`): shown as theirs, not as taken. */
  setYours(ids) {
    this.mark('yours', ids);
  }

  /** Picks or drops seat `id`, or says why it cannot be picked. */
  choose(id) {
    if (this.available(id) || this.mine.has(id)) this.onToggle(id);
    else this.onTaken(id, this.status[id]);
  }

  /** Shows the tooltip of seat `id` at the pointer, inside the map's box (flipped below the pointer near the top). */
  showTip(id, e) {
    const r = this.el.getBoundingClientRect();
    this.tipSeat = id;
    this.tip.textContent = this.describe(this.byId.get(id));
    this.tip.hidden = false;
    const half = this.tip.offsetWidth / 2;
    const x = Math.min(Math.max(e.clientX - r.left, half + 4), Math.max(half + 4, r.width - half - 4));
    const y = e.clientY - r.top;
    this.tip.classList.toggle('below', y < this.tip.offsetHeight + 12);
    this.tip.style.left = `${x}px`;
    this.tip.style.top = `${y}px`;
  }

  zoom(f, cx, cy) {
    const v = this.view;
    const nw = Math.min(this.full.w * 1.5, Math.max(60, v.w * f));
    const nh = nw * (v.h / v.w);
    const px = cx === undefined ? v.x + v.w / 2 : cx;
    const py = cy === undefined ? v.y + v.h / 2 : cy;
    this.view = { x: px - (px - v.x) * (nw / v.w), y: py - (py - v.y) * (nh / v.h), w: nw, h: nh };
    this.svg.setAttribute('viewBox', this.box());
  }

  reset() {
    this.view = { ...this.full };
    this.svg.setAttribute('viewBox', this.box());
  }

  toSvg(e) {
    const p = this.svg.createSVGPoint();
    p.x = e.clientX;
    p.y = e.clientY;
    const m = this.svg.getScreenCTM();
    return m ? p.matrixTransform(m.inverse()) : { x: 0, y: 0 };
  }

  setActive(id, scroll) {
    if (this.active) this.els.get(this.active)?.classList.remove('active');
    this.active = id;
    const c = this.els.get(id);
    if (!c) return;
    c.classList.add('active');
    this.svg.setAttribute('aria-activedescendant', c.id);
    if (scroll) {
      const s = this.byId.get(id);
      const v = this.view;
      if (s.x < v.x || s.x > v.x + v.w || s.y < v.y || s.y > v.y + v.h) {
        this.view = { ...v, x: s.x - v.w / 2, y: s.y - v.h / 2 };
        this.svg.setAttribute('viewBox', this.box());
      }
    }
  }

  move(key) {
    const cur = this.byId.get(this.active) || this.seats[0];
    if (!this.active) return this.setActive(cur.id, true);
    const row = this.rows.get(`${cur.section}|${cur.row}`);
    const i = row.indexOf(cur);
    let next = null;
    if (key === 'ArrowRight') next = row[i + 1];
    else if (key === 'ArrowLeft') next = row[i - 1];
    else if (key === 'Home') next = row[0];
    else if (key === 'End') next = row[row.length - 1];
    else {
      const dir = key === 'ArrowDown' ? 1 : -1;
      let best = null;
      let bestScore = Infinity;
      for (const s of this.seats) {
        const dy = (s.y - cur.y) * dir;
        if (dy <= 0.5) continue;
        const score = dy * 4 + Math.abs(s.x - cur.x);
        if (score < bestScore) {
          bestScore = score;
          best = s;
        }
      }
      next = best;
    }
    if (next) this.setActive(next.id, true);
  }

  wire() {
    const svg = this.svg;
    let drag = null;
    svg.addEventListener('click', (e) => {
      if (drag?.moved) return;
      const id = e.target?.dataset?.seat;
      if (!id) return;
      this.setActive(id, false);
      this.choose(id);
    });
    svg.addEventListener('keydown', (e) => {
      if (['ArrowRight', 'ArrowLeft', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key)) {
        e.preventDefault();
        this.move(e.key);
      } else if ((e.key === ' ' || e.key === 'Enter') && this.active) {
        e.preventDefault();
        this.choose(this.active);
      } else if (e.key === '+' || e.key === '=') {
        e.preventDefault();
        this.zoom(0.7);
      } else if (e.key === '-') {
        e.preventDefault();
        this.zoom(1 / 0.7);
      }
    });
    svg.addEventListener('focus', () => {
      if (!this.active) this.setActive((this.seats.find((s) => this.available(s.id)) || this.seats[0]).id, true);
    });
    svg.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const p = this.toSvg(e);
        this.zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
      },
      { passive: false },
    );
    svg.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, v: { ...this.view }, moved: false };
    });
    svg.addEventListener('pointermove', (e) => {
      const id = e.target?.dataset?.seat;
      if (id && !drag) this.showTip(id, e);
      else this.tip.hidden = true;
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (!drag.moved) return;
      const scale = this.view.w / svg.getBoundingClientRect().width;
      this.view = { ...drag.v, x: drag.v.x - dx * scale, y: drag.v.y - dy * scale };
      svg.setAttribute('viewBox', this.box());
    });
    const end = () => {
      setTimeout(() => {
        drag = null;
      }, 0);
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointerleave', () => {
      this.tip.hidden = true;
      end();
    });
  }
}
