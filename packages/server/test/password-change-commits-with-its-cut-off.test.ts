/**
 * A password change (POST /api/password) and a password reset (POST /api/password/reset) end every other session of
 * the account. The new hash and that cut-off (with its feed entries) must commit together: when the transaction
 * fails (a deadlock victim, a failover, a pool timeout, a shutdown) the answer is 503 and NOTHING changed — not the
 * password changed with every other session (an attacker's, say) still alive, and the owner unable to retry because
 * the old password no longer matches.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { StoreError } from '../src/store/errors.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { hookStore, type HookedStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

const OLD = 'correct horse battery';
const NEW = 'a brand new passphrase';

let server: TestServer;
let real: Store;
let hooked: HookedStore;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-password-cutoff-'));
  real = await openStore({ url: ':memory:', dataDir });
  hooked = hookStore(real);
  server = await startServer({}, { store: hooked.store, dataDir });
});
afterAll(async () => {
  await server.close();
  await real.close();
});

/** The next transaction does all its work, then fails to commit (the connection is lost at COMMIT). */
function failNextCommit(): Promise<void> {
  return hooked.once('transaction', (_call, [work]) =>
    real.transaction(async (tx) => {
      await work(tx);
      throw new StoreError('ERR_STORE_UNAVAILABLE', 'the database is unavailable');
    }),
  );
}

const login = (email: string, password: string) =>
  server.request('POST', '/api/login', { body: { email, password } });

/** Whether the session of these tokens still works: its access token and a refresh. */
async function alive(tokens: { access_token: string; refresh_token: string }): Promise<boolean> {
  const whoami = await server.request('GET', '/api/whoami', { token: tokens.access_token });
  const refresh = await server.request('POST', '/api/token/refresh', {
    body: { refresh_token: tokens.refresh_token },
  });
  return whoami.status === 200 && refresh.status === 200;
}

it('a password change that fails to commit changes nothing, and the retry cuts the other sessions off', async () => {
  const owner = await signUp(server, 'change@example.com', OLD);
  const other = (await login('change@example.com', OLD)).body;
  const body = { current_password: OLD, new_password: NEW };

  const failed = failNextCommit();
  const change = await server.request('POST', '/api/password', { token: owner.access_token, body });
  await failed;
  expect(change.status).toBe(503);
  expect((await login('change@example.com', NEW)).status).toBe(401);
  expect((await login('change@example.com', OLD)).status).toBe(200);

  const retry = await server.request('POST', '/api/password', { token: owner.access_token, body });
  expect(retry.status).toBe(200);
  expect(await alive(other)).toBe(false);
  expect((await login('change@example.com', NEW)).status).toBe(200);
});

it('a password reset that fails to commit leaves the old password, the sessions and the link as they were', async () => {
  const { userId } = await signUp(server, 'reset@example.com', OLD);
  const other = (await login('reset@example.com', OLD)).body;
  // The link the forgotten-password mail would carry.
  const { oneTimeTokens } = server.app.jot;
  const user = (await real.getUserById(userId))!;
  const { token } = await oneTimeTokens.issue('password_reset', {
    subject: userId,
    email: user.email,
    ttlMs: 60_000,
    claims: { pwd: oneTimeTokens.credentialMac(user.passwordHash) },
  });

  const failed = failNextCommit();
  const reset = await server.request('POST', '/api/password/reset', {
    body: { token, new_password: NEW },
  });
  await failed;
  expect(reset.status).toBe(503);
  // Either all of it or none of it: no new password while the other session lives on.
  expect((await login('reset@example.com', NEW)).status).toBe(401);
  expect((await login('reset@example.com', OLD)).status).toBe(200);
  expect(await alive(other)).toBe(true);

  // The link was not spent by the failed attempt (it is consumed in the same transaction): the retry works.
  const retry = await server.request('POST', '/api/password/reset', { body: { token, new_password: NEW } });
  expect(retry.status).toBe(200);
  expect(await alive(other)).toBe(false);
  expect((await login('reset@example.com', NEW)).status).toBe(200);
  const again = await server.request('POST', '/api/password/reset', { body: { token, new_password: OLD } });
  expect(again.body).toMatchObject({ code: 'ERR_LINK_USED' });
});
