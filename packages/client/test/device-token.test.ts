/**
 * Device credentials in bearer mode: a client without a cookie jar keeps the `device_token` a sign-in answers (per
 * address, at most `MAX_DEVICE_TOKENS`, in its device-token store) and sends it on its next sign-ins, so the
 * account-wide sign-in lock others can set does not keep it out. Cookie and memory modes leave it to the cookie.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { ENDPOINTS, MAX_DEVICE_TOKENS, type MfaRequiredBody } from '@jot/contract';

import {
  createClient,
  isMfaRequired,
  memoryDeviceTokenStore,
  type ClientOptions,
  type DeviceTokenStore,
  type JotClient,
} from '../src/index.js';
import { FAKE_PASSWORD, fakeServer, type FetchLike } from '../../../test-support/session-api.js';

const BASE = 'http://jot.test';
const MFA_EMAIL = 'two-step@b.c';
const SIGN_INS: string[] = [ENDPOINTS.login, ENDPOINTS.loginMfa, ENDPOINTS.passkeyLogin];

const clients: JotClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
function make(options: Partial<ClientOptions> & { fetch: FetchLike }): JotClient {
  const client = createClient({ baseUrl: BASE, mode: 'bearer', locks: null, broadcast: false, ...options });
  clients.push(client);
  return client;
}

/**
 * The fake session API, with device credentials as the server has them: every successful sign-in answers a new
 * `device_token` (the client must not care whether the mode should have it: cookie mode ignores it), `MFA_EMAIL`
 * asks for a second step, and what each sign-in presented is recorded.
 */
