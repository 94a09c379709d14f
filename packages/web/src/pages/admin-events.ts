/** Admin: security events (sign-in failures, refresh-token reuse, role changes, key rotations…), newest first. */
import type { SecurityEventView } from '@jot/contract';

import { h, heading, outcome, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';
import { loadWithStepUp } from '../lib/step-up.js';

/** Renders the events page. */
export async function adminEventsPage(main: ParentNode): Promise<void> {
  const title = heading('Security events');
  const out = outcome();
  const holder = h('div');
  main.append(title, out, holder);
  await loadWithStepUp(title, out, async () => {
    const { events } = await jot.json<{ events: SecurityEventView[] }>('/api/admin/events?limit=200');
    holder.replaceChildren(
      table(
        'The latest 200 events, newest first',
        ['When', 'Event', 'User', 'IP address', 'Detail'],
        events.map((e) => [
          formatIso(e.created_at),
          h('span', { class: `event event-${e.type}` }, e.type),
          e.user_id === null
            ? '—'
            : (e.user_email ?? h('span', { class: 'muted', title: e.user_id }, 'deleted user')),
          e.ip ?? '—',
          e.detail === null || e.detail === undefined ? '—' : h('code', {}, JSON.stringify(e.detail)),
        ]),
      ),
    );
  });
}
