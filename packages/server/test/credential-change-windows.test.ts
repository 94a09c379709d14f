/**
 * The race windows of credential changes, opened wide on purpose, on SQLite and on PostgreSQL: a store hook makes a
 * second real request commit at the worst moment of the first, so each outcome is deterministic (account-races
 * proves the same rules statistically, by racing many requests):
 * - a sign-in whose session commits just as a password change, or a disable, commits: 401 `ERR_CREDENTIALS_CHANGED`,
 *   and the session it created is already over;
 * - a password change whose compare-and-swap finds another password change committed meanwhile: 409
 *   `ERR_PASSWORD_CHANGED_MEANWHILE`, and the other change stands;
 * - …whereas a rehash of the same password (argon2 parameters changed) committed meanwhile is not a conflict.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPasswordHasher, openStore } from '../src/index.js';
import { hookStore, type HookedStore } from './support/hooked-store.js';
import { requirePostgres } from './support/postgres.js';
import { signUp, startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { enrolTotp } from './support/totp-enrolment.js';

const pg = await requirePostgres('credential-change-windows');

const PASSWORD = 'correct horse battery';
const SETTINGS = { loginLockout: '100000/1s', rateLimitAuth: '100000/min' } as const;

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
] as const)('credential-change windows on %s', (_name, onPostgres) => {
  const skip = onPostgres && pg === undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-windows-'));
  let server: TestServer;
  let hooked: HookedStore;
  let admin: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    if (skip) return;
    const real = onPostgres
      ? await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } })
      : await openStore({ dataDir });
    hooked = hookStore(real);
    server = await startServer(SETTINGS, { dataDir, store: hooked.store });
    admin = await signUp(server, 'admin@example.com', PASSWORD);
  });
  afterAll(async () => {
    if (skip) return;
    await server.close({ keepData: true });
    await hooked.store.close();
    if (onPostgres) await pg!.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const login = (email: string, password: string) =>
    server.request('POST', '/api/login', { body: { email, password } });

  /**
   * Runs `change` (a real request) right after the next session row commits, before the sign-in reads the user
   * again; resolves to that session's id once the hook is done.
   */
  async function afterNextSessionCommits(change: () => Promise<void>): Promise<() => string> {
    let created: string | undefined;
    void hooked.once('startSession', async (call) => {
      const result = await call();
      expect(result).toMatchObject({ id: expect.any(String), absoluteExpiresAt: expect.any(Number) });
      created = (result as { id: string }).id;
      await change();
      return result;
    });
    return () => {
      if (created === undefined) throw new Error('no session was created');
      return created;
    };
  }

  /** Whether the session still counts as live (neither revoked nor expired). */
  async function live(sessionId: string): Promise<boolean> {
    const session = await server.app.jot.store.getSession(sessionId);
    return session !== undefined && session.revokedAt === null;
  }

  it.skipIf(skip)(
    'a sign-in whose session commits as the password changes gets 401 ERR_CREDENTIALS_CHANGED and keeps nothing',
    async () => {
      const email = 'signing-in@example.com';
      const user = await signUp(server, email, PASSWORD);
      const createdSession = await afterNextSessionCommits(async () => {
        const changed = await server.request('POST', '/api/password', {
          token: user.access_token,
          body: { current_password: PASSWORD, new_password: 'the changed passphrase' },
        });
        expect(changed.status).toBe(200);
      });
      const res = await login(email, PASSWORD);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_CREDENTIALS_CHANGED', error: 'invalid_grant' });
      expect(res.body.error_description).toMatch(/sign in again/);
      // The session the sign-in created is already over, and no token of it was issued.
      expect(await live(createdSession())).toBe(false);
      expect(res.body.access_token).toBeUndefined();
      // The old password no longer signs in; the new one does.
      expect((await login(email, PASSWORD)).status).toBe(401);
      expect((await login(email, 'the changed passphrase')).status).toBe(200);
    },
  );

  it.skipIf(skip)(
    'a second step whose session commits as the password changes gets 401; its recovery code is given back, the refusal recorded',
    async () => {
      const email = 'second-step@example.com';
      const user = await signUpVerified(server, email, PASSWORD);
      const { confirmed } = await enrolTotp(server, user.access_token);
      const recovery = confirmed.body.recovery_codes as string[];
      const password = await login(email, PASSWORD);
      expect(password.status).toBe(403);
      await afterNextSessionCommits(async () => {
        const changed = await server.request('POST', '/api/password', {
          token: confirmed.body.access_token as string,
          body: { current_password: PASSWORD, new_password: 'the changed passphrase' },
        });
        expect(changed.status).toBe(200);
      });
      const second = (mfaToken: unknown) =>
        server.request('POST', '/api/login/mfa', {
          body: { mfa_token: mfaToken, recovery_code: recovery[0] },
        });
      const refused = await second(password.body.mfa_token);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('ERR_CREDENTIALS_CHANGED');
      expect(await server.app.jot.store.mfa.countRecoveryCodes(user.userId)).toBe(10);
      const events = await server.app.jot.store.listSecurityEvents({ limit: 50, type: 'mfa_failed' });
      expect(events.find((e) => e.userId === user.userId)?.detail).toEqual({
        code: 'ERR_CREDENTIALS_CHANGED',
        proof_accepted: true,
      });
      // The code still signs in once, with the new password.
      const again = await login(email, 'the changed passphrase');
      expect((await second(again.body.mfa_token)).status).toBe(200);
      expect(await server.app.jot.store.mfa.countRecoveryCodes(user.userId)).toBe(9);
    },
  );

  it.skipIf(skip)(
    'a sign-in whose session commits as an admin disables the account gets 401 ERR_CREDENTIALS_CHANGED, also after a re-enable',
    async () => {
      const email = 'being-disabled@example.com';
      const user = await signUp(server, email, PASSWORD);
      const createdSession = await afterNextSessionCommits(async () => {
        const disabled = await server.request('POST', `/api/admin/users/${user.userId}/disable`, {
          token: admin.access_token,
        });
        expect(disabled.status).toBe(200);
      });
      const res = await login(email, PASSWORD);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_CREDENTIALS_CHANGED');
      expect(await live(createdSession())).toBe(false);
      const enabled = await server.request('POST', `/api/admin/users/${user.userId}/enable`, {
        token: admin.access_token,
      });
      expect(enabled.status).toBe(200);
      // Every session the user had is over, the raced one included (not revived by the enable); a new sign-in works.
      expect(await live(createdSession())).toBe(false);
      expect(await server.app.jot.store.listSessionsForUser(user.userId)).toEqual([]);
      expect((await server.request('GET', '/api/whoami', { token: user.access_token })).status).toBe(401);
      expect((await login(email, PASSWORD)).status).toBe(200);
    },
  );

  it.skipIf(skip)(
    'a password change whose compare-and-swap finds another change committed gets 409 ERR_PASSWORD_CHANGED_MEANWHILE',
    async () => {
      const email = 'two-changes@example.com';
      const first = await signUp(server, email, PASSWORD);
      const second = (await login(email, PASSWORD)).body;
      // The other session's change commits between the first one's check and its write (the transaction that writes
      // the new hash with the cut-off).
      const hookDone = hooked.once('transaction', async (call) => {
        const other = await server.request('POST', '/api/password', {
          token: second.access_token,
          body: { current_password: PASSWORD, new_password: 'the second change wins' },
        });
        expect(other.status).toBe(200);
        return call();
      });
      const res = await server.request('POST', '/api/password', {
        token: first.access_token,
        body: { current_password: PASSWORD, new_password: 'the first change loses' },
      });
      await hookDone;
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_PASSWORD_CHANGED_MEANWHILE');
      expect(res.body.error_description).toMatch(/changed meanwhile/);
      expect((await login(email, 'the first change loses')).status).toBe(401);
      expect((await login(email, 'the second change wins')).status).toBe(200);
    },
  );

  it.skipIf(skip)(
    'a rehash of the same password committed meanwhile is no conflict: the change goes through',
    async () => {
      const email = 'rehashed-meanwhile@example.com';
      const user = await signUp(server, email, PASSWORD);
      const other = await createPasswordHasher({ memoryKiB: 2048, timeCost: 2, parallelism: 1 });
      // Before the transaction that writes the new hash with the cut-off: what a sign-in's rehash after a parameter
      // change writes (the same password, another hash).
      const hookDone = hooked.once('transaction', async (call) => {
        const rehashed = await hooked.store.updatePasswordHash(user.userId, await other.hash(PASSWORD));
        expect(rehashed).toBeDefined();
        return call();
      });
      const res = await server.request('POST', '/api/password', {
        token: user.access_token,
        body: { current_password: PASSWORD, new_password: 'changed after a rehash' },
      });
      await hookDone;
      expect(res.status).toBe(200);
      expect((await login(email, 'changed after a rehash')).status).toBe(200);
      expect((await login(email, PASSWORD)).status).toBe(401);
    },
  );
});
