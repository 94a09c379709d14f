/**
 * A tab whose DPoP key is not the session's does not sign the other tabs out. In memory mode the tabs share one
 * session (refresh cookie, BroadcastChannel) bound to ONE key; with a per-tab key store (`memoryKeyStore()`, which
 * docs/dpop.md used to offer "for a per-tab key") tab B adopts tab A's bound access token, its request is refused,
 * and its refresh gets 400 invalid_dpop_proof (ERR_DPOP_KEY_MISMATCH). That refusal was broadcast as the end of the
 * session, signing tab A out although its session was intact (the proof is checked before the refresh token is
 * spent). Now only the tab whose proof was refused is signed out.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { cookieJar } from '../../../test-support/cookie-jar.js';
import { createClient, memoryKeyStore, type JotClient } from '../src/index.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;
const clients: JotClient[] = [];

beforeAll(async () => {
  server = await startServer();
  const reg = await server.request('POST', '/api/register', {
    body: { email: 'tabs-dpop@example.com', password: PASSWORD },
  });
  expect(reg.status).toBe(201);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('memory mode, DPoP with a per-tab key store, two tabs', () => {
  it('a request in tab B does not sign tab A out', async () => {
    const jar = cookieJar();
    const locks = fakeLocks();
    const tab = (): JotClient => {
      const c = createClient({
        baseUrl: server.url,
        mode: 'memory',
        dpop: memoryKeyStore(),
        fetch: jar.fetch,
        locks,
        storageKey: 'dpop-tabs',
      });
      clients.push(c);
      return c;
    };
    const a = tab();
    const b = tab();
    const endedA = vi.fn();
    a.on('session:ended', endedA);
    const endedB = vi.fn();
    b.on('session:ended', endedB);
    const started = next(b, 'session:started');
    await a.login('tabs-dpop@example.com', PASSWORD);
    await started; // tab B adopted tab A's DPoP-bound access token
    await b.whoami().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100)); // let tab B's broadcast reach tab A
    expect(endedB).toHaveBeenCalledWith({ reason: 'refresh-failed' }); // the tab without the session's key
    expect(endedA).not.toHaveBeenCalled();
    expect(a.signedIn).toBe(true);
    expect((await a.whoami()).user.email).toBe('tabs-dpop@example.com');
  });
});
