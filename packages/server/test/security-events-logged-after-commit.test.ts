/**
 * Regression (review, session 22): an event recorded inside a transaction (`recordAboutUser(…, tx)`) was logged when
 * it was written, so a change that then rolled back (the last admin's demotion refused, a lost connection) left a log
 * line for something that never happened. The log line now follows the commit, and a rollback leaves none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createSecurityEvents } from '../src/services/security-events.js';
import { openStore, type Store } from '../src/store/index.js';

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
