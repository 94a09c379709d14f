/**
 * Cross-tab behaviour: two clients sharing one cookie jar, a lock manager and a real (Node) BroadcastChannel
 * stand in for two tabs of one browser.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, type JotClient, type SessionEvents } from '../src/index.js';
import { fakeLocks, fakeServer } from './fake-server.js';

const BASE = 'http://jot.test';
const tabs: JotClient[] = [];
let key = 0;
afterEach(() => {
  for (const t of tabs.splice(0)) t.close();
  vi.useRealTimers();
});

function twoTabs(mode: 'cookie' | 'memory'): {
  a: JotClient;
  b: JotClient;
  server: ReturnType<typeof fakeServer>;
  locks: ReturnType<typeof fakeLocks>;
} {
  const server = fakeServer();
  const locks = fakeLocks();
  const storageKey = `test-${++key}`;
  const a = createClient({ baseUrl: BASE, mode, fetch: server.fetch, locks, storageKey });
  const b = createClient({ baseUrl: BASE, mode, fetch: server.fetch, locks, storageKey });
  tabs.push(a, b);
  return { a, b, server, locks };
}

function next<E extends keyof SessionEvents>(tab: JotClient, event: E): Promise<SessionEvents[E]> {
  return new Promise((resolve) => {
    const off = tab.on(event, (payload) => {
      off();
      resolve(payload);
    });
  });
}

describe.each(['cookie', 'memory'] as const)('two tabs in %s mode', (mode) => {
  it('a sign-in in one tab signs the other in', async () => {
    const { a, b } = twoTabs(mode);
    const started = next(b, 'session:started');
    await a.login('a@b.c', 'pw');
    expect(await started).toMatchObject({ source: 'other-tab' });
    expect(b.signedIn).toBe(true);
  });

  it('refreshing at the same moment: one refresh, no reuse, both keep working', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { a, b, server } = twoTabs(mode);
    const started = next(b, 'session:started');
    await a.login('a@b.c', 'pw');
    await started;
    vi.setSystemTime(Date.now() + 61_000);
    const [ra, rb] = await Promise.all([a.fetch('/api/data'), b.fetch('/api/data')]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(server.reuse).toBe(0);
    expect(a.expiresAt).toBe(b.expiresAt);
  });

  it('logout in one tab ends the session in the other', async () => {
    const { a, b, server } = twoTabs(mode);
    const started = next(b, 'session:started');
    await a.login('a@b.c', 'pw');
    await started;
    const ended = next(b, 'session:ended');
    await a.logout();
    expect(await ended).toEqual({ reason: 'other-tab' });
    expect(b.signedIn).toBe(false);
    expect(server.count('POST /api/logout')).toBe(1);
  });
});
