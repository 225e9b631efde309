// The notification bell: unread count, polled while signed in.
import { get } from './api.js';

let timer = null;

/** Unread count from `GET /api/notifications/unread-count` (`{unread}` or `{count}`). */
export async function unreadCount() {
  const r = await get('/api/notifications/unread-count');
  return Number(r && (r.unread ?? r.count ?? r.unread_count)) || 0;
}

/** Shows `n` on the bell. */
export function showCount(n) {
  const badge = document.getElementById('bell-count');
  const bell = document.getElementById('bell');
  if (!badge || !bell) return;
  badge.hidden = !n;
  badge.textContent = n > 99 ? '99+' : String(n);
  bell.setAttribute('aria-label', n ? `Notifications, ${n} unread` : 'Notifications');
}

export async function refreshBell() {
  try {
    showCount(await unreadCount());
  } catch {
    /* the bell stays as it was */
  }
}

/** Starts (user) or stops (null) polling. */
export function startBell(user) {
  clearInterval(timer);
  timer = null;
  if (!user) {
    showCount(0);
    return;
  }
  refreshBell();
  timer = setInterval(() => {
    if (!document.hidden) refreshBell();
  }, 20000);
}
