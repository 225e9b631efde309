import { get } from '../api.js';
import { h, CATEGORIES, setTitle, errorBox, loading, empty } from '../ui.js';
import { eventCard } from '../cards.js';
import { go } from '../app.js';
import { icon } from '../icons.js';

export async function render(main) {
  setTitle('');
  const input = h('input', { name: 'q', type: 'search', placeholder: 'Artist, team, film or city', 'aria-label': 'Search events' });
  main.append(
    h(
      'section.hero',
      h('h1', 'Find your next night out'),
      h(
        'p',
        'Concerts, live music, sports, films, theatre and festivals. Pick your seats on the map, hold them for 15 minutes, and get your tickets in seconds.',
      ),
      h(
        'form.hero-search',
        {
          role: 'search',
          'aria-label': 'Find events',
          onsubmit: (e) => {
            e.preventDefault();
            go(`/search?q=${encodeURIComponent(input.value.trim())}`);
          },
        },
        input,
        h('button.btn.big', { type: 'submit' }, 'Search'),
      ),
      h(
        'div.chips',
        { style: 'margin-top:1.2rem' },
        CATEGORIES.map(([c, name]) => h('a.chip', { href: `#/search?category=${c}` }, icon(c), name)),
      ),
    ),
  );

  const upcoming = h(
    'section.section',
    { 'aria-labelledby': 'up-h' },
    h('div.section-head', h('h2', { id: 'up-h' }, 'Coming up'), h('a', { href: '#/search' }, 'See all →')),
    loading(),
  );
  main.append(upcoming);
  const rows = h('div');
  main.append(rows);

  try {
    const first = await get('/api/events', { limit: 8 });
    upcoming.lastChild.replaceWith(
      first.items.length
        ? h('div.cards', first.items.map(eventCard))
        : empty('No events on sale yet', 'Check back soon — organizers are adding events all the time.'),
    );
  } catch (err) {
    upcoming.lastChild.replaceWith(errorBox(err, () => location.reload()));
    return;
  }
  // one row per category, fetched in parallel; empty categories are left out
  const results = await Promise.allSettled(CATEGORIES.map(([c]) => get('/api/events', { category: c, limit: 4 })));
  results.forEach((r, i) => {
    if (r.status !== 'fulfilled' || !r.value.items.length) return;
    const [c, name] = CATEGORIES[i];
    rows.append(
      h(
        'section.section',
        { 'aria-label': name },
        h('div.section-head', h('h2', name), h('a', { href: `#/search?category=${c}` }, `All ${name.toLowerCase()} →`)),
        h('div.cards', r.value.items.map(eventCard)),
      ),
    );
  });
}
