/**
 * The per-session refresh limit (`JOT_REFRESH_SESSION_LIMIT`): a signed-in client rotating its refresh token in a
 * loop used to add a `refresh_tokens` row per rotation, kept until the session ends, with nothing but a step-up
 * (`refresh_anomaly`) in its way. Now, once a session has rotated that many times within one access-token lifetime,
 * its refreshes are refused — 429 `ERR_REFRESH_LIMITED` with `Retry-After` at `/api/token/refresh`, 429
 * `invalid_request` with the same code at `/oauth/token` — without spending the token, until the oldest counted
 * rotation leaves the window. The count is read from the database, so two instances share it. A client refreshing
 * once per access-token lifetime, with several tabs and retries, never meets it at the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { postForm } from './support/oauth.js';

const PASSWORD = 'correct horse battery';
const LIMIT = 8;
const TTL_S = 900;

async function signIn(
  server: TestServer,
  email: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const res = await server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function register(server: TestServer, email: string): Promise<void> {
  const res = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect(res.status, res.text).toBe(201);
}

const refresh = (server: TestServer, token: string): Promise<TestResponse> =>
  server.request('POST', '/api/token/refresh', { body: { refresh_token: token } });

describe(`a session that rotates ${LIMIT} times within one access-token lifetime`, () => {
  let a: TestServer;
  let b: TestServer;
  let now = Date.UTC(2026, 2, 2, 9, 0, 0);
  const settings = {
    refreshSessionLimit: LIMIT,
    refreshAnomalyLimit: 5,
    accessTokenTtl: `${TTL_S}s`,
    refreshGraceWindow: '10s',
  };
  beforeAll(async () => {
    a = await startServer(settings, { clock: () => now });
    // A second instance on the same database (SQLite file): it counts what the first rotated.
    b = await startServer(settings, { clock: () => now, dataDir: a.dataDir });
  });
  afterAll(async () => {
    await b?.close({ keepData: true });
    await a?.close();
  });

  it('is refused with 429 ERR_REFRESH_LIMITED and Retry-After, on either instance; the token stays usable', async () => {
    await register(a, 'looper@example.com');
    let token = (await signIn(a, 'looper@example.com')).refresh_token;
    const first = now;
    for (let i = 0; i < LIMIT; i++) {
      now += 1_000;
      const res = await refresh(i % 2 === 0 ? a : b, token);
      expect(res.status, res.text).toBe(200);
      token = res.body.refresh_token;
    }
    for (const server of [a, b]) {
      const refused = await refresh(server, token);
      expect(refused.status, refused.text).toBe(429);
      expect(refused.body.code).toBe('ERR_REFRESH_LIMITED');
      // The first counted rotation (a second after sign-in) leaves the window a lifetime after it.
      expect(Number(refused.headers.get('retry-after'))).toBe(TTL_S - (now - (first + 1_000)) / 1000);
      expect(refused.body.error_description).toMatch(/try again in \d+ s/);
    }
    const oauth = await postForm(a, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: 'jot',
    });
    expect(oauth.status, oauth.text).toBe(429);
    expect(oauth.body).toMatchObject({ error: 'invalid_request', code: 'ERR_REFRESH_LIMITED' });
    expect(Number(oauth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The refusals spent nothing: once the oldest rotation has left the window, the same token refreshes.
    now = first + 1_000 + TTL_S * 1000 + 1;
    const again = await refresh(b, token);
    expect(again.status, again.text).toBe(200);
    // One place freed, one used: the next is refused again until the next oldest leaves.
    expect((await refresh(a, again.body.refresh_token)).status).toBe(429);
  });

  it('a repeat within the grace window is no rotation: it still gets its successor at the limit', async () => {
    await register(a, 'tabs@example.com');
    let token = (await signIn(a, 'tabs@example.com')).refresh_token;
    let previous = token;
    for (let i = 0; i < LIMIT; i++) {
      now += 1_000;
      const res = await refresh(a, token);
      expect(res.status, res.text).toBe(200);
      previous = token;
      token = res.body.refresh_token;
    }
    const repeat = await refresh(b, previous);
    expect(repeat.status, repeat.text).toBe(200);
    expect(repeat.body.refresh_token).toBe(token);
  });

  it('reuse of a spent token still ends the session at the limit', async () => {
    await register(a, 'reuse@example.com');
    const original = (await signIn(a, 'reuse@example.com')).refresh_token;
    let token = original;
    for (let i = 0; i < LIMIT; i++) {
      now += 11_000;
      const res = await refresh(a, token);
      expect(res.status, res.text).toBe(200);
      token = res.body.refresh_token;
    }
    const reused = await refresh(a, original);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
    // The session ended with its refresh tokens: the current one is no longer held.
    const after = await refresh(a, token);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
  });
});

describe('JOT_REFRESH_SESSION_LIMIT', () => {
  it('is refused at start when not above JOT_REFRESH_ANOMALY_LIMIT (the signal would never fire)', () => {
    const load = (env: Record<string, string>) => () =>
      loadConfig({ env, file: false, overrides: { nodeEnv: 'test' } });
    expect(load({ JOT_REFRESH_SESSION_LIMIT: '5' })).toThrow(
      /JOT_REFRESH_SESSION_LIMIT.*JOT_REFRESH_ANOMALY_LIMIT/s,
    );
    expect(load({ JOT_REFRESH_SESSION_LIMIT: '6' })).not.toThrow();
    expect(load({ JOT_REFRESH_SESSION_LIMIT: 'many' })).toThrow(/JOT_REFRESH_SESSION_LIMIT/);
  });

  it('left unset, stays above an anomaly limit the operator raised: an upgrade does not stop a start', () => {
    const config = loadConfig({
      env: { JOT_REFRESH_ANOMALY_LIMIT: '40' },
      file: false,
      overrides: { nodeEnv: 'test' },
    });
    expect(config.refreshSessionLimit).toBe(41);
    expect(loadConfig({ env: {}, file: false, overrides: { nodeEnv: 'test' } }).refreshSessionLimit).toBe(30);
  });
});

describe('a client refreshing as clients do never meets the default limit', () => {
  let server: TestServer;
  let now = Date.UTC(2026, 2, 3, 0, 0, 0);
  beforeAll(async () => {
    // The defaults, but a session that lives the whole simulated day.
    server = await startServer(
      { refreshIdleTimeout: '30d', sessionMaxLifetime: '30d' },
      { clock: () => now },
    );
  });
  afterAll(() => server?.close());

  it('five tabs each refreshing once per lifetime, with retries, for a day: never 429', async () => {
    const defaults = loadConfig({ env: {}, file: false, overrides: { nodeEnv: 'test' } });
    expect(defaults.refreshSessionLimit).toBe(30);
    expect(server.config.refreshSessionLimit).toBe(30);
    const ttlMs = server.config.accessTokenTtlMs;
    await register(server, 'tabs-all-day@example.com');
    // One session (the refresh cookie or shared storage): every tab refreshes with the current token.
    let current = (await signIn(server, 'tabs-all-day@example.com')).refresh_token;
    let previous = current;
    const tabs = 5;
    const start = now;
    const statuses = new Map<number, number>();
    for (let lifetime = 0; lifetime < (24 * 3_600_000) / ttlMs; lifetime++) {
      for (let tab = 0; tab < tabs; tab++) {
        // Each tab at its own moment, 80 % into its access token's lifetime.
        now = start + lifetime * ttlMs + Math.floor((tab * ttlMs) / tabs) + Math.floor(ttlMs * 0.8) / tabs;
        const res = await refresh(server, current);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 200) continue;
        previous = current;
        current = res.body.refresh_token;
        // A lost answer retried at once (every tenth): the same successor, no rotation.
        if ((lifetime * tabs + tab) % 10 === 0) {
          now += 500;
          const retry = await refresh(server, previous);
          statuses.set(retry.status, (statuses.get(retry.status) ?? 0) + 1);
        }
      }
    }
    expect([...statuses.keys()]).toEqual([200]);
  });
});
