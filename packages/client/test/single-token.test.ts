/**
 * `@jot/client` in single-token mode (`tokenMode: 'single'`, the server's `JOT_TOKEN_MODE=single`) against the real
 * server: there is no refresh token, so the client renews the access token itself (`POST /api/token/renew`) before
 * it expires, stays signed in across many token lifetimes, renews once for two "tabs" (a shared lock and a real
 * BroadcastChannel), and signs out when a renewal is refused. Node's fetch keeps no cookies: bearer and memory
 * modes here; cookie mode is driven in Chromium by the web UI's tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createClient, JotClientError, type JotClient } from '../src/index.js';
import { snapshotFrom } from '../src/token-response.js';
import { fakeLocks } from './fake-locks.js';
import { times } from './session-events.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;
const clients: JotClient[] = [];

beforeAll(async () => {
  // A 3-second token: several lifetimes fit in a test. Renewals every 1.5 s need a higher per-session limit.
  server = await startServer({ tokenMode: 'single', accessTokenTtl: '3s', rateLimitRenew: '1000/min' });
  for (const email of ['single@example.com', 'tabs@example.com', 'ended@example.com']) {
    const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    expect(reg.status).toBe(201);
  }
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

/** A fetch that records every request made through it, as "METHOD /path status" (one per test: they run at once). */
function recorder(): { fetch: typeof fetch; calls: string[]; count: (prefix: string) => number } {
  const calls: string[] = [];
  return {
    calls,
    async fetch(input, init) {
      const request = new Request(input, init);
      const res = await fetch(request);
      calls.push(`${request.method} ${new URL(request.url).pathname} ${res.status}`);
      return res;
    },
    count: (prefix) => calls.filter((c) => c.startsWith(prefix)).length,
  };
}

function client(options: Partial<Parameters<typeof createClient>[0]> = {}): JotClient {
  const c = createClient({
    baseUrl: server.url,
    mode: 'bearer',
    tokenMode: 'single',
    fetch: recorder().fetch,
    locks: null,
    broadcast: false,
    ...options,
  });
  clients.push(c);
  return c;
}

// Concurrent: each test has an account and clients of its own, and most of a test is waiting for token lifetimes.
describe.concurrent('single-token mode against the real server', () => {
  it('stays signed in across several token lifetimes by renewing before expiry, with no refresh token', async () => {
    const { fetch, calls, count } = recorder();
    const jot = client({ fetch });
    const ended: unknown[] = [];
    jot.on('session:ended', (e) => ended.push(e));
    await jot.login('single@example.com', PASSWORD);
    const first = await jot.whoami();
    const renewed = times(jot, 'session:refreshed', 4);
    expect(await renewed).toHaveLength(4);
    // Four renewals of a 3-second token: well past the first token's expiry.
    expect(Date.now()).toBeGreaterThan(first.claims.exp * 1000);
    const now = await jot.whoami();
    expect(now.claims.sid).toBe(first.claims.sid);
    expect(now.claims.jti).not.toBe(first.claims.jti);
    expect(ended).toEqual([]);
    expect(count('POST /api/token/refresh')).toBe(0);
    expect(count('POST /api/token/renew 200')).toBeGreaterThanOrEqual(4);
    expect(calls.filter((c) => c.startsWith('POST /api/token/renew') && !c.endsWith(' 200'))).toEqual([]);
    await jot.logout();
  });

  it('two tabs sharing a lock and a channel renew once per lifetime between them, and neither is signed out', async () => {
    const locks = fakeLocks();
    const storageKey = `single-${Date.now()}`;
    const { fetch, count } = recorder();
    const a = client({ mode: 'memory', locks, broadcast: true, storageKey, fetch });
    const b = client({ mode: 'memory', locks, broadcast: true, storageKey, fetch });
    const ended: unknown[] = [];
    a.on('session:ended', (e) => ended.push(e));
    b.on('session:ended', (e) => ended.push(e));
    const before = count('POST /api/token/renew');
    const started = times(b, 'session:started', 1);
    await a.login('tabs@example.com', PASSWORD);
    await started;
    const aRenewed = times(a, 'session:refreshed', 3);
    const bRenewed = times(b, 'session:refreshed', 3);
    await Promise.all([aRenewed, bRenewed]);
    // Each renewal is announced to the other tab: both hold the same token, and each lifetime costs one request
    // (uncoordinated tabs would make six; a broadcast delayed on a busy machine may cost one extra, which the
    // server's grace window answers with the same token).
    expect(a.expiresAt).toBe(b.expiresAt);
    const renewals = count('POST /api/token/renew') - before;
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect(renewals).toBeLessThanOrEqual(5);
    const [wa, wb] = await Promise.all([a.whoami(), b.whoami()]);
    expect(wa.claims.jti).toBe(wb.claims.jti);
    expect(ended).toEqual([]);
  });

  it('signs out when a renewal is refused (the session was ended elsewhere)', async () => {
    const jot = client();
    await jot.login('ended@example.com', PASSWORD);
    const admin = await server.request('POST', '/api/login', {
      body: { email: 'ended@example.com', password: PASSWORD },
    });
    expect((await server.request('POST', '/api/logout-all', { token: admin.body.access_token })).status).toBe(
      204,
    );
    const [ended] = await times(jot, 'session:ended', 1);
    expect(ended).toEqual({ reason: 'refresh-failed' });
    expect(jot.signedIn).toBe(false);
  });
});

describe('single-token mode options', () => {
  it('refuses an unknown tokenMode when the client is created', () => {
    expect(() => createClient({ mode: 'bearer', tokenMode: 'rotate' as 'single' })).toThrow(
      /tokenMode must be 'refresh' or 'single'/,
    );
  });

  it('expects an access token and no refresh token in a bearer answer', () => {
    const body = { token_type: 'Bearer', expires_in: 60, access_token: 'at' };
    expect(snapshotFrom(body, 'bearer', 0, undefined, undefined, 'single')).toEqual({
      expiresAt: 60_000,
      accessToken: 'at',
    });
    expect(() =>
      snapshotFrom({ ...body, refresh_token: 'rt' }, 'bearer', 0, undefined, undefined, 'single'),
    ).toThrow(JotClientError);
    // The same answer is a mismatch for a client that expects refresh tokens.
    expect(() => snapshotFrom(body, 'bearer', 0)).toThrow(JotClientError);
  });
});
