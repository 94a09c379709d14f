/**
 * Cross-tab behaviour: two clients sharing one cookie jar, a lock manager and a real (Node) BroadcastChannel
 * stand in for two tabs of one browser; and the channel's `heard()`, which a tab awaits before it refreshes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, type JotClient } from '../src/index.js';
import { HEARD_DEADLINE_MS, openTabChannel, parseTabMessage, type TabMessage } from '../src/tab-channel.js';
import { fakeServer } from '../../../test-support/session-api.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';

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

describe('messages from other tabs are validated', () => {
  const future = (): number => Date.now() + 60_000;
  const malformed = (): unknown[] => [
    null,
    'started',
    42,
    { type: 'bogus', expiresAt: future() },
    { type: 'started' },
    { type: 'started', expiresAt: '1700000000000' },
    { type: 'started', expiresAt: Number.POSITIVE_INFINITY, accessToken: 'a.b.c' },
    { type: 'started', expiresAt: Number.NaN, accessToken: 'a.b.c' },
    { type: 'started', expiresAt: -5, accessToken: 'a.b.c' },
    { type: 'started', expiresAt: 0, accessToken: 'a.b.c' },
    { type: 'started', expiresAt: future(), accessToken: '' },
    { type: 'started', expiresAt: future(), accessToken: 'a b' },
    { type: 'started', expiresAt: future(), accessToken: 'a.b.c\r\nx-evil: 1' },
    { type: 'started', expiresAt: future(), accessToken: 42 },
    { type: 'refreshed', expiresAt: future(), accessToken: 'a.b.c', csrfToken: '' },
    { type: 'refreshed', expiresAt: future(), accessToken: 'a.b.c', csrfToken: 'x\ny' },
    { type: 'refreshed', expiresAt: future(), accessToken: 'a.b.c', csrfToken: 7 },
  ];

  it('parseTabMessage refuses every malformed shape and keeps good ones', () => {
    for (const data of malformed()) expect(parseTabMessage(data)).toBeUndefined();
    const expiresAt = future();
    expect(parseTabMessage({ type: 'ended', extra: 1 })).toEqual({ type: 'ended' });
    expect(
      parseTabMessage({ type: 'started', expiresAt, accessToken: 'eyJ.x-y_z.s+/=', csrfToken: 'c' }),
    ).toEqual({
      type: 'started',
      expiresAt,
      accessToken: 'eyJ.x-y_z.s+/=',
      csrfToken: 'c',
    });
  });

  it('a tab ignores malformed messages on the channel and still takes a good one', async () => {
    const storageKey = `test-${++key}`;
    const server = fakeServer();
    const tab = createClient({ baseUrl: BASE, mode: 'memory', fetch: server.fetch, locks: null, storageKey });
    tabs.push(tab);
    const seen: string[] = [];
    tab.on('session:started', ({ expiresAt }) => seen.push(`started:${expiresAt}`));
    tab.on('session:refreshed', ({ expiresAt }) => seen.push(`refreshed:${expiresAt}`));
    const other = new BroadcastChannel(`${storageKey}:session`);
    try {
      for (const data of malformed()) other.postMessage(data);
      const good = future();
      const started = next(tab, 'session:started');
      other.postMessage({
        type: 'started',
        expiresAt: good,
        accessToken: 'at-from-other-tab',
        csrfToken: 'c',
      });
      await started; // messages arrive in order: every malformed one was handled before this
      expect(seen).toEqual([`started:${good}`]);
      expect(tab.expiresAt).toBe(good);
    } finally {
      other.close();
    }
  });
});

describe('heard(): the messages other tabs posted before it are handled when it settles', () => {
  it('a message another tab posted just before is handled by the time heard() settles', async () => {
    const name = `test-${++key}:session`;
    const got: TabMessage[] = [];
    const channel = openTabChannel(name, true, (m) => got.push(m));
    const other = new BroadcastChannel(name);
    try {
      const expiresAt = Date.now() + 60_000;
      other.postMessage({ type: 'refreshed', expiresAt, csrfToken: 'c' });
      expect(got).toEqual([]); // not yet: the message is on its way
      await channel.heard();
      expect(got).toEqual([{ type: 'refreshed', expiresAt, csrfToken: 'c' }]);
    } finally {
      other.close();
      channel.close();
    }
  });

  it('a pending heard() settles when the channel is closed, without waiting out its deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const channel = openTabChannel(`test-${++key}:session`, true, () => undefined);
    const pending = channel.heard();
    channel.close();
    await pending; // the deadline timer is fake and never fires: only close() can settle it
    await channel.heard(); // and a closed channel has nothing to hear
  });

  it('a channel that drops messages: heard() gives up after its deadline, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.stubGlobal(
      'BroadcastChannel',
      class {
        onmessage: unknown = null;
        postMessage(): void {}
        close(): void {}
      },
    );
    const channel = openTabChannel(`test-${++key}:session`, true, () => undefined);
    try {
      let settled = false;
      const pending = channel.heard().then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(HEARD_DEADLINE_MS - 1);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await pending;
      expect(settled).toBe(true);
    } finally {
      channel.close();
      vi.unstubAllGlobals();
    }
  });

  it('settles at once when the channel is off', async () => {
    await openTabChannel(`test-${++key}:session`, false, () => undefined).heard();
  });
});
