import { h, setTitle } from '../ui.js';

export function render(main) {
  setTitle('Page not found');
  main.append(
    h(
      'section.hero.small',
      h('h1', "We couldn't find that page"),
      h('p', 'The link may be old or mistyped.'),
      h('a.btn.primary', { href: '#/' }, 'Back to all events'),
    ),
  );
}
