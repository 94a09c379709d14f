/**
 * A sign-in racing the deletion of its own account answers `401 ERR_CREDENTIALS_CHANGED`, never a 500, on SQLite and
 * on PostgreSQL (F4 of the account-lifecycle review). The account passes the credential check and is deleted before
 * the sign-in writes its row (the session, or the MFA token of the password step): the database refuses the row on
 * its foreign key (`ERR_STORE_REFERENCE`), which answered 500. The race is forced: a hook deletes the account right
 * before the write. The same holds for any user-keyed write racing a deletion (here: enrolling an authenticator app),
 * since the error handler maps the store's reference error in one place. (The deletion runs from a wrapper around the
session service's `start`, after the credential check, the way account-deletion-races-sign-in.test.ts hooks the store.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/index.js';
import { totpCode } from '../src/services/totp.js';
import {
  signUp,
  signUpVerified,
  startServer,
  type TestResponse,
  type TestServer,
} from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import { assertionResponse, newCredential } from './support/soft-authenticator.js';
import { serverBackends } from './support/store-backends.js';
import { enrolTotp } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
const backends = await serverBackends('sign-in-racing-account-deletion-answers');

/** What the answer must be: the account is gone, so the client is told to sign in again. */
function expectCredentialsChanged(res: TestResponse): void {
  expect({ status: res.status, code: res.body.code, error: res.body.error }).toEqual({
    status: 401,
    code: 'ERR_CREDENTIALS_CHANGED',
    error: 'invalid_grant',
  });
  expect(res.body.error_description).toMatch(/sign in again/);
}

/** The next call of the MFA store's `name` first deletes `userId` (the MFA store is not a method of the Store). */
function deleteBeforeMfaWrite(
  real: Store,
  name: 'insertChallenge' | 'replacePendingTotp',
  userId: string,
): void {
  const mfa = real.mfa as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = mfa[name]!;
  mfa[name] = async (...args: unknown[]) => {
    mfa[name] = original;
    expect(await real.deleteUser(userId)).toMatchObject({ id: userId });
    return original(...args);
  };
}

describe.each(backends)('a sign-in racing the deletion of its account ($name)', (backend) => {
  let server: TestServer;
  let real: Store;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jot-signin-del-'));
    real = await backend.open(dataDir);
    server = await startServer({}, { dataDir, store: real });
    // The first account is the admin, whom deletion would refuse to remove as the last one.
    await signUp(server, 'admin@example.com', PASSWORD);
  });
  afterAll(async () => {
    await server?.close({ keepData: true });
    await real?.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * The next session started for `userId` (after its credential check) finds the account deleted just before its row
   * is written: the session service's `start` is wrapped once, as every sign-in route calls it.
   */
  function deleteBeforeSession(userId: string): Promise<void> {
    const sessions = server.app.jot.sessions;
    const start = sessions.start.bind(sessions);
    return new Promise((resolve) => {
      sessions.start = async (user, ...rest) => {
        if (user.id !== userId) return start(user, ...rest);
        sessions.start = start;
        expect(await real.deleteUser(userId)).toMatchObject({ id: userId });
        resolve();
        return start(user, ...rest);
      };
    });
  }

  const login = (email: string) =>
    server.request('POST', '/api/login', { body: { email, password: PASSWORD } });

  it('password sign-in: 401 ERR_CREDENTIALS_CHANGED, and no session', async () => {
    const user = await signUpVerified(server, 'password@example.com', PASSWORD);
    const deleted = deleteBeforeSession(user.userId);
    expectCredentialsChanged(await login('password@example.com'));
    await deleted;
    expect(await real.listSessionsForUser(user.userId)).toEqual([]);
  });

  it('MFA, the password step writing its MFA token: 401 ERR_CREDENTIALS_CHANGED', async () => {
    const user = await signUpVerified(server, 'mfa-first@example.com', PASSWORD);
    await enrolTotp(server, user.access_token);
    deleteBeforeMfaWrite(real, 'insertChallenge', user.userId);
    const res = await login('mfa-first@example.com');
    expectCredentialsChanged(res);
    expect(res.body.mfa_token).toBeUndefined();
  });

  it('MFA, the second step writing the session: 401 ERR_CREDENTIALS_CHANGED', async () => {
    const user = await signUpVerified(server, 'mfa-second@example.com', PASSWORD);
    // Enrolled with the previous step's code, so the sign-in's code (this step's) is not one already used.
    const { secret } = await enrolTotp(server, user.access_token, { at: Date.now() - 30_000 });
    const first = await login('mfa-second@example.com');
    expect(first.status).toBe(403);
    const deleted = deleteBeforeSession(user.userId);
    const res = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: first.body.mfa_token, code: totpCode(secret, Date.now()) },
    });
    expectCredentialsChanged(res);
    await deleted;
  });

  it('passkey sign-in: 401 ERR_CREDENTIALS_CHANGED', async () => {
    const user = await signUpVerified(server, 'passkey@example.com', PASSWORD);
    const credential = newCredential(user.userId);
    expect((await registerPasskey(server, user.access_token, credential)).status).toBe(201);
    const options = await server.request('POST', '/api/passkeys/login/options');
    expect(options.status).toBe(200);
    const deleted = deleteBeforeSession(user.userId);
    const res = await server.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, options.body, TEST_ORIGIN) },
    });
    expectCredentialsChanged(res);
    await deleted;
  });

  it('another user-keyed write, enrolling an authenticator app: 401 ERR_CREDENTIALS_CHANGED', async () => {
    const user = await signUpVerified(server, 'enrol@example.com', PASSWORD);
    deleteBeforeMfaWrite(real, 'replacePendingTotp', user.userId);
    expectCredentialsChanged(await server.request('POST', '/api/mfa/totp', { token: user.access_token }));
  });
});
