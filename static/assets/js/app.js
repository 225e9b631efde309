// The site shell: hash router, header (navigation, account, notification
// bell). Pages are loaded on demand as ES modules.

import { currentUser, onSession, logout, syncSession } from './api.js';
import { h, mount, errorBox, loading, toast } from './ui.js';
import { startBell } from './bell.js';
import { renderVerifyNotice } from './verify.js';

const ROUTES = [
  [/^\/?$/, 'home'],
  [/^\/search$/, 'search'],
  [/^\/events\/([\w-]+)$/, 'event'],
  [/^\/checkout\/([\w-]+)$/, 'checkout'],
  [/^\/bookings\/([\w-]+)$/, 'booking'],
  [/^\/(bookings|tickets)$/, 'tickets'],
  [/^\/tickets\/([\w-]+)$/, 'ticket'],
  [/^\/notifications$/, 'notifications'],
  [/^\/(login|register)$/, 'auth'],
  [/^\/forgot-password$/, 'password'],
  [/^\/reset-password\/([\w-]+)$/, 'password'],
  [/^\/verify-email\/([\w-]+)$/, 'verify-email'],
  [/^\/(account|settings)$/, 'account'],
  [/^\/organizer$/, 'organizer'],
  [/^\/organizer\/events\/([\w-]+)$/, 'organizer-edit'],
  [/^\/checkin$/, 'checkin'],
  [/^\/admin$/, 'admin'],
];

const main = document.getElementById('main');
let cleanup = null;
let seq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

/** Goes to `#<path>` (same as clicking a link). */
export function go(path) {
  location.hash = path;
}

/**
 * Sends a signed-out visitor to sign in and, once signed in, back to this
 * page (an e-mail link opened on a phone). Returns true when it did, so a
 * page can stop: `if (signInFirst()) return;`. With `force`, even when a
 * user is remembered (the session ran out: the API answered 401).
 */
export function signInFirst(force = false) {
  if (currentUser() && !force) return false;
  sessionStorage.setItem('boxoffice.after-login', location.hash);
  toast('Sign in to see this page; you will come straight back to it.');
  go('/login');
  return true;
}

async function route() {
  const { path, query } = parseHash();
  const mine = ++seq;
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch {
      /* page gone */
    }
  }
  cleanup = null;
  let page = 'notfound';
  let params = [];
  for (const [re, name] of ROUTES) {
    const m = path.match(re);
    if (m) {
      page = name;
      params = m.slice(1);
      break;
    }
  }
  highlightNav(path);
  mount(main, loading());
  try {
    const mod = await import(`./pages/${page}.js`);
    if (mine !== seq) return;
    main.replaceChildren();
    cleanup = await mod.render(main, params, query);
  } catch (err) {
    if (mine !== seq) return;
    console.error(err);
    mount(main, errorBox(err, route));
  }
  if (mine === seq && !query.has('keep-scroll')) {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  }
}

// ---- header -----------------------------------------------------------------

function navLinks(user) {
  const links = [['#/search', 'Browse']];
  if (user) links.push(['#/tickets', 'My tickets']);
  if (user && (user.role === 'organizer' || user.role === 'admin')) links.push(['#/organizer', 'Organizer']);
  if (user && (user.role === 'staff' || user.role === 'organizer' || user.role === 'admin')) links.push(['#/checkin', 'Check-in']);
  if (user && user.role === 'admin') links.push(['#/admin', 'Admin']);
  return links.map(([href, text]) => h('a.nav-link', { href }, text));
}

function highlightNav(path) {
  document.querySelectorAll('.nav-link').forEach((a) => {
    const target = a.getAttribute('href').slice(1);
    if (path === target || (target !== '/' && path.startsWith(target))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

function accountSlot(user) {
  if (!user) {
    return [h('a.btn.ghost.small', { href: '#/login' }, 'Sign in'), h('a.btn.primary.small', { href: '#/register' }, 'Sign up')];
  }
  const menu = h(
    'div.menu',
    { hidden: true, id: 'account-menu', role: 'menu' },
    h('div.menu-head', h('strong', user.email), h('small', user.role)),
    h('a', { href: '#/tickets', role: 'menuitem' }, 'My tickets & bookings'),
    h('a', { href: '#/account', role: 'menuitem' }, 'Profile'),
    h('a', { href: '#/settings', role: 'menuitem' }, 'Settings'),
    h('a', { href: '#/notifications', role: 'menuitem' }, 'Notifications'),
    user.role === 'organizer' || user.role === 'admin' ? h('a', { href: '#/organizer', role: 'menuitem' }, 'Organizer: my events') : null,
    user.role !== 'customer' ? h('a', { href: '#/checkin', role: 'menuitem' }, 'Check-in') : null,
    user.role === 'admin' ? h('a', { href: '#/admin', role: 'menuitem' }, 'Admin: people and roles') : null,
    h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
        onclick: async () => {
          await logout();
          toast('Signed out');
          go('/');
        },
      },
      'Sign out',
    ),
  );
  const btn = h(
    'button.avatar',
    {
      type: 'button',
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-controls': 'account-menu',
      'aria-label': `Account: ${user.email}`,
      onclick: (e) => {
        e.stopPropagation();
        const open = menu.hidden;
        menu.hidden = !open;
        btn.setAttribute('aria-expanded', String(open));
        if (open) menu.querySelector('a').focus();
      },
    },
    (user.email || '?').charAt(0).toUpperCase(),
  );
  document.addEventListener('click', () => {
    menu.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      menu.hidden = true;
      btn.focus();
    }
  });
  return h('div.account', btn, menu);
}

function renderHeader(user) {
  mount(document.getElementById('nav-links'), navLinks(user));
  mount(document.getElementById('account-slot'), accountSlot(user));
  document.getElementById('bell').hidden = !user;
  highlightNav(parseHash().path);
}

document.querySelector('.top-search').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = e.target.q.value.trim();
  go(`/search${q ? `?q=${encodeURIComponent(q)}` : ''}`);
});

onSession((user) => {
  renderHeader(user);
  startBell(user);
  renderVerifyNotice(user);
});
renderHeader(currentUser());
startBell(currentUser());
renderVerifyNotice(currentUser());
syncSession();
// Links in e-mails and JSON-LD use real paths (/events/<id>, /tickets/<id>),
// which the web component answers with this page; move them into the hash.
if (location.pathname !== '/' && !location.hash) {
  history.replaceState(null, '', `/#${location.pathname}${location.search}`);
}
window.addEventListener('hashchange', route);
window.addEventListener('hashchange', () => renderVerifyNotice(currentUser()));
route();
