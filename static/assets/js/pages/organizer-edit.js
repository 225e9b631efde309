import { get, post, patch } from '../api.js';
import { h, mount, setTitle, loading, field, showFormError, busy, toast, CATEGORIES, money } from '../ui.js';
import { go, signInFirst } from '../app.js';

/** The organizer's own venues, newest first (GET /api/venues?mine=true, first page). */
const myVenues = async () => {
  try {
    return (await get('/api/venues', { mine: 'true', limit: 30 })).items;
  } catch {
    return [];
  }
};
const rowLabel = (i) => (i < 26 ? String.fromCharCode(65 + i) : `${String.fromCharCode(65 + Math.floor(i / 26) - 1)}${String.fromCharCode(65 + (i % 26))}`);
const localInput = (local) => (local ? local.slice(0, 16) : '');
const minor = (v) => Math.round(Number(v) * 100);

/** One tier row of the form. */
function tierRow(t = {}, sections = []) {
  const row = h(
    'div.tier-row',
    { 'data-tier-id': t.id || '' },
    field('Tier name', { name: 'tier_name', value: t.name || '', required: true, placeholder: 'Standard' }),
    field('Price', {
      name: 'tier_price',
      type: 'number',
      min: 0,
      step: '0.01',
      value: t.price_minor != null ? (t.price_minor / 100).toFixed(2) : '',
      required: true,
    }),
    field('Kind', {
      tag: 'select',
      name: 'tier_kind',
      value: t.kind || (sections.length ? 'seated' : 'general_admission'),
      options: [
        ['seated', 'Reserved seats'],
        ['general_admission', 'General admission'],
      ],
    }),
    field('Capacity (GA)', { name: 'tier_capacity', type: 'number', min: 1, value: t.kind === 'general_admission' ? t.capacity : '' }),
    field('Sections (seated)', { name: 'tier_sections', value: (t.sections || []).join(', '), placeholder: sections.join(', ') || 'S1, S2' }),
    h('button.btn.small.danger', { type: 'button', 'aria-label': 'Remove tier', onclick: () => row.remove() }, '✕'),
  );
  return row;
}

function sectionRow(s = {}) {
  const row = h(
    'div.tier-row',
    { style: 'grid-template-columns:1fr 2fr 1fr 1fr auto' },
    field('Code', { name: 'sec_code', value: s.code || '', placeholder: 'S1', required: true }),
    field('Name', { name: 'sec_name', value: s.name || '', placeholder: 'Stalls' }),
    field('Rows', { name: 'sec_rows', type: 'number', min: 1, max: 200, value: s.rows || 10 }),
    field('Seats per row', { name: 'sec_seats', type: 'number', min: 1, max: 500, value: s.seats || 20 }),
    h('button.btn.small.danger', { type: 'button', 'aria-label': 'Remove section', onclick: () => row.remove() }, '✕'),
  );
  return row;
}

