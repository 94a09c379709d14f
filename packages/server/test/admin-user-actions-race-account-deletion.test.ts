/**
 * An admin's action on a user racing that user's deletion, on SQLite and on PostgreSQL: the account goes (the user
 * deletes it, or another admin does) after the admin's request was accepted and before its action ran. The answer
 * is then the one for an unknown user — 404 `ERR_NOT_FOUND`, "no such user" — with nothing done and nothing
 * recorded for the deleted account; never a success that acted on nobody, and never a 5xx. (Found by review: ending
 * the sessions of a user deleted meanwhile answered `{ revoked: 0 }` and left a `logout_all` event, with an address
 * and details, on an account whose deletion had just scrubbed every event of it down to the opaque user id.)
 *
 * Each race is made certain by a wrapper around the service call the action makes once it has read the user: the
 * competing deletion runs to completion first, then the call goes on. A deletion racing another deletion is one of
 * them: the account is deleted, and recorded as deleted, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreError, type Store } from '../src/store/index.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const FEED_SECRET = 'admin-actions-race-deletion-'.padEnd(40, 'x');

const backends = await serverBackends('admin-user-actions-race-account-deletion');

/**
 * The next call of `object[name]` whose arguments `matches` accepts first awaits `before()`, then goes on to the real
 * method. The wrapper takes itself out before `before()` runs, so the calls that makes pass straight through.
 * Resolves once `before()` has run.
 */
