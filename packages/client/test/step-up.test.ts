/** Step-up (RFC 9470) in `@jot/client`: no refresh for a step-up 401, the event, and `reauthenticate`. */
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  createClient,
  isStepUpError,
  isStepUpRequired,
  JotClientError,
  type DeliveryMode,
  type JotClient,
  type SessionEvents,
} from '../src/index.js';
import { challengeParams } from '../src/step-up.js';
import { fakeServer, type FakeServer } from '../../../test-support/session-api.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';

const BASE = 'http://jot.test';
const clients: JotClient[] = [];
let key = 0;
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  vi.useRealTimers();
});

function make(
  server: FakeServer,
  mode: DeliveryMode,
  extra: Partial<Parameters<typeof createClient>[0]> = {},
) {
  const client = createClient({
    baseUrl: BASE,
    mode,
    fetch: server.fetch,
    locks: null,
    broadcast: false,
    ...extra,
  });
  clients.push(client);
  return client;
}

/** Signs in, then lets `seconds` pass (the access token stays valid: the fake server's tokens live 60 s). */
async function signedInLongAgo(
  mode: DeliveryMode,
  seconds = 20,
): Promise<{ client: JotClient; server: FakeServer }> {
  vi.useFakeTimers({ toFake: ['Date'] });
  const server = fakeServer(60);
  server.stepUpMaxAge = 10;
  const client = make(server, mode);
  await client.login('a@b.c', 'pw');
  vi.setSystemTime(Date.now() + seconds * 1000);
  return { client, server };
}

const putThing = (client: JotClient): Promise<Response> =>
  client.fetch('/api/admin/thing', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });

