/**
 * Regression (operator walkthrough 2026-12-02): a PostgreSQL URL naming a role or a database that does not exist made
 * `jot-server` print only "database migration failed" (`ERR_STORE_MIGRATION`) — nothing had connected, and the
 * cause (SQLSTATE 28000 / 3D000, the role or database name) was never shown; a closed port said only "the database is
 * unavailable". Opening the store now names the cause with a code telling a refusal (fix the URL) from an outage
 * (retry), and never the password. Against the real local PostgreSQL, in-process and through the built `jot-server`.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/index.js';
import {
  cleanup,
  freePort,
  requireBuiltServer,
  requireTestDatabase,
  runServerToExit,
  START_DEADLINE_MS,
  serverEnv,
  type TestDatabase,
} from './support/processes.js';

const db = await requireTestDatabase('the start-up database error tests');
afterAll(async () => {
  await cleanup();
  await db?.drop();
});

/** `db`'s URL with `change` applied (another role, database or port). */
function variant(change: (url: URL) => void): string {
  const url = new URL((db as TestDatabase).url);
  change(url);
  return url.href;
}
const missing = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;
const dataDir = '/nonexistent';

describe.skipIf(db === undefined)(
  'opening a PostgreSQL store that refuses or is not there',
  { timeout: 2 * START_DEADLINE_MS + 20_000 },
  () => {
    it('names a database that does not exist (3D000) as ERR_STORE_REFUSED', async () => {
      const name = missing('jot_nodb');
      const err = await openStore({ url: variant((u) => (u.pathname = `/${name}`)), dataDir }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_REFUSED' });
      expect((err as Error).message).toContain(`database "${name}" does not exist`);
      expect((err as Error).message).toContain('3D000');
    });

    it('names a role that does not exist (28000) as ERR_STORE_REFUSED, without the password', async () => {
      const role = missing('jot_norole');
      const url = variant((u) => {
        u.username = role;
        u.password = 'hunter2-SECRET';
      });
      const err = await openStore({ url, dataDir }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_REFUSED' });
      expect((err as Error).message).toContain(`role "${role}" does not exist`);
      expect((err as Error).message).toContain('28000');
      expect((err as Error).message).not.toContain('SECRET');
    });

    it('names the address of a closed port as ERR_STORE_UNAVAILABLE', async () => {
      const port = await freePort();
      const err = await openStore({ url: variant((u) => (u.port = String(port))), dataDir }).catch(
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' });
      expect((err as Error).message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    });
  },
);

describe.skipIf(db === undefined)('jot-server with a PostgreSQL URL that cannot be used', () => {
  beforeAll(() => requireBuiltServer());

  it('prints the code and the cause and exits 1, without the password', async () => {
    const role = missing('jot_norole');
    const name = missing('jot_nodb');
    const noRole = await runServerToExit(
      serverEnv({
        JOT_DATABASE_URL: variant((u) => {
          u.username = role;
          u.password = 'hunter2-SECRET';
        }),
      }),
    );
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toMatch(
      new RegExp(`jot-server: failed to start: ERR_STORE_REFUSED: .*role "${role}" does not exist`),
    );
    expect(noRole.stderr + noRole.stdout).not.toContain('SECRET');
    const noDb = await runServerToExit(
      serverEnv({ JOT_DATABASE_URL: variant((u) => (u.pathname = `/${name}`)) }),
    );
    expect(noDb.code).toBe(1);
    expect(noDb.stderr).toMatch(/ERR_STORE_REFUSED: .*database ".*" does not exist \(SQLSTATE 3D000\)/);
    expect(noDb.stderr).not.toContain('migration');
  });

  it('prints the refused address of a closed port', async () => {
    const port = await freePort();
    const r = await runServerToExit(serverEnv({ JOT_DATABASE_URL: variant((u) => (u.port = String(port))) }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `ERR_STORE_UNAVAILABLE: the database is unavailable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});
