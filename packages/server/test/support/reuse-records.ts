/**
 * Test helper: what a reuse of a spent credential left behind — the session's security events of one type, and the
 * revocation feed's `sid` entries for the session (read with the feed's secret).
 */
import { expect } from 'vitest';

import type { SecurityEventType } from '@jot/contract';

import type { TestServer } from './jot-server.js';

/** The session's `type` events (of `userId`) and the feed's `sid` entries naming `sessionId`. */
export async function reuseRecords(
  server: TestServer,
  feedSecret: string,
  type: SecurityEventType,
  ids: { userId: string; sessionId: string },
) {
  const events = await server.app.jot.store.listSecurityEvents({ limit: 100, userId: ids.userId, type });
  const feed = await server.request('GET', '/api/revocations', { token: feedSecret });
  expect(feed.status).toBe(200);
  const sidEntries = (feed.body.entries as Array<{ kind: string; subject: string }>).filter(
    (e) => e.kind === 'sid' && e.subject === ids.sessionId,
  );
  return { events, sidEntries };
}
