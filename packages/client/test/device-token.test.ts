/**
 * Device credentials in bearer mode: a client without a cookie jar keeps the `device_token` a sign-in answers (one
 * per account, whichever way it signed in, with the address it signs in with; at most `MAX_DEVICE_TOKENS`, in its
 * device-token store) and sends it on its next sign-ins, so the account-wide sign-in lock others can set does not
 * keep it out. Cookie and memory modes leave it to the cookie.
 */
import { createHash } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { ENDPOINTS, MAX_DEVICE_TOKENS, type MfaRequiredBody } from '@jot/contract';

import {
  createClient,
  isMfaRequired,
  memoryDeviceTokenStore,
  type ClientOptions,
  type DeviceTokenStore,
  type JotClient,
  type KeptDeviceToken,
} from '../src/index.js';
import { FAKE_PASSWORD, fakeServer, type FetchLike } from '../../../test-support/session-api.js';

const BASE = 'http://jot.test';
/** The server a client of `BASE` keeps its credentials for. */
const SERVER = `${BASE}/`;
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

/** The fake's account id (the access token's `sub`) of the account at `address`. */
const idOf = (address: string): string => `id-${address.trim().toLowerCase()}`;

/**
 * The fake session API, with device credentials as the server has them: every successful sign-in answers a new
 * `device_token` (a renewal each time; the client must not care whether the mode should have it: cookie mode
 * ignores it) and an access token whose `sub` is the account's id — a password step's address, its second step's,
 * or a passkey's (its credential `id` names the address of the account it belongs to). `MFA_EMAIL` asks for a
 * second step, and what each sign-in presented is recorded. `opaque`: access tokens whose claims the client cannot
 * read (as an encrypted one).
 */
function deviceServer({ opaque = false } = {}): {
  fetch: FetchLike;
  presented: (string | undefined)[];
  issued: string[];
  /** Account ids that are not {@link idOf} their address (or passkey credential id). */
  accounts: Map<string, string>;
} {
  const server = fakeServer();
  const accounts = new Map<string, string>();
  const presented: (string | undefined)[] = [];
  const issued: string[] = [];
  const secondSteps = new Map<string, string>();
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
      secondSteps.set(mfa.mfa_token, MFA_EMAIL);
      return Response.json(mfa, { status: 403 });
    }
    const address =
      path === ENDPOINTS.login
        ? String(body.email)
        : path === ENDPOINTS.loginMfa
          ? secondSteps.get(String(body.mfa_token))!
          : String((body.credential as { id: unknown }).id);
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
    const accessToken = opaque
      ? 'opaque-access-token'
      : server.tokens.sign({ sub: accounts.get(address) ?? idOf(address) });
    const withAccount = typeof answer.access_token === 'string' ? { access_token: accessToken } : {};
    return Response.json(
      { ...answer, ...withAccount, device_token: token },
      { headers: { 'cache-control': 'no-store' } },
    );
  };
  return { fetch, presented, issued, accounts };
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