function deviceServer(): { fetch: FetchLike; presented: (string | undefined)[]; issued: string[] } {
  const server = fakeServer();
  const presented: (string | undefined)[] = [];
  const issued: string[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    const path = new URL(req.url).pathname;
    if (!SIGN_INS.includes(path)) return server.fetch(req);
    const body = (await req.json()) as Record<string, unknown>;
    presented.push(typeof body.device_token === 'string' ? body.device_token : undefined);
    if (path === ENDPOINTS.login && body.email === MFA_EMAIL) {
      const mfa: MfaRequiredBody = {
        error: 'mfa_required',
        error_description: 'second factor',
        code: 'ERR_MFA_REQUIRED',
        mfa_token: `mfa-${issued.length}`.padEnd(24, 'x'),
        mfa_token_expires_in: 300,
        mfa_methods: ['totp'],
      };
      return Response.json(mfa, { status: 403 });
    }
    // Every route signs in as the fake's password step does (the second step and a passkey with its password).
    const password = path === ENDPOINTS.login ? body.password : FAKE_PASSWORD;
    const delivery = body.delivery ?? 'bearer';
    const res = await server.fetch(`${BASE}${ENDPOINTS.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: body.email, password, delivery }),
    });
    if (!res.ok) return res;
    const answer = (await res.json()) as Record<string, unknown>;
    const token = `device-${issued.length + 1}`;
    issued.push(token);
    return Response.json({ ...answer, device_token: token }, { headers: { 'cache-control': 'no-store' } });
  };
  return { fetch, presented, issued };
}

describe('bearer mode keeps the device credential', () => {
  it('stores the device_token a sign-in answers and sends it on the next sign-in of that address', async () => {
    const server = deviceServer();
    const client = make({ fetch: server.fetch });
    await client.login('owner@b.c', FAKE_PASSWORD);
    expect(server.presented).toEqual([undefined]);
    // The same address however spelled: its own credential goes along.
    await client.login(' Owner@B.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-1');
    // The answer's credential replaces the one presented: only the newest is sent.
    await client.login('owner@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-2');
  });

  it("keeps one per address, sends none of another address's, and at most MAX_DEVICE_TOKENS in all", async () => {
    const server = deviceServer();
    const client = make({ fetch: server.fetch });
    const addresses = Array.from({ length: MAX_DEVICE_TOKENS + 1 }, (_, i) => `user-${i}@b.c`);
    for (const address of addresses) await client.login(address, FAKE_PASSWORD);
    expect(server.presented).toEqual(addresses.map(() => undefined));
    // The newest addresses keep theirs; the oldest one's was dropped for the bound.
    await client.login(addresses.at(-1)!, FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe(`device-${addresses.length}`);
    await client.login(addresses[1]!, FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-2');
    await client.login(addresses[0]!, FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBeUndefined();
    // A wrong password keeps what there is.
    await expect(client.login(addresses[1]!, 'wrong')).rejects.toMatchObject({
      code: 'ERR_INVALID_CREDENTIALS',
    });
    await client.login(addresses[1]!, FAKE_PASSWORD);
    expect(server.presented.at(-2)).toBe(server.presented.at(-1));
  });

  it('the second step keeps the credential for the address of its password step; a passkey sign-in sends them all', async () => {
    const server = deviceServer();
    const client = make({ fetch: server.fetch });
    const mfaToken = await client.login(MFA_EMAIL, FAKE_PASSWORD).then(
      () => expect.unreachable(),
      (err: unknown) => (isMfaRequired(err) ? err.mfaToken : expect.unreachable()),
    );
    await client.completeMfa(mfaToken, { code: '123456' });
    expect(server.presented).toEqual([undefined, undefined]);
    const again = await client.login(MFA_EMAIL, FAKE_PASSWORD).catch((err: unknown) => err);
    expect(isMfaRequired(again)).toBe(true);
    expect(server.presented.at(-1)).toBe('device-1');
    await client.completeMfa((again as { mfaToken: string }).mfaToken, { code: '123456' });
    expect(server.presented.at(-1)).toBe('device-1');
    // A passkey sign-in names no address beforehand: every credential kept goes along, as in the cookie.
    await client.login('other@b.c', FAKE_PASSWORD);
    await client.loginWithPasskey({ id: 'credential' });
    expect(server.presented.at(-1)).toBe('device-3.device-2');
  });

  it('keeps them in the store it is given (one that outlives the client), and signs in when the store fails', async () => {
    const server = deviceServer();
    const store = memoryDeviceTokenStore();
    await make({ fetch: server.fetch, deviceTokens: store }).login('kept@b.c', FAKE_PASSWORD);
    await make({ fetch: server.fetch, deviceTokens: store }).login('kept@b.c', FAKE_PASSWORD);
    expect(server.presented).toEqual([undefined, 'device-1']);
    // The store holds no email address: the credential is kept under a hash of the server and the address.
    const stored = JSON.stringify(await store.load(`${BASE}/`));
    expect(stored).toContain('device-');
    expect(stored).not.toMatch(/kept|b\.c/);
    const broken: DeviceTokenStore = {
      load: () => Promise.reject(new Error('storage unavailable')),
      save: () => Promise.reject(new Error('storage unavailable')),
    };
    const client = make({ fetch: server.fetch, deviceTokens: broken });
    await client.login('kept@b.c', FAKE_PASSWORD);
    expect(client.signedIn).toBe(true);
    expect(server.presented.at(-1)).toBeUndefined();
    // `false`: none kept, none sent.
    const none = make({ fetch: server.fetch, deviceTokens: false });
    await none.login('kept@b.c', FAKE_PASSWORD);
    await none.login('kept@b.c', FAKE_PASSWORD);
    expect(server.presented.slice(-2)).toEqual([undefined, undefined]);
  });
});

describe('cookie and memory modes leave the device credential to the cookie', () => {
  it.each(['cookie', 'memory'] as const)('%s mode neither keeps nor sends a device_token', async (mode) => {
    const server = deviceServer();
    const client = make({ fetch: server.fetch, mode });
    await client.login('browser@b.c', FAKE_PASSWORD);
    await client.login('browser@b.c', FAKE_PASSWORD);
    expect(server.presented).toEqual([undefined, undefined]);
  });

  it('refuses a device-token store outside bearer mode', () => {
    expect(() =>
      createClient({ mode: 'cookie', baseUrl: BASE, deviceTokens: memoryDeviceTokenStore() }),
    ).toThrow(/deviceTokens needs mode 'bearer'/);
  });
});