function beforeNextCall<T extends object, K extends keyof T>(
  object: T,
  name: K,
  matches: (...args: unknown[]) => boolean,
  before: () => Promise<void>,
): Promise<void> {
  const real = object[name] as (...args: unknown[]) => unknown;
  return new Promise((resolve, reject) => {
    const wrapper = async (...args: unknown[]): Promise<unknown> => {
      if (!matches(...args)) return real.apply(object, args);
      object[name] = real as T[K];
      try {
        await before();
        resolve();
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
      return real.apply(object, args);
    };
    object[name] = wrapper as T[K];
  });
}

/**
 * The next call of `object[name]` whose arguments `matches` accepts goes to the real method, then awaits `after()`
 * before its caller sees the result: what the caller does next comes after `after()` finished. Resolves once it has.
 */
function afterNextCall<T extends object, K extends keyof T>(
  object: T,
  name: K,
  matches: (...args: unknown[]) => boolean,
  after: () => Promise<void>,
): Promise<void> {
  const real = object[name] as (...args: unknown[]) => unknown;
  return new Promise((resolve, reject) => {
    const wrapper = async (...args: unknown[]): Promise<unknown> => {
      if (!matches(...args)) return real.apply(object, args);
      object[name] = real as T[K];
      const result = await real.apply(object, args);
      try {
        await after();
        resolve();
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
      return result;
    };
    object[name] = wrapper as T[K];
  });
}

describe.each(backends)('an admin action racing the account’s deletion ($name)', (backend) => {
  let dataDir: string;
  let store: Store;
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-admin-race-'));
    store = await backend.open(dataDir);
    server = await startServer({ revocationSecret: FEED_SECRET }, { dataDir, store });
    admin = await signUp(server, 'admin@example.com');
  });
  afterAll(async () => {
    await server?.close({ keepData: true });
    await store?.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The user deletes their own account (`DELETE /api/account`), all the way. */
  const deletesOwnAccount = (user: { access_token: string }) => async () => {
    const res = await server.request('DELETE', '/api/account', { token: user.access_token });
    expect(res.status, res.text).toBe(204);
  };

  /** The security events recorded for the user, newest first: type, address and details. */
  const eventsOf = async (userId: string) =>
    (await server.app.jot.store.listSecurityEvents({ limit: 100, userId })).map((e) => ({
      type: e.type,
      ip: e.ip,
      detail: e.detail,
    }));

  /** What the deletion leaves of the account's events: the `account_deleted` last, and none with an address. */
  async function expectOnlyDeletionRecorded(userId: string): Promise<void> {
    const events = await eventsOf(userId);
    expect(events[0]?.type).toBe('account_deleted');
    expect(events.filter((e) => e.ip !== null)).toEqual([]);
  }

  /** The feed's `user` entries for the user, oldest first, as a resource server would apply them. */
  async function userEntries(userId: string): Promise<Array<{ status?: unknown }>> {
    const feed = await server.request('GET', '/api/revocations', { token: FEED_SECRET });
    expect(feed.status).toBe(200);
    return (feed.body.entries as Array<{ kind: string; subject: string; data: { status?: unknown } }>)
      .filter((e) => e.kind === 'user' && e.subject === userId)
      .map((e) => e.data);
  }

  it('ending the sessions of a user deleted meanwhile answers 404 ERR_NOT_FOUND, and records nothing', async () => {
    const user = await signUp(server, 'ends-while-leaving@example.com');
    const deleted = beforeNextCall(
      server.app.jot.revocations,
      'revokeAllForUser',
      (userId, reason) => userId === user.userId && reason === 'logout_all',
      deletesOwnAccount(user),
    );
    const res = await server.request('DELETE', `/api/admin/users/${user.userId}/sessions`, {
      token: admin.access_token,
    });
    await deleted;
    expect(await server.app.jot.store.getUserById(user.userId)).toBeUndefined();
    // The same answer as for an id that never existed.
    expect(res.status, res.text).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND', error_description: 'no such user' });
    // Nothing was recorded after the deletion; the feed's last word on the account is the deletion's `disabled`.
    expect((await eventsOf(user.userId)).map((e) => e.type)).not.toContain('logout_all');
    await expectOnlyDeletionRecorded(user.userId);
    expect((await userEntries(user.userId)).at(-1)).toMatchObject({ status: 'disabled' });
  });

  it('resetting the second factors of a user deleted meanwhile answers 404 ERR_NOT_FOUND, and records nothing', async () => {
    const user = await signUp(server, 'reset-while-leaving@example.com');
    const deleted = beforeNextCall(
      server.app.jot.mfa.factors,
      'reset',
      (userId) => userId === user.userId,
      deletesOwnAccount(user),
    );
    const res = await server.request('DELETE', `/api/admin/users/${user.userId}/mfa`, {
      token: admin.access_token,
    });
    await deleted;
    expect(await server.app.jot.store.getUserById(user.userId)).toBeUndefined();
    expect(res.status, res.text).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND', error_description: 'no such user' });
    expect((await eventsOf(user.userId)).map((e) => e.type)).not.toContain('mfa_reset');
    await expectOnlyDeletionRecorded(user.userId);
  });

  // These already found the user with their own write (the UPDATE that changes the status or the roles): kept here so
  // they stay that way.
  it.each([
    ['disabling', 'POST', 'disable', undefined],
    ['enabling', 'POST', 'enable', undefined],
    ['changing the roles of', 'PUT', 'roles', { roles: ['editor'] }],
  ] as const)(
    '%s a user deleted meanwhile answers 404 ERR_NOT_FOUND, and records nothing',
    async (_action, method, path, body) => {
      const user = await signUp(server, `${path}-while-leaving@example.com`);
      const deleted = beforeNextCall(
        server.app.jot.revocations,
        'updateUser',
        () => true,
        deletesOwnAccount(user),
      );
      const res = await server.request(method, `/api/admin/users/${user.userId}/${path}`, {
        token: admin.access_token,
        body,
      });
      await deleted;
      expect(res.status, res.text).toBe(404);
      expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND', error_description: 'no such user' });
      await expectOnlyDeletionRecorded(user.userId);
      expect((await userEntries(user.userId)).at(-1)).toMatchObject({ status: 'disabled' });
    },
  );

  // Whatever write of an admin action the database refuses as referencing a row deleted meanwhile (a foreign key:
  // ERR_STORE_REFERENCE) is about the account the path names, not the admin's own sign-in: 404, not the 401
  // ERR_CREDENTIALS_CHANGED that the same race answers to a user's own request (http/target-gone.ts).
  it.each([
    ['disabling', 'POST', 'disable', undefined, 'updateUser'],
    ['changing the roles of', 'PUT', 'roles', { roles: ['editor'] }, 'updateUser'],
    ['ending the sessions of', 'DELETE', 'sessions', undefined, 'revokeAllForUser'],
  ] as const)(
    '%s a user whose row the database finds gone answers 404 ERR_NOT_FOUND, and the admin stays signed in',
    async (_action, method, path, body, call) => {
      const user = await signUp(server, `${path}-reference-gone@example.com`);
      // The next call of the service's write throws what the store throws for a foreign key to a deleted row.
      const revocations = server.app.jot.revocations as unknown as Record<string, unknown>;
      const real = revocations[call];
      revocations[call] = async () => {
        revocations[call] = real;
        throw new StoreError('ERR_STORE_REFERENCE', 'the referenced row does not exist');
      };
      try {
        const res = await server.request(method, `/api/admin/users/${user.userId}/${path}`, {
          token: admin.access_token,
          body,
        });
        expect(res.status, res.text).toBe(404);
        expect(res.body).toMatchObject({
          code: 'ERR_NOT_FOUND',
          error_description: expect.stringMatching(/^no such user: the account was deleted/),
        });
      } finally {
        revocations[call] = real;
      }
      const whoami = await server.request('GET', '/api/whoami', { token: admin.access_token });
      expect(whoami.status).toBe(200);
    },
  );

  /** Another admin deletes the account (`DELETE /api/admin/users/:id`), all the way. */
  const adminDeletes = (userId: string) => async () => {
    const res = await server.request('DELETE', `/api/admin/users/${userId}`, { token: admin.access_token });
    expect(res.status, res.text).toBe(204);
  };

  // The deletion comes after the action took effect, before the action's request ends. (Found by review: the
  // action's event was written after its transaction, so it landed after the deletion had scrubbed the account's
  // events, with the admin's address and details.) The action succeeded and answers so; its event is either written
  // with the change — and scrubbed by the deletion — or not at all.
  it.each([
    ['disabling', 'POST', 'disable', undefined, 'updateUser'],
    ['enabling', 'POST', 'enable', undefined, 'updateUser'],
    ['changing the roles of', 'PUT', 'roles', { roles: ['editor', 'admin'] }, 'updateUser'],
    ['ending the sessions of', 'DELETE', 'sessions', undefined, 'revokeAllForUser'],
  ] as const)(
    '%s a user deleted right after the change took effect leaves no event behind the deletion',
    async (_action, method, path, body, call) => {
      const user = await signUp(server, `${path}-then-deleted@example.com`);
      const deleted = afterNextCall(
        server.app.jot.revocations,
        call,
        (arg) => call === 'updateUser' || arg === user.userId,
        adminDeletes(user.userId),
      );
      const res = await server.request(method, `/api/admin/users/${user.userId}/${path}`, {
        token: admin.access_token,
        body,
      });
      await deleted;
      expect(res.status, res.text).toBe(200);
      expect(await server.app.jot.store.getUserById(user.userId)).toBeUndefined();
      await expectOnlyDeletionRecorded(user.userId);
    },
  );

  it('resetting the second factors of a user deleted right after the reset leaves no event behind the deletion', async () => {
    const user = await signUp(server, 'reset-then-deleted@example.com');
    const deleted = afterNextCall(
      server.app.jot.mfa.factors,
      'reset',
      (userId) => userId === user.userId,
      adminDeletes(user.userId),
    );
    const res = await server.request('DELETE', `/api/admin/users/${user.userId}/mfa`, {
      token: admin.access_token,
    });
    await deleted;
    expect(res.status, res.text).toBe(200);
    expect((await eventsOf(user.userId)).map((e) => e.type)).not.toContain('mfa_reset');
    await expectOnlyDeletionRecorded(user.userId);
  });

  it('deleting a user who deleted their account meanwhile answers 404 ERR_NOT_FOUND; the account is deleted once', async () => {
    const user = await signUp(server, 'deleted-twice@example.com');
    const deleted = beforeNextCall(
      server.app.jot.revocations,
      'revokeAllForUser',
      (userId, reason) => userId === user.userId && reason === 'account_deleted',
      deletesOwnAccount(user),
    );
    const res = await server.request('DELETE', `/api/admin/users/${user.userId}`, {
      token: admin.access_token,
    });
    await deleted;
    expect(await server.app.jot.store.getUserById(user.userId)).toBeUndefined();
    expect(res.status, res.text).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND', error_description: 'no such user' });
    // The user's own deletion is the one recorded, once.
    const recorded = (
      await server.app.jot.store.listSecurityEvents({ limit: 100, userId: user.userId })
    ).filter((e) => e.type === 'account_deleted');
    expect(recorded.map((e) => e.detail)).toEqual([{ by: 'self' }]);
    await expectOnlyDeletionRecorded(user.userId);
  });
});
