/**
 * Two admins changing one user's roles at once, on SQLite and on PostgreSQL. Each change reads the roles it replaces
 * in its own transaction, the user's row held (`FOR UPDATE` on PostgreSQL), so the changes take turns: the second
 * `roles_changed` event's `before` is the first's `roles`, the final roles are the second's, and the events are in
 * the order the changes took effect. (Found by review: the roles before were read outside the transaction, so two
 * changes racing both reported the same `before`, one of them wrongly.)
 *
 * Both requests are held at the door of their transaction until both have come (or a deadline passed), then let go
 * together: their reads and writes overlap as much as the database lets them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/index.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('concurrent-role-changes');

describe.each(backends)('two role changes of one user at once ($name)', (backend) => {
  let dataDir: string;
  let store: Store;
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-role-race-'));
    store = await backend.open(dataDir);
    server = await startServer({}, { dataDir, store });
    admin = await signUp(server, 'admin@example.com');
  });
  afterAll(async () => {
    await server?.close({ keepData: true });
    await store?.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Holds the next `count` user changes until all have come (10 s at most), then lets them go together. */
  function changeTogether(count: number): () => void {
    const { revocations } = server.app.jot;
    const real = revocations.updateUser.bind(revocations);
    let arrived = 0;
    let release!: () => void;
    const everyone = new Promise<void>((resolve) => (release = resolve));
    const deadline = setTimeout(release, 10_000);
    deadline.unref();
    revocations.updateUser = async (change) => {
      arrived += 1;
      if (arrived === count) {
        clearTimeout(deadline);
        release();
      }
      await everyone;
      return real(change);
    };
    return () => {
      clearTimeout(deadline);
      revocations.updateUser = real;
    };
  }

  const setRoles = (userId: string, roles: string[]) =>
    server.request('PUT', `/api/admin/users/${userId}/roles`, { token: admin.access_token, body: { roles } });

  it('the second change reads what the first wrote: events chain, in order, to the final roles', async () => {
    const user = await signUp(server, 'promoted-twice@example.com');
    expect((await setRoles(user.userId, ['reader'])).status).toBe(200);
    const restore = changeTogether(2);
    try {
      const answers = await Promise.all([
        setRoles(user.userId, ['editor']),
        setRoles(user.userId, ['admin']),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
    } finally {
      restore();
    }
    const events = (
      await server.app.jot.store.listSecurityEvents({
        limit: 100,
        userId: user.userId,
        type: 'roles_changed',
      })
    )
      .reverse()
      .map((e) => e.detail as { roles: string[]; before: string[] });
    expect(events).toHaveLength(3);
    const [setUp, first, second] = events as [(typeof events)[0], (typeof events)[0], (typeof events)[0]];
    expect(setUp.roles).toEqual(['reader']);
    expect(first.before).toEqual(['reader']);
    expect(second.before).toEqual(first.roles);
    expect([first.roles, second.roles]).toEqual(expect.arrayContaining([['editor'], ['admin']]));
    expect((await server.app.jot.store.getUserById(user.userId))?.roles).toEqual(second.roles);
    // Made an admin once, whichever change came first.
    const created = await server.app.jot.store.listSecurityEvents({
      limit: 100,
      userId: user.userId,
      type: 'admin_created',
    });
    expect(created).toHaveLength(1);
  });
});