describe('a step-up 401', () => {
  it.each(['bearer', 'memory', 'cookie'] as const)(
    'is returned as is, without a refresh, and announced (%s mode)',
    async (mode) => {
      const { client, server } = await signedInLongAgo(mode);
      const stepUp = vi.fn<(payload: SessionEvents['session:step-up-required']) => void>();
      client.on('session:step-up-required', stepUp);
      const res = await putThing(client);
      expect(res.status).toBe(401);
      expect(await isStepUpRequired(res)).toBe(true);
      expect(await res.json()).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED' }); // the body is still unread
      expect(server.count('POST /api/token/refresh')).toBe(0);
      expect(server.count('PUT /api/admin/thing')).toBe(1);
      expect(stepUp).toHaveBeenCalledTimes(1);
      expect(stepUp).toHaveBeenCalledWith({ maxAge: 10 });
      expect(client.signedIn).toBe(true);
    },
  );

  it('is recognised from the JSON body when the header is not readable (cross-origin)', async () => {
    const { client, server } = await signedInLongAgo('memory');
    server.stepUpHeader = false;
    const stepUp = vi.fn();
    client.on('session:step-up-required', stepUp);
    const res = await putThing(client);
    expect(res.status).toBe(401);
    expect(server.count('POST /api/token/refresh')).toBe(0);
    expect(stepUp).toHaveBeenCalledWith({ maxAge: undefined });
    expect(await res.json()).toMatchObject({ error: 'insufficient_user_authentication' });
  });

  it('throws from json() a JotClientError that isStepUpError recognises', async () => {
    const { client, server } = await signedInLongAgo('bearer');
    const err = await client.json('/api/admin/thing', { method: 'PUT', body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JotClientError);
    expect(err).toMatchObject({
      code: 'ERR_STEP_UP_REQUIRED',
      status: 401,
      error: 'insufficient_user_authentication',
    });
    expect(isStepUpError(err)).toBe(true);
    expect(isStepUpError(new JotClientError('ERR_AUTH_REQUIRED', 'x', { status: 401 }))).toBe(false);
    expect(server.count('POST /api/token/refresh')).toBe(0);
  });

  it('behind an expired token: one refresh, then the challenge is returned and announced', async () => {
    const { client, server } = await signedInLongAgo('bearer');
    server.revokeAccessTokens();
    const stepUp = vi.fn();
    client.on('session:step-up-required', stepUp);
    const res = await putThing(client);
    expect(await isStepUpRequired(res)).toBe(true);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(server.count('PUT /api/admin/thing')).toBe(2);
    expect(stepUp).toHaveBeenCalledTimes(1);
  });

  it('an ordinary 401 still refreshes and retries', async () => {
    const { client, server } = await signedInLongAgo('bearer', 0);
    server.revokeAccessTokens();
    const stepUp = vi.fn();
    client.on('session:step-up-required', stepUp);
    expect((await putThing(client)).status).toBe(200);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(stepUp).not.toHaveBeenCalled();
  });
});

describe('isStepUpRequired', () => {
  const res = (status: number, headers: Record<string, string>, body = '{}'): Response =>
    new Response(body, { status, headers });
  const json = { 'content-type': 'application/json' };

  it('reads the Bearer challenge, and only its error parameter', async () => {
    expect(
      await isStepUpRequired(
        res(401, { 'www-authenticate': 'Bearer error="insufficient_user_authentication", max_age=5' }),
      ),
    ).toBe(true);
    expect(
      await isStepUpRequired(
        res(401, { 'www-authenticate': 'Bearer error=insufficient_user_authentication' }),
      ),
    ).toBe(true);
    // A description that merely mentions it, and an authoritative other error with a step-up body.
    expect(
      await isStepUpRequired(
        res(
          401,
          {
            ...json,
            'www-authenticate':
              'Bearer realm="jot", error="invalid_token", error_description="not error=\\"insufficient_user_authentication\\""',
          },
          '{"error":"insufficient_user_authentication"}',
        ),
      ),
    ).toBe(false);
    expect(await isStepUpRequired(res(401, { 'www-authenticate': 'Bearer realm="jot"' }))).toBe(false);
  });

  it('falls back to the JSON body, and never says yes for another status', async () => {
    const body = '{"error":"insufficient_user_authentication"}';
    expect(await isStepUpRequired(res(401, json, body))).toBe(true);
    expect(await isStepUpRequired(res(403, json, body))).toBe(false);
    expect(await isStepUpRequired(res(401, json, '{"error":"invalid_token"}'))).toBe(false);
    expect(await isStepUpRequired(res(401, json, 'not json'))).toBe(false);
    expect(await isStepUpRequired(res(401, { 'content-type': 'text/plain' }, body))).toBe(false);
    const used = res(401, json, body);
    await used.text();
    expect(await isStepUpRequired(used)).toBe(false);
  });

  it('parses auth-params with quoted strings and escapes', () => {
    const params = challengeParams(
      'Bearer realm="jot", error="insufficient_user_authentication", error_description="a \\"quoted\\", max_age=1", MAX_AGE=900',
    );
    expect(params.get('error')).toBe('insufficient_user_authentication');
    expect(params.get('error_description')).toBe('a "quoted", max_age=1');
    expect(params.get('max_age')).toBe('900');
  });
});

describe('reauthenticate', () => {
  it('bearer: adopts the new access token, keeps the refresh token, and the action then passes', async () => {
    const { client, server } = await signedInLongAgo('bearer');
    const refreshed = vi.fn();
    client.on('session:refreshed', refreshed);
    expect((await putThing(client)).status).toBe(401);
    const before = client.expiresAt!;
    vi.setSystemTime(Date.now() + 1000);
    await client.reauthenticate('pw');
    expect(server.calls.at(-1)).toBe('POST /api/reauth');
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[0]}`);
    expect(refreshed).toHaveBeenCalledWith({ expiresAt: client.expiresAt, source: 'local' });
    expect(client.expiresAt).toBeGreaterThan(before);
    expect((await putThing(client)).status).toBe(200);
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[1]}`);
    // The refresh token from sign-in is still the session's: a later refresh works, with no reuse alarm.
    server.revokeAccessTokens();
    expect((await client.fetch('/api/data')).status).toBe(200);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(server.reuse).toBe(0);
  });

  it('memory: adopts the new access token', async () => {
    const { client } = await signedInLongAgo('memory');
    await client.reauthenticate('pw');
    expect((await putThing(client)).status).toBe(200);
  });

  it('cookie: sends the CSRF header and takes the new expiry; the new cookie passes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const server = fakeServer(60);
    server.stepUpMaxAge = 10;
    const seen: (string | null)[] = [];
    const client = make(server, 'cookie', {
      fetch: (input, init) => {
        const req = new Request(input, init);
        if (req.url.endsWith('/api/reauth')) seen.push(req.headers.get('x-csrf-token'));
        return server.fetch(req);
      },
    });
    await client.login('a@b.c', 'pw');
    vi.setSystemTime(Date.now() + 20_000);
    expect((await putThing(client)).status).toBe(401);
    const before = client.expiresAt!;
    await client.reauthenticate('pw');
    expect(seen).toEqual(['csrf-token-1']);
    expect(server.jar.at).toBe(server.accessTokens[1]);
    expect(client.expiresAt).toBe(before + 20_000);
    expect((await putThing(client)).status).toBe(200);
    // The same cookie jar: another tab of the browser passes too.
    const other = make(server, 'cookie');
    expect(await other.resume()).toBe(true);
    expect((await putThing(other)).status).toBe(200);
    expect(server.count('POST /api/token/refresh')).toBe(0);
  });

  it('a wrong password: JotClientError with the server code; the session is kept, nothing refreshed', async () => {
    const { client, server } = await signedInLongAgo('cookie');
    const refreshed = vi.fn();
    client.on('session:refreshed', refreshed);
    const err = await client.reauthenticate('wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JotClientError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 403 });
    expect((err as Error).message).not.toContain('wrong');
    expect(client.signedIn).toBe(true);
    expect(refreshed).not.toHaveBeenCalled();
    expect(server.count('POST /api/token/refresh')).toBe(0);
    expect((await putThing(client)).status).toBe(401);
  });

  it('refuses without a session, and drops an answer that arrives after a sign-out', async () => {
    const server = fakeServer();
    const client = make(server, 'bearer');
    await expect(client.reauthenticate('pw')).rejects.toMatchObject({ code: 'ERR_CLIENT_NO_SESSION' });
    expect(server.calls).toEqual([]);

    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let answered = false;
    const slow = make(server, 'bearer', {
      fetch: async (input, init) => {
        const req = new Request(input, init);
        const late = req.url.endsWith('/api/reauth');
        const res = await server.fetch(req);
        answered ||= late;
        if (late) await held; // the server answered, but the answer arrives after the sign-out
        return res;
      },
    });
    await slow.login('a@b.c', 'pw');
    const pending = slow.reauthenticate('pw').catch((e: unknown) => e);
    await vi.waitFor(() => expect(answered).toBe(true));
    await slow.logout();
    release();
    expect(await pending).toMatchObject({ code: 'ERR_CLIENT_NO_SESSION' });
    expect(slow.signedIn).toBe(false);
  });

  it('tells the other tabs (session:refreshed from other-tab, with the new access token in memory mode)', async () => {
    const server = fakeServer();
    const locks = fakeLocks();
    const storageKey = `step-up-${++key}`;
    const a = make(server, 'memory', { locks, storageKey, broadcast: true });
    const b = make(server, 'memory', { locks, storageKey, broadcast: true });
    const startedInB = next(b, 'session:started');
    await a.login('a@b.c', 'pw');
    await startedInB;
    const refreshedInB = next(b, 'session:refreshed');
    await a.reauthenticate('pw');
    expect(await refreshedInB).toEqual({ expiresAt: a.expiresAt, source: 'other-tab' });
    expect((await putThing(b)).status).toBe(200);
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[1]}`);
  });
});
