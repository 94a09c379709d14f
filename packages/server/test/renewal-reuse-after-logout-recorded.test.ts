/**
 * An access token renewed again after its grace window once a logout has ended its session, on SQLite and on
 * PostgreSQL (single-token mode). The answer is reuse — `ERR_TOKEN_ALREADY_RENEWED` — and the reuse is recorded: one
 * `renewal_reuse` event with `detail.sessionAlreadyEnded: 'logout'`, however many repeats come, while the logout
 * stays the session's only revocation — as a refresh token replayed after a logout is
 * (refresh-reuse-after-logout-recorded.test.ts). (Found by review: the repeat was answered as reuse but no event was
 * recorded, since only the request that ended the session recorded the reuse.)
 *
 * The logout committing while a repeat runs is made certain by a store hook on the repeat's read of its session.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hookStore, type HookedStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';
import { reuseRecords } from './support/reuse-records.js';

const FEED_SECRET = 'renewal-reuse-after-logout-'.padEnd(40, 'x');
const GRACE_MS = 10_000;

const backends = await serverBackends('renewal-reuse-after-logout-recorded');

describe.each(backends)('a renewal reuse after a logout of its session ($name)', (backend) => {
  let skew = 0;
  const clock = () => Date.now() + skew;
  let dataDir: string;
  let hooked: HookedStore;
  let server: TestServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-renewal-logout-'));
    hooked = hookStore(await backend.open(dataDir));
    server = await startServer(
      {
        tokenMode: 'single',
        revocationSecret: FEED_SECRET,
        refreshGraceWindow: '10s',
        rateLimitRenew: '100000/min',
      },
      { dataDir, store: hooked.store, clock },
    );
  });
  afterAll(async () => {
    await server?.close({ keepData: true });
    await hooked?.store.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const renew = (token: string) => server.request('POST', '/api/token/renew', { token });
  const logout = async (token: string) => {
    const res = await server.request('POST', '/api/logout', { token });
    expect(res.status, res.text).toBe(204);
  };

  /** A session whose first access token was renewed: that token (to repeat), its successor, ids. */
  async function renewedSession(email: string) {
    const first = await signUp(server, email);
    const renewed = await renew(first.access_token);
    expect(renewed.status, renewed.text).toBe(200);
    const [session] = await server.app.jot.store.listSessionsForUser(first.userId);
    return {
      userId: first.userId,
      repeated: first.access_token,
      successor: renewed.body.access_token as string,
      sessionId: session!.id,
    };
  }

  /** The session's `renewal_reuse` events, and the feed's `sid` entries for it. */
  const recorded = (userId: string, sessionId: string) =>
    reuseRecords(server, FEED_SECRET, 'renewal_reuse', { userId, sessionId });

  it('a repeat after the logout and the grace window is answered as reuse and recorded, noting the logout', async () => {
    const s = await renewedSession('renew-after-logout@example.com');
    await logout(s.successor);
    skew += GRACE_MS;
    const repeat = await renew(s.repeated);
    expect(repeat.status).toBe(401);
    expect(repeat.body).toMatchObject({ code: 'ERR_TOKEN_ALREADY_RENEWED' });

    expect((await server.app.jot.store.getSession(s.sessionId))?.revokedReason).toBe('logout');
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      userId: s.userId,
      sessionId: s.sessionId,
      ip: '127.0.0.1',
      detail: { renewedMsAgo: expect.any(Number), sessionAlreadyEnded: 'logout' },
    });
    // The logout's entry only: the repeat ended nothing.
    expect(sidEntries).toHaveLength(1);
    // A later repeat adds nothing.
    expect((await renew(s.repeated)).body.code).toBe('ERR_TOKEN_ALREADY_RENEWED');
    expect((await recorded(s.userId, s.sessionId)).events).toHaveLength(1);
  });

  it('a repeat that read the session live before the logout committed is recorded, noting the logout', async () => {
    const s = await renewedSession('renew-racing-logout@example.com');
    skew += GRACE_MS;
    const loggedOut = hooked.once(
      'getSession',
      async (call) => {
        const session = await call();
        expect(session?.revokedAt).toBeNull();
        await logout(s.successor);
        return session;
      },
      ([id]) => id === s.sessionId,
    );
    const repeat = await renew(s.repeated);
    await loggedOut;
    expect(repeat.body).toMatchObject({ code: 'ERR_TOKEN_ALREADY_RENEWED' });
    expect((await server.app.jot.store.getSession(s.sessionId))?.revokedReason).toBe('logout');
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events.map((e) => e.detail)).toEqual([
      { renewedMsAgo: expect.any(Number), sessionAlreadyEnded: 'logout' },
    ]);
    expect(sidEntries).toHaveLength(1);
  });

  it('six repeats at once after the logout, their records overlapping: one event', async () => {
    const s = await renewedSession('renewals-after-logout@example.com');
    await logout(s.successor);
    skew += GRACE_MS;
    let arrived = 0;
    let release!: () => void;
    const everyone = new Promise<void>((resolve) => (release = resolve));
    const deadline = setTimeout(release, 10_000);
    deadline.unref();
    for (let i = 0; i < 6; i++) {
      void hooked.once('addSessionEventOnce', async (call) => {
        arrived += 1;
        if (arrived === 6) {
          clearTimeout(deadline);
          release();
        }
        await everyone;
        return call();
      });
    }
    const repeats = await Promise.all(Array.from({ length: 6 }, () => renew(s.repeated)));
    expect(repeats.map((r) => r.body.code)).toEqual(Array(6).fill('ERR_TOKEN_ALREADY_RENEWED'));
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ sessionAlreadyEnded: 'logout' });
    expect(sidEntries).toHaveLength(1);
  });

  it('a repeat that ends the session itself is recorded as before, without the note', async () => {
    const s = await renewedSession('renewal-reuse-alone@example.com');
    skew += GRACE_MS;
    const repeats = await Promise.all(Array.from({ length: 4 }, () => renew(s.repeated)));
    expect(repeats.map((r) => r.body.code)).toEqual(Array(4).fill('ERR_TOKEN_ALREADY_RENEWED'));
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events.map((e) => e.detail)).toEqual([{ renewedMsAgo: expect.any(Number) }]);
    expect(sidEntries).toHaveLength(1);
    expect((await server.app.jot.store.getSession(s.sessionId))?.revokedReason).toBe('renewal_reuse');
  });
});
