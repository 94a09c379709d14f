/**
 * A refresh token replayed after its grace window while a logout of its session commits, on SQLite and on
 * PostgreSQL: the replay read the session live, then the logout ended it, then the replay went to end it for reuse
 * and found it ended already. The answer stays `ERR_REFRESH_TOKEN_REUSED`, and the reuse is still recorded — one
 * `refresh_token_reuse` event with `detail.sessionAlreadyEnded: 'logout'`, however many replays raced the logout —
 * while the logout stays the session's only revocation. (Found by review: the replay was answered as reuse but no
 * event was recorded, since only the request that ended the session recorded the reuse.)
 *
 * The interleaving is made certain by a store hook on the replay's read of its token and session: the logout runs
 * to completion after that read and before the replay goes on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hookStore, type HookedStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';
import { reuseRecords } from './support/reuse-records.js';

const FEED_SECRET = 'refresh-reuse-after-logout-'.padEnd(40, 'x');
const GRACE_MS = 10_000;

const backends = await serverBackends('refresh-reuse-after-logout-recorded');

describe.each(backends)('a refresh-token reuse racing a logout of its session ($name)', (backend) => {
  let skew = 0;
  const clock = () => Date.now() + skew;
  let dataDir: string;
  let hooked: HookedStore;
  let server: TestServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-reuse-logout-'));
    hooked = hookStore(await backend.open(dataDir));
    server = await startServer(
      { revocationSecret: FEED_SECRET, refreshGraceWindow: '10s' },
      { dataDir, store: hooked.store, clock },
    );
    await signUp(server, 'admin@example.com');
  });
  afterAll(async () => {
    await server?.close({ keepData: true });
    await hooked?.store.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const refresh = (refresh_token: string) =>
    server.request('POST', '/api/token/refresh', { body: { refresh_token } });

  /**
   * A session whose first refresh token was rotated away longer than the grace window ago: the replayable token,
   * the current access token (to log out with) and the session's id.
   */
  async function rotatedSession(email: string) {
    const first = await signUp(server, email);
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status, rotated.text).toBe(200);
    skew += GRACE_MS;
    const [session] = await server.app.jot.store.listSessionsForUser(first.userId);
    return {
      userId: first.userId,
      replayed: first.refresh_token,
      accessToken: rotated.body.access_token as string,
      sessionId: session!.id,
    };
  }

  /** The session's `refresh_token_reuse` events, and the feed's `sid` entries for it. */
  const recorded = (userId: string, sessionId: string) =>
    reuseRecords(server, FEED_SECRET, 'refresh_token_reuse', { userId, sessionId });

  /** Arms `count` replays: each, once it has read its token and session, waits for all; then the logout commits. */
  function logoutAfterReads(count: number, accessToken: string): Promise<void> {
    let read = 0;
    let allRead!: () => void;
    const everyoneRead = new Promise<void>((resolve) => (allRead = resolve));
    let loggedOut!: Promise<void>;
    const hooks: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      hooks.push(
        hooked.once('getRefreshState', async (call) => {
          const state = await call();
          read += 1;
          if (read === count) {
            loggedOut = server
              .request('POST', '/api/logout', { token: accessToken })
              .then((res) => expect(res.status, res.text).toBe(204));
            allRead();
          }
          await everyoneRead;
          await loggedOut;
          return state;
        }),
      );
    }
    return Promise.all(hooks).then(() => loggedOut);
  }

  it('a replay answered as reuse after a logout ended its session is recorded, noting the logout', async () => {
    const s = await rotatedSession('reuse-after-logout@example.com');
    const hooksDone = logoutAfterReads(1, s.accessToken);
    const replay = await refresh(s.replayed);
    await hooksDone;
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_REUSED' });

    const session = await server.app.jot.store.getSession(s.sessionId);
    expect(session?.revokedReason).toBe('logout');
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      userId: s.userId,
      sessionId: s.sessionId,
      ip: '127.0.0.1',
      detail: { generation: expect.any(Number), sessionAlreadyEnded: 'logout' },
    });
    // The logout's entry only: the replay ended nothing.
    expect(sidEntries).toHaveLength(1);
  });

  /**
   * Holds the next `count` calls recording an event once per session until all have come (or a deadline passed), then
   * lets them go together: their checks and appends overlap as much as the database lets them.
   */
  function recordTogether(count: number): void {
    let arrived = 0;
    let release!: () => void;
    const everyone = new Promise<void>((resolve) => (release = resolve));
    const deadline = setTimeout(release, 10_000);
    deadline.unref();
    for (let i = 0; i < count; i++) {
      void hooked.once('addSessionEventOnce', async (call) => {
        arrived += 1;
        if (arrived === count) {
          clearTimeout(deadline);
          release();
        }
        await everyone;
        return call();
      });
    }
  }

  it('six replays at once, all past their read when the logout commits: one event', async () => {
    const s = await rotatedSession('replays-after-logout@example.com');
    const hooksDone = logoutAfterReads(6, s.accessToken);
    recordTogether(6);
    const replays = await Promise.all(Array.from({ length: 6 }, () => refresh(s.replayed)));
    await hooksDone;
    expect(replays.map((r) => r.body.code)).toEqual(Array(6).fill('ERR_REFRESH_TOKEN_REUSED'));
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ sessionAlreadyEnded: 'logout' });
    expect(sidEntries).toHaveLength(1);
  });

  it('a replay that ends the session itself is recorded as before, without the note', async () => {
    const s = await rotatedSession('reuse-alone@example.com');
    const replays = await Promise.all(Array.from({ length: 4 }, () => refresh(s.replayed)));
    expect(replays.map((r) => r.body.code)).toContain('ERR_REFRESH_TOKEN_REUSED');
    const { events, sidEntries } = await recorded(s.userId, s.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toEqual({ generation: expect.any(Number) });
    expect(sidEntries).toHaveLength(1);
    expect((await server.app.jot.store.getSession(s.sessionId))?.revokedReason).toBe('refresh_token_reuse');
  });
});
