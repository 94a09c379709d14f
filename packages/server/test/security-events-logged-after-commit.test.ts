/**
 * Regression (review, session 22): an event recorded inside a transaction (`recordAboutUser(…, tx)`) was logged when
 * it was written, so a change that then rolled back (the last admin's demotion refused, a lost connection) left a log
 * line for something that never happened. The log line now follows the commit, and a rollback leaves none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createSecurityEvents } from '../src/services/security-events.js';
import { openStore, type Store } from '../src/store/index.js';
import { requirePostgres } from './support/postgres.js';

const pg = await requirePostgres('the failed-COMMIT case');

describe('security events recorded in a transaction', () => {
  let dir: string;
  let store: Store;
  let lines: string[];
  let userId: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jot-events-commit-'));
    store = await openStore({ dataDir: dir });
    userId = (await store.createUser({ email: 'events@example.com', passwordHash: 'h' })).id;
    lines = [];
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = () =>
    createSecurityEvents(store, {
      info: (facts) => lines.push(String(facts.securityEvent)),
      warn: (facts) => lines.push(String(facts.securityEvent)),
    });

  it('logs nothing for an event whose transaction rolls back', async () => {
    const recorder = events();
    const failure = new Error('the change is refused after its event was written');
    await expect(
      store.transaction(async (tx) => {
        expect(await recorder.recordAboutUser('roles_changed', { userId }, tx)).toBe(true);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(lines).toEqual([]);
    const stored = await store.listSecurityEvents({ limit: 10 });
    expect(stored.filter((e) => e.type === 'roles_changed')).toEqual([]);
  });

  it('logs the event once its transaction commits, not before', async () => {
    const recorder = events();
    await store.transaction(async (tx) => {
      await recorder.recordAboutUser('roles_changed', { userId }, tx);
      // Still inside the transaction: nothing is known to have happened yet.
      expect(lines).toEqual([]);
      // A nested transaction joins the outer one: its events wait for the outer commit too.
      await tx.transaction(async (inner) => {
        await recorder.recordAboutUser('admin_created', { userId }, inner);
      });
      expect(lines).toEqual([]);
    });
    expect(lines).toEqual(['roles_changed', 'admin_created']);
  });

  it('logs an event recorded outside any transaction when it is written', async () => {
    const recorder = events();
    await recorder.recordAboutUser('logout_all', { userId });
    expect(lines).toEqual(['logout_all']);
  });
});

/**
 * A COMMIT that itself fails (here PostgreSQL refusing at commit, as a deferred constraint or a serialization
 * failure does): the work ran to its end without error, but nothing was committed. The caller gets the error, the
 * `afterCommit` callbacks do not run, and so no log line reports the event that was never stored.
 */
describe.runIf(pg !== undefined)(
  'security events recorded in a transaction whose COMMIT fails (PostgreSQL)',
  () => {
    let dir: string;
    let store: Store;
    let userId: string;

    beforeAll(async () => {
      if (pg === undefined) return;
      dir = mkdtempSync(join(tmpdir(), 'jot-events-commit-pg-'));
      store = await openStore({ url: pg.url, dataDir: dir, postgres: { schema: pg.schema } });
      userId = (await store.createUser({ email: 'commit-fails@example.com', passwordHash: 'h' })).id;
      // Checked only at COMMIT: a roles_changed event makes the commit fail with a serialization failure.
      const { default: pgDriver } = await import('pg');
      const client = new pgDriver.Client({ connectionString: pg.url });
      await client.connect();
      try {
        await client.query(`SET search_path TO ${pg.schema}`);
        await client.query(`CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused at commit' USING ERRCODE = '40001'; END $$`);
        await client.query(`CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON security_events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.type = 'roles_changed')
        EXECUTE FUNCTION refuse_at_commit()`);
      } finally {
        await client.end();
      }
    });
    afterAll(async () => {
      await store?.close();
      await pg?.drop();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('runs no afterCommit callback and hands the caller the COMMIT error', async () => {
      const lines: string[] = [];
      const recorder = createSecurityEvents(store, {
        info: (facts) => lines.push(String(facts.securityEvent)),
        warn: (facts) => lines.push(String(facts.securityEvent)),
      });
      let callbacks = 0;
      let workFinished = false;
      await expect(
        store.transaction(async (tx) => {
          expect(await recorder.recordAboutUser('roles_changed', { userId }, tx)).toBe(true);
          tx.afterCommit(() => (callbacks += 1));
          await tx.transaction(async (inner) => inner.afterCommit(() => (callbacks += 1)));
          workFinished = true;
          return 'done';
        }),
      ).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
      expect(workFinished).toBe(true);
      expect(callbacks).toBe(0);
      expect(lines).toEqual([]);
      expect(await store.listSecurityEvents({ limit: 10, userId })).toEqual([]);

      // The same work with an event the database accepts commits, and only then runs the callbacks.
      await store.transaction(async (tx) => {
        await recorder.recordAboutUser('admin_created', { userId }, tx);
        tx.afterCommit(() => (callbacks += 1));
      });
      expect(callbacks).toBe(1);
      expect(lines).toEqual(['admin_created']);
    });
  },
);