export async function render(main, [id]) {
  if (signInFirst()) return;
  const isNew = id === 'new';
  setTitle(isNew ? 'New event' : 'Edit event');
  mount(main, loading());
  const ev = isNew ? null : await get(`/api/events/${encodeURIComponent(id)}`, { seat_map: 'false' });
  const venues = isNew ? await myVenues() : [];
  main.replaceChildren();
  const venueSections = [];

  // ---- venue ----
  const venueMode = h(
    'select',
    { name: 'venue_mode', id: 'venue-mode', disabled: !isNew },
    // an event's venue is fixed once it exists: the box names it instead of offering a new one
    isNew ? h('option', { value: 'new' }, 'A new venue') : h('option', { value: 'fixed', selected: true }, `${ev.venue.name} — ${ev.venue.city}`),
    ...venues.map((v) => h('option', { value: v.id }, `${v.name} — ${v.city}`)),
    isNew ? h('option', { value: 'id' }, 'Venue by id…') : null,
  );
  const venueId = field('Venue id', { name: 'venue_id', placeholder: 'ven_…', value: ev ? ev.venue.id : '' });
  const sections = h('div.tier-rows', sectionRow({ code: 'S1', name: 'Stalls', rows: 8, seats: 16 }));
  const layout = h(
    'select',
    { name: 'layout', id: 'layout' },
    h('option', { value: 'seated' }, 'Reserved seating (seat map)'),
    h('option', { value: 'ga' }, 'General admission only'),
  );
  const seatBox = h(
    'div.stack',
    h('div.tier-rows', sections),
    h('button.btn.small', { type: 'button', onclick: () => sections.append(sectionRow({ code: `S${sections.children.length + 1}` })) }, '+ Add section'),
  );
  const gaBox = h('div.stack', { hidden: true }, field('Standing capacity', { name: 'ga_capacity', type: 'number', min: 1, value: 500 }));
  layout.addEventListener('change', () => {
    seatBox.hidden = layout.value !== 'seated';
    gaBox.hidden = layout.value === 'seated';
  });
  const newVenue = h(
    'div.stack',
    { id: 'new-venue' },
    h(
      'div.form-grid',
      field('Venue name', { name: 'v_name', required: true, placeholder: 'The Roundhouse' }),
      field('Address', { name: 'v_address', placeholder: 'Chalk Farm Rd' }),
      field('City', { name: 'v_city', required: true, placeholder: 'London' }),
      field('Country (2 letters)', { name: 'v_country', required: true, maxlength: 2, placeholder: 'GB' }),
      field('Time zone', {
        tag: 'select',
        name: 'v_timezone',
        value: Intl.DateTimeFormat().resolvedOptions().timeZone,
        options: (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC']).map((z) => [z, z.replace(/_/g, ' ')]),
      }),
    ),
    h('label.field', { for: 'layout' }, h('span.label', 'Layout'), layout),
    field('The seats face', { name: 'v_stage', maxlength: 40, placeholder: 'Stage' }, 'What the seat map shows at the front: Stage, Screen, Pitch…'),
    seatBox,
    gaBox,
  );
  const syncVenue = () => {
    newVenue.hidden = venueMode.value !== 'new';
    venueId.hidden = venueMode.value !== 'id';
  };
  venueMode.addEventListener('change', syncVenue);

  // ---- tiers ----
  const tiers = h('div.tier-rows', { id: 'tiers' });
  for (const t of ev ? ev.tiers : []) tiers.append(tierRow(t));
  if (!ev) tiers.append(tierRow({ name: 'Standard', price_minor: 4500, kind: 'seated', sections: ['S1'] }));

  const saveBtn = h('button.btn.primary.big', { type: 'submit', id: 'save-event' }, isNew ? 'Save draft' : 'Save changes');
  const publishBtn =
    ev && ev.status === 'draft'
      ? h(
          'button.btn.big',
          {
            type: 'button',
            id: 'publish-event',
            onclick: () =>
              busy(
                publishBtn,
                async () => {
                  try {
                    await post(`/api/events/${ev.id}/publish`, {});
                    toast('Published — your event is on sale.', 'ok');
                    go('/organizer');
                  } catch (err) {
                    showFormError(form, err);
                  }
                },
                'Publishing…',
              ),
          },
          'Publish',
        )
      : null;

  const form = h(
    'form.stack',
    {
      id: 'event-form',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        busy(saveBtn, save, 'Saving…');
      },
    },
    h('div.spread', h('h1', isNew ? 'New event' : `Edit: ${ev.title}`), ev ? h('span.pill', ev.status) : null),
    h(
      'fieldset',
      h('legend', 'The event'),
      h(
        'div.form-grid',
        field('Title', { name: 'title', required: true, value: ev ? ev.title : '', maxlength: 200 }),
        field('Category', { tag: 'select', name: 'category', value: ev ? ev.category : 'concert', options: CATEGORIES.map(([c, n]) => [c, n]) }),
        field('Performers (comma separated)', { name: 'performers', value: ev ? ev.performers.join(', ') : '' }),
        field('Image URL', { name: 'image_url', type: 'url', value: ev?.image_url ? ev.image_url : '', placeholder: 'https://…' }),
      ),
      field('Description', { tag: 'textarea', name: 'description', rows: 4, value: ev ? ev.description : '' }),
    ),
    h(
      'fieldset',
      h('legend', 'Venue'),
      h('label.field', { for: 'venue-mode' }, h('span.label', 'Where'), venueMode),
      venueId,
      isNew ? newVenue : h('p.muted', `${ev.venue.name}, ${ev.venue.city} — the venue of a saved event is fixed.`),
    ),
    h(
      'fieldset',
      h('legend', 'When (local time at the venue)'),
      h(
        'div.form-grid',
        field('Starts', { name: 'starts_at', type: 'datetime-local', required: true, value: ev ? localInput(ev.local_starts_at) : '' }),
        field('Ends', { name: 'ends_at', type: 'datetime-local', value: ev ? localInput(ev.local_ends_at) : '' }),
        field('Sales open (optional)', { name: 'sales_start', type: 'datetime-local' }),
        field('Sales close (optional)', { name: 'sales_end', type: 'datetime-local' }),
        field('Tickets per order', { name: 'order_limit', type: 'number', min: 1, max: 50, value: ev ? ev.order_limit : 8 }),
        field('Currency', { name: 'currency', value: ev ? ev.currency : 'USD', maxlength: 3 }),
      ),
    ),
    h(
      'fieldset',
      h('legend', 'Price tiers'),
      h('p.muted', 'Reserved tiers sell whole sections of the seat map (codes, comma separated); general-admission tiers sell a capacity.'),
      tiers,
      h('button.btn.small', { type: 'button', style: 'margin-top:.6rem', onclick: () => tiers.append(tierRow({}, venueSections)) }, '+ Add tier'),
    ),
    h('div.row', saveBtn, publishBtn, h('a.btn', { href: '#/organizer' }, 'Back')),
  );
  main.append(form);
  syncVenue();

  let createdVenue = null; // kept across retries so a failed event save does not create the venue twice
  async function venue() {
    if (!isNew) return ev.venue.id;
    if (createdVenue) return createdVenue;
    if (venueMode.value === 'id') return form.venue_id.value.trim();
    if (venueMode.value !== 'new') return venueMode.value;
    const body = {
      name: form.v_name.value.trim(),
      address: form.v_address.value.trim() || undefined,
      city: form.v_city.value.trim(),
      country: form.v_country.value.trim().toUpperCase(),
      timezone: form.v_timezone.value,
      stage_label: form.v_stage.value.trim() || undefined,
    };
    if (layout.value === 'seated') {
      body.seat_map = {
        sections: [...sections.children].map((r) => ({
          code: r.querySelector('[name=sec_code]').value.trim(),
          name: r.querySelector('[name=sec_name]').value.trim() || undefined,
          rows: Array.from({ length: Number(r.querySelector('[name=sec_rows]').value) || 1 }, (_, i) => ({
            label: rowLabel(i),
            count: Number(r.querySelector('[name=sec_seats]').value) || 1,
          })),
        })),
      };
    } else body.ga_areas = [{ name: 'Standing', capacity: Number(form.ga_capacity.value) || 1 }];
    const v = await post('/api/venues', body);
    createdVenue = v.id;
    return v.id;
  }

  async function save() {
    try {
      const f = new FormData(form);
      const s = (k) => String(f.get(k) || '').trim();
      const tierList = [...tiers.children].map((r) => {
        const q = (n) => r.querySelector(`[name=${n}]`).value.trim();
        const kind = q('tier_kind');
        const t = { name: q('tier_name'), price_minor: minor(q('tier_price') || 0), kind };
        if (r.dataset.tierId) t.id = r.dataset.tierId;
        if (kind === 'general_admission') t.capacity = Number(q('tier_capacity')) || undefined;
        else
          t.sections = q('tier_sections')
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean);
        return t;
      });
      const body = {
        title: s('title'),
        category: s('category'),
        description: s('description') || undefined,
        performers: s('performers')
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
        image_url: s('image_url') || undefined,
        starts_at: s('starts_at') || undefined,
        ends_at: s('ends_at') || undefined,
        sales_start: s('sales_start') || undefined,
        sales_end: s('sales_end') || undefined,
        order_limit: Number(s('order_limit')) || undefined,
        currency: s('currency').toUpperCase() || undefined,
        tiers: tierList,
      };
      if (isNew) {
        body.venue_id = await venue();
        const created = await post('/api/events', body);
        toast('Draft saved. Check it, then publish.', 'ok');
        go(`/organizer/events/${created.id}`);
      } else {
        const updated = await patch(`/api/events/${ev.id}`, body);
        const moved = ev.status === 'published' && updated && (updated.starts_at !== ev.starts_at || updated.ends_at !== ev.ends_at);
        toast(moved ? 'Changes saved. Everyone with tickets gets an e-mail and a message with the new time.' : 'Changes saved.', 'ok');
        if (updated) Object.assign(ev, { starts_at: updated.starts_at, ends_at: updated.ends_at });
        showFormError(form, null);
        if (updated?.tiers)
          mount(
            tiers,
            updated.tiers.map((t) => tierRow(t)),
          );
      }
    } catch (err) {
      showFormError(form, err);
      markTierFields(err);
    }
  }

  // A refusal about one tier (`tiers/<k>/<field>`, e.g. a price that can no
  // longer change) is shown next to that tier's input: the save was refused
  // as a whole, nothing of it was kept.
  function markTierFields(err) {
    const names = { name: 'tier_name', price_minor: 'tier_price', kind: 'tier_kind', capacity: 'tier_capacity', sections: 'tier_sections' };
    for (const [f, msg] of Object.entries(err?.fields || {})) {
      const m = /^tiers\/(\d+)\/(\w+)$/.exec(f);
      const input = m && names[m[2]] && tiers.children[Number(m[1])]?.querySelector(`[name=${names[m[2]]}]`);
      if (!input) continue;
      input.setAttribute('aria-invalid', 'true');
      (input.closest('label') || input).after(h('p.field-error', msg));
    }
  }
  if (ev) form.prepend(h('p.muted', `Prices: ${ev.tiers.map((t) => `${t.name} ${money(t.price_minor, t.currency)}`).join(' · ') || 'none yet'}`));
}
