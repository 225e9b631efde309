// Event cards shared by the home, search and organizer pages.
import { h, money, dateBadge, when, categoryName } from './ui.js';
import { icon } from './icons.js';

/**
 * Artwork box: the event's image (`image_url`, e.g. the imported
 * Ticketmaster 16:9 picture) over its category gradient. Cards load it
 * lazily; the hero (`big`) eagerly. Width and height reserve the 16:9 box
 * before it loads; an image that fails to load is removed, leaving the
 * gradient and category icon.
 */
export function art(ev, big) {
  const box = h('div.card-art', { class: `art-${ev.category || 'other'}`, 'aria-hidden': 'true' }, icon(ev.category || 'other', 52));
  if (ev.image_url && /^https?:\/\//.test(ev.image_url)) {
    const img = h('img', {
      src: ev.image_url,
      alt: '',
      width: big ? 1024 : 640,
      height: big ? 576 : 360,
      loading: big ? 'eager' : 'lazy',
      fetchpriority: big ? 'high' : 'low',
      decoding: 'async',
      referrerpolicy: 'no-referrer',
    });
    img.addEventListener('error', () => {
      img.remove();
      box.classList.remove('has-img');
    });
    img.addEventListener('load', () => box.classList.add('has-img'));
    box.append(img);
  }
  if (!big && ev.starts_at) {
    const b = dateBadge(ev.starts_at, ev.timezone);
    box.append(h('div.date-badge', h('small', b.month), h('b', b.day)));
  }
  return box;
}

/** One search result as a link card. */
export function eventCard(ev) {
  const venue = ev.venue || {};
  return h(
    'a.card',
    { href: `#/events/${ev.id}`, 'data-event-id': ev.id },
    art(ev),
    h(
      'div.card-body',
      h('span.card-meta', categoryName(ev.category)),
      h('span.card-title', ev.title),
      h('span.card-meta', [venue.name, venue.city].filter(Boolean).join(' · ')),
      h('span.card-meta', when(ev.starts_at, ev.timezone)),
      h('span.card-price', ev.status === 'cancelled' ? 'Cancelled' : ev.price_from ? `From ${money(ev.price_from)}` : 'See prices'),
    ),
  );
}
