/**
 * Admin: security events (sign-in failures, refresh-token reuse, role changes, key rotations…), newest first, a page
 * at a time ("Older events" asks for the next page with `before`), for everyone or — from a user's link, or
 * `#/admin/events?user_id=…` — for one user.
 */
import type { SecurityEventView } from '@jot/contract';

import { onClick } from '../lib/actions.js';
import { h, heading, outcome, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';
import { loadWithStepUp } from '../lib/step-up.js';

/** Events per page. */
const PAGE = 100;

/** The user the page is filtered on, from the route's query. */
function userFilter(): string | undefined {
  const query = location.hash.split('?')[1] ?? '';
  return new URLSearchParams(query).get('user_id') ?? undefined;
}

/** The user cell: a link that shows only that user's events, or "deleted user". */
function userCell(e: SecurityEventView): Node | string {
  if (e.user_id === null) return '—';
  if (e.user_email === null || e.user_email === undefined) {
    return h('span', { class: 'muted', title: e.user_id }, 'deleted user');
  }
  const href = `#/admin/events?user_id=${encodeURIComponent(e.user_id)}`;
  return h('a', { href, class: 'address', title: `Only the events of ${e.user_email}` }, e.user_email);
}

function eventRow(e: SecurityEventView): (Node | string)[] {
  return [
    formatIso(e.created_at),
    h('span', { class: `event event-${e.type}` }, e.type),
    userCell(e),
    e.ip ?? '—',
    e.detail === null || e.detail === undefined ? '—' : h('code', {}, JSON.stringify(e.detail)),
  ];
}

async function fetchPage(
  userId: string | undefined,
  before: number | undefined,
): Promise<SecurityEventView[]> {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (before !== undefined) query.set('before', String(before));
  if (userId !== undefined) query.set('user_id', userId);
  return (await jot.json<{ events: SecurityEventView[] }>(`/api/admin/events?${query}`)).events;
}

/** Renders the events page. */
export async function adminEventsPage(main: ParentNode): Promise<void> {
  const userId = userFilter();
  const title = heading('Security events');
  const out = outcome();
  const holder = h('div');
  const more = h('button', { type: 'button', class: 'secondary', id: 'older-events' }, 'Older events');
  const shown: SecurityEventView[] = [];
  const render = (): void => {
    const who = userId === undefined ? '' : ` of ${shown[0]?.user_email ?? 'one user'}`;
    holder.replaceChildren(
      table(
        `Security events${who}, newest first`,
        ['When', 'Event', 'User', 'IP address', 'Detail'],
        shown.map(eventRow),
      ),
    );
  };
  const load = async (): Promise<void> => {
    const events = await fetchPage(userId, shown.at(-1)?.id);
    shown.push(...events);
    render();
    more.hidden = events.length < PAGE;
  };
  // Once the oldest are shown the button hides: saying so gives the focus somewhere to go (the outcome line).
  onClick(more, out, async () => {
    await load();
    return more.hidden ? 'These are the oldest events.' : undefined;
  });
  main.append(
    title,
    userId === undefined ? '' : h('p', {}, h('a', { href: '#/admin/events' }, 'Show every user’s events')),
    out,
    holder,
    h('p', {}, more),
  );
  await loadWithStepUp(title, out, load);
}
