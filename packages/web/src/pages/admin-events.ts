/** Admin: security events (sign-in failures, refresh-token reuse, role changes, key rotations…), newest first. */
import type { SecurityEventView } from '@jot/contract';

import { h, heading, message, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';

/** Renders the events page. */
export async function adminEventsPage(main: ParentNode): Promise<void> {
  main.append(heading('Security events'));
  try {
    const { events } = await jot.json<{ events: SecurityEventView[] }>('/api/admin/events?limit=200');
    main.append(
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
  } catch (err) {
    main.append(message(err instanceof Error ? err.message : String(err), 'error'));
  }
}
