/**
 * `changePassword` keeps the session that changed the password signed in, and `confirmTotp` adopts the multi-factor
 * tokens of its answer. POST /api/password answers with the tokens the session goes on with (a NEW refresh token;
 * every earlier access token and the old refresh token stop working at once — docs/http-api.md). The client had no
 * password-change call and `json()` dropped those tokens, so a bearer client was signed out by its own password
 * change: the next request was 401, the refresh with the replaced refresh token 401 ERR_REFRESH_TOKEN_INVALID, and
 * the session ended ('refresh-failed').
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import { startServer, verifyAddressOf, type TestServer } from '../../server/test/support/jot-server.js';
import { cookieJar } from '../../../test-support/cookie-jar.js';
import { createClient, JotClientError, type JotClient } from '../src/index.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'another horse battery staple';
let server: TestServer;

async function register(email: string): Promise<void> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect(reg.status).toBe(201);
}

/** The cut-off is per second: let the sign-in's second pass so the old tokens are clearly "earlier". */
const nextSecond = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));

beforeAll(async () => {
  server = await startServer();
  await register('pw@example.com');
  await register('pw-tabs@example.com');
  await register('totp@example.com');
  // It adds an authenticator app, which needs a verified address.
  await verifyAddressOf(server, { email: 'totp@example.com' });
});
afterAll(() => server?.close());

describe('password change through the client', () => {
  it('keeps the session that changed the password signed in (bearer)', async () => {
    const client: JotClient = createClient({
      mode: 'bearer',
      baseUrl: server.url,
      locks: null,
      broadcast: false,
    });
    const ended = vi.fn();
    client.on('session:ended', ended);
    try {
      await client.login('pw@example.com', PASSWORD);
      await nextSecond();
      await client.changePassword(PASSWORD, NEW_PASSWORD);
      const who = await client.whoami().catch((e: unknown) => e);
      expect(ended).not.toHaveBeenCalled();
      expect(client.signedIn).toBe(true);
      expect(who).toMatchObject({ user: { email: 'pw@example.com' } });
      // The new refresh token is the one held: a refresh works.
      await client.fetch('/api/whoami');
      expect(client.signedIn).toBe(true);
    } finally {
      client.close();
    }
  });

  it('keeps both tabs signed in (memory mode: the new access token reaches the other tab)', async () => {
    const jar = cookieJar();
    const locks = fakeLocks();
    const tab = (): JotClient =>
      createClient({ baseUrl: server.url, mode: 'memory', fetch: jar.fetch, locks, storageKey: 'pw-tabs' });
    const [a, b] = [tab(), tab()];
    const ended = vi.fn();
    a.on('session:ended', ended);
    b.on('session:ended', ended);
    try {
      const started = next(b, 'session:started');
      await a.login('pw-tabs@example.com', PASSWORD);
      await started;
      await nextSecond();
      const refreshed = next(b, 'session:refreshed');
      await a.changePassword(PASSWORD, NEW_PASSWORD);
      await refreshed;
      expect((await a.whoami()).user.email).toBe('pw-tabs@example.com');
      expect((await b.whoami()).user.email).toBe('pw-tabs@example.com');
      expect(ended).not.toHaveBeenCalled();
    } finally {
      a.close();
      b.close();
    }
  });

  it('throws ERR_INVALID_CREDENTIALS for a wrong current password, and the session stays', async () => {
    const client = createClient({ mode: 'bearer', baseUrl: server.url, locks: null, broadcast: false });
    try {
      await client.login('pw@example.com', NEW_PASSWORD);
      const err = await client.changePassword('not it', 'yet another horse battery').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JotClientError);
      expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 403 });
      expect(client.signedIn).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe('authenticator app confirmation through the client', () => {
  it('adopts the multi-factor tokens of the answer and returns the recovery codes', async () => {
    const client = createClient({ mode: 'bearer', baseUrl: server.url, locks: null, broadcast: false });
    try {
      await client.login('totp@example.com', PASSWORD);
      const start = await client.json<{ factor_id: string; secret: string }>('/api/mfa/totp', {
        method: 'POST',
      });
      const confirmed = await client.confirmTotp(
        start.factor_id,
        totpCode(base32Decode(start.secret), Date.now()),
      );
      expect(confirmed.recoveryCodes).toHaveLength(10);
      expect((await client.whoami()).claims.acr).toBe('aal2');
    } finally {
      client.close();
    }
  });
});
