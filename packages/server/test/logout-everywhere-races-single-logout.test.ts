/**
 * PostgreSQL: a logout-everywhere (`cutOffUser` ending every session of the user) racing a logout of one of the
 * same sessions on another instance. Each feed entry takes the `revocations` table lock and keeps it until commit;
 * ending a session takes that session's row lock. Ending the sessions one by one, each followed by its entry, took a
 * row lock AFTER the table lock, while a single logout takes them the other way round: a deadlock, and one of the
 * two answered 503. Every revocation transaction must take the table lock last.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';

import { afterAll, describe, expect, it } from 'vitest';

import { revocationEntries } from '../src/services/revocation-entries.js';
import { openStore } from '../src/store/open.js';
import type { NewRevocation, Revocation, Store } from '../src/store/index.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';

const target = await requirePostgres('the logout race test');

/** `tx`, with a pause after its first feed entry (the table lock is then held), which `written` reports. */
function pausingAfterFirstEntry(tx: Store, written: () => void): Store {
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'addRevocation') {
        return async (input: NewRevocation): Promise<Revocation> => {
          const entry = await target.addRevocation(input);
          written();
          await sleep(200);
          return entry;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What a transaction ended with: `ok`, or its error code (and the database's). */
function outcome(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'ok',
    (err: { code?: string; cause?: { code?: string } }) => `failed ${err.code} (${err.cause?.code})`,
  );
}

describe.runIf(target !== undefined)('logout-everywhere racing a single logout (PostgreSQL)', () => {
  const pg = target as TestSchema;
  afterAll(async () => {
    await target?.drop();
  });

  it('both succeed, with no deadlock, and every session ends', async () => {
    const store = await openStore({ url: pg.url, dataDir: tmpdir(), postgres: { schema: pg.schema } });
    try {
      const entries = revocationEntries(Date.now, 15 * 60_000);
      const user = await store.createUser({ email: 'race@example.com', passwordHash: 'h' });
      for (let i = 0; i < 3; i++) {
        await store.createSession({ userId: user.id, absoluteExpiresAt: Date.now() + 3_600_000 });
      }
      const sessions = await store.listSessionsForUser(user.id);
      const last = sessions.at(-1)!; // the one the logout-everywhere reaches last
      let firstEntryWritten!: () => void;
      const written = new Promise<void>((resolve) => (firstEntryWritten = resolve));
      const everywhere = outcome(
        store.transaction((tx) =>
          entries.cutOffUser(pausingAfterFirstEntry(tx, firstEntryWritten), user.id, 'logout_all', {}),
        ),
      );
      await written;
      // Meanwhile, on another instance, the owner of the last session logs out.
      const single = outcome(store.transaction((tx) => entries.endSession(tx, last.id, 'logout')));
      expect({ everywhere: await everywhere, single: await single }).toEqual({
        everywhere: 'ok',
        single: 'ok',
      });
      expect(await store.listSessionsForUser(user.id)).toEqual([]);
      const feed = await store.listRevocationsSince(undefined, 100);
      expect(
        feed.entries
          .filter((e) => e.kind === 'sid')
          .map((e) => e.subject)
          .sort(),
      ).toEqual(sessions.map((s) => s.id).sort());
    } finally {
      await store.close();
    }
  });
});