describe('bearer mode keeps one device credential per account, however it signs in', () => {
  /** What the store holds for the fake server. */
  const keptIn = (store: DeviceTokenStore): Promise<KeptDeviceToken[]> => store.load(SERVER);

  it("passkey sign-ins renew the account's device token instead of adding entries", async () => {
    const server = deviceServer();
    const store = memoryDeviceTokenStore();
    const client = make({ fetch: server.fetch, deviceTokens: store });
    await client.login('other@b.c', FAKE_PASSWORD);
    await client.login('owner@b.c', FAKE_PASSWORD);
    expect(server.issued).toEqual(['device-1', 'device-2']);
    // More renewals than there are slots: each replaces the owner's credential, the other address's stays.
    for (let i = 0; i <= MAX_DEVICE_TOKENS; i++) {
      await client.loginWithPasskey({ id: 'owner@b.c' });
      expect(server.presented.at(-1)).toBe(`${server.issued.at(-2)!}.device-1`);
      expect(await keptIn(store)).toHaveLength(2);
    }
    await client.login('other@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-1');
  });

  it("a password sign-in after passkey sign-ins presents the account's token", async () => {
    const server = deviceServer();
    const client = make({ fetch: server.fetch });
    await client.login('owner@b.c', FAKE_PASSWORD);
    await client.loginWithPasskey({ id: 'owner@b.c' });
    await client.loginWithPasskey({ id: 'owner@b.c' });
    // The newest credential of the account, and nothing else: the one it renewed is gone.
    await client.login('Owner@b.c ', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-3');
    // An account signed in to by passkey only has no address yet: its credential goes along with every password
    // sign-in (it may be this address's account) until one names it; then only its own address sends it.
    await client.loginWithPasskey({ id: 'solo@b.c' });
    await client.login('solo@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-5');
    await client.login('owner@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-4');
    await client.loginWithPasskey({ id: 'solo@b.c' });
    await client.login('solo@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-8');
  });

  it('holds at most MAX_DEVICE_TOKENS across accounts, one for each of the newest', async () => {
    const server = deviceServer();
    const store = memoryDeviceTokenStore();
    const client = make({ fetch: server.fetch, deviceTokens: store });
    const addresses = Array.from({ length: MAX_DEVICE_TOKENS + 1 }, (_, i) => `user-${i}@b.c`);
    const newest = new Map<string, string>();
    for (const address of addresses) {
      await client.login(address, FAKE_PASSWORD);
      await client.loginWithPasskey({ id: address });
      await client.loginWithPasskey({ id: address });
      newest.set(address, server.issued.at(-1)!);
    }
    const kept = await keptIn(store);
    expect(kept.map((k) => k.token)).toEqual(
      addresses
        .slice(1)
        .reverse()
        .map((a) => newest.get(a)),
    );
    expect(new Set(kept.map((k) => k.user)).size).toBe(MAX_DEVICE_TOKENS);
    // Each of the newest accounts presents exactly its own credential; the oldest one's was dropped for the bound.
    for (const address of addresses.slice(1)) {
      await client.login(address, FAKE_PASSWORD);
      expect(server.presented.at(-1)).toBe(newest.get(address));
    }
    await client.login(addresses[0]!, FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBeUndefined();
    expect(await keptIn(store)).toHaveLength(MAX_DEVICE_TOKENS);
  });

  it('an address that now signs in to another account leaves the first one its credential', async () => {
    const server = deviceServer();
    const store = memoryDeviceTokenStore();
    const client = make({ fetch: server.fetch, deviceTokens: store });
    await client.login('moved@b.c', FAKE_PASSWORD);
    // The address now names another account (an email change, a new registration): the sign-in presents what the
    // address had (the server finds it is no credential of this account) and keeps the answer's for the new one.
    server.accounts.set('moved@b.c', 'id-new-owner');
    await client.login('moved@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-1');
    const kept = await keptIn(store);
    expect(kept.map((k) => k.token)).toEqual(['device-2', 'device-1']);
    // The first account's credential is its own still, for no known address now: it goes along with sign-ins.
    expect(kept[1]).toMatchObject({ account: undefined, user: expect.any(String) });
    expect(kept[1]!.user).not.toBe(kept[0]!.user);
    await client.login('moved@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('device-2.device-1');
    // Its passkey sign-in renews it, and it is still the only entry of that account.
    server.accounts.set('first-owner', idOf('moved@b.c'));
    await client.loginWithPasskey({ id: 'first-owner' });
    expect((await keptIn(store)).map((k) => k.token)).toEqual(['device-4', 'device-3']);
  });

  it('reads what an earlier version kept (per address) and keeps it for the account from then on', async () => {
    const server = deviceServer();
    const store = memoryDeviceTokenStore();
    const hashed = createHash('sha256').update(`${SERVER}|legacy@b.c`).digest('base64url');
    await store.save(SERVER, [
      { account: undefined, token: 'passkey-token' },
      { account: hashed, token: 'legacy-token' },
    ]);
    const client = make({ fetch: server.fetch, deviceTokens: store });
    await client.login('legacy@b.c', FAKE_PASSWORD);
    expect(server.presented.at(-1)).toBe('legacy-token.passkey-token');
    // The address's record is now the account's: a passkey sign-in renews it rather than adding one.
    await client.loginWithPasskey({ id: 'legacy@b.c' });
    const kept = await keptIn(store);
    expect(kept.map((k) => k.token)).toEqual(['device-2', 'passkey-token']);
    expect(kept[0]).toMatchObject({ account: hashed, user: expect.any(String) });
  });

  it('without an access token it can read (an encrypted one), it keeps the credential per address', async () => {
    const server = deviceServer({ opaque: true });
    const client = make({ fetch: server.fetch });
    await client.login('sealed@b.c', FAKE_PASSWORD);
    await client.login('other@b.c', FAKE_PASSWORD);
    await client.login('sealed@b.c', FAKE_PASSWORD);
    expect(server.presented).toEqual([undefined, undefined, 'device-1']);
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
