/**
 * Refresh-token rotation, reuse detection and the grace window, with an injected clock so the window's edges are
 * exact. Grace-window bugs have turned other servers' rotation into a replay hole, so each edge is tested.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

let now = Date.UTC(2030, 0, 1);
let server: TestServer;

beforeEach(async () => {
  now = Date.UTC(2030, 0, 1) + Math.floor(Math.random() * 1e9);
  server = await startServer({ refreshGraceWindow: '10s' }, { clock: () => now });
});
afterEach(async () => {
  await server.close();
});

async function refresh(token: string) {
  return server.request('POST', '/api/token/refresh', { body: { refresh_token: token } });
}

async function expectSessionEnded(tokens: { access_token: string }, latest: string): Promise<void> {
  expect((await refresh(latest)).status).toBe(401);
  expect((await server.request('GET', '/api/whoami', { token: tokens.access_token })).status).toBe(401);
}

describe('reuse detection', () => {
  it('a token used again after the window ends the whole session and records a security event', async () => {
    const tokens = await signUp(server, 'reuse@example.com');
    const r2 = (await refresh(tokens.refresh_token)).body.refresh_token as string;
    now += 10_000;
    const replay = await refresh(tokens.refresh_token);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_REUSED' });
    await expectSessionEnded(tokens, r2);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 10, type: 'refresh_token_reuse' });
    expect(events).toHaveLength(1);
    expect(events[0]!.userId).toBe(tokens.userId);
  });

  it('the token two generations back is reuse even inside the window', async () => {
    const tokens = await signUp(server, 'twoback@example.com');
    const r2 = (await refresh(tokens.refresh_token)).body.refresh_token as string;
    now += 1000;
    const r3 = (await refresh(r2)).body.refresh_token as string;
    now += 1000;
    const replay = await refresh(tokens.refresh_token);
    expect(replay.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
    await expectSessionEnded(tokens, r3);
  });

  it('the previous token is reuse once its successor has itself been used', async () => {
    const tokens = await signUp(server, 'successor-used@example.com');
    const r2 = (await refresh(tokens.refresh_token)).body.refresh_token as string;
    const r3 = (await refresh(r2)).body.refresh_token as string;
    expect((await refresh(r2)).body.refresh_token).toBe(r3); // still the immediately previous token
    const r4 = (await refresh(r3)).body.refresh_token as string;
    expect(r4).toBeDefined();
    const replay = await refresh(r2);
    // r2's successor r3 is already rotated, so r2 is not "the immediately previous token" any more.
    expect(replay.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
  });
});

describe('grace window', () => {
  it('gives the same successor to the previous token just inside the window (9.999 s)', async () => {
    const tokens = await signUp(server, 'grace-in@example.com');
    const first = await refresh(tokens.refresh_token);
    now += 9_999;
    const second = await refresh(tokens.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toBe(first.body.refresh_token);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    // The shared successor still works, once.
    expect((await refresh(first.body.refresh_token)).status).toBe(200);
  });

  it('treats the previous token exactly at the window (10.000 s) as reuse', async () => {
    const tokens = await signUp(server, 'grace-edge@example.com');
    const first = await refresh(tokens.refresh_token);
    now += 10_000;
    const second = await refresh(tokens.refresh_token);
    expect(second.status).toBe(401);
    expect(second.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
    await expectSessionEnded(tokens, first.body.refresh_token);
  });

  it('parallel uses of one token (two tabs) all succeed with one successor and raise no alarm', async () => {
    const tokens = await signUp(server, 'parallel@example.com');
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(tokens.refresh_token)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
    expect(
      await server.app.jot.store.listSecurityEvents({ limit: 10, type: 'refresh_token_reuse' }),
    ).toHaveLength(0);
    expect((await refresh(results[0]!.body.refresh_token)).status).toBe(200);
  });

  it('a session idle past its timeout cannot be refreshed', async () => {
    await server.close();
    server = await startServer({ refreshIdleTimeout: '1h' }, { clock: () => now });
    const tokens = await signUp(server, 'idle@example.com');
    now += 3_600_000;
    const res = await refresh(tokens.refresh_token);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_SESSION_ENDED');
  });

  it('a session past its absolute lifetime cannot be refreshed even when used', async () => {
    await server.close();
    server = await startServer({ sessionMaxLifetime: '2h', refreshIdleTimeout: '1h' }, { clock: () => now });
    const tokens = await signUp(server, 'absolute@example.com');
    let latest = tokens.refresh_token;
    for (let i = 0; i < 3; i++) {
      now += 50 * 60_000;
      const res = await refresh(latest);
      if (i < 2) {
        expect(res.status).toBe(200);
        latest = res.body.refresh_token;
      } else {
        expect(res.body.code).toBe('ERR_SESSION_ENDED');
      }
    }
  });
});
