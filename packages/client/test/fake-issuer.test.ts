/**
 * The fake issuer the client suite runs against is the one the verify suite uses, and it is faithful where the
 * client's tests rely on it: over HTTP, the access token a client signs in for is a real RFC 9068 JWT that
 * `@jot/verify` accepts against the JWKS the same issuer publishes, and that its revocation feed can revoke; in
 * memory, single-token mode renews the access token (`POST /api/token/renew`) and spends the one it renewed, and
 * a sign-in with a `delivery` the contract does not name is refused with 400 `ERR_VALIDATION`, as the real server
 * refuses it (packages/contract/test/request-bodies.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { ACCESS_TOKEN_TYP, ENDPOINTS, FIRST_PARTY_CLIENT_ID, type LoginBody } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';
import { createVerifier, isVerifyError, type Verifier } from '@jot/verify';

import { AUDIENCE, SECRET, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { FAKE_PASSWORD, fakeServer } from '../../../test-support/session-api.js';
import { createClient, type JotClient } from '../src/index.js';

let issuer: FakeIssuer | undefined;
let verifier: Verifier | undefined;
let client: JotClient | undefined;
afterEach(async () => {
  client?.close();
  await verifier?.close();
  await issuer?.close();
  [client, verifier, issuer] = [undefined, undefined, undefined];
  vi.useRealTimers();
});

describe('the shared fake issuer', () => {
  it('signs the client in over HTTP with a token @jot/verify accepts, and its feed revokes', async () => {
    issuer = await startFakeIssuer();
    client = createClient({ baseUrl: issuer.url, mode: 'bearer', locks: null, broadcast: false });
    await client.login('a@b.c', FAKE_PASSWORD);
    const who = await client.whoami();
    const token = issuer.session.accessTokens.at(-1)!;
    expect(decodeUnverified(token).header).toMatchObject({
      typ: ACCESS_TOKEN_TYP,
      kid: issuer.tokens.keys[0]!.kid,
    });

    verifier = createVerifier({ issuer: issuer.url, audience: AUDIENCE, revocation: 'none' });
    expect(await verifier.verify(token)).toMatchObject({
      iss: issuer.url,
      sub: who.user.id,
      sid: who.claims.sid,
      client_id: FIRST_PARTY_CLIENT_ID,
      exp: who.claims.exp,
    });
    await verifier.close();

    issuer.feed.revoke('sid', who.claims.sid!);
    verifier = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      revocation: { strategy: 'replicated', secret: SECRET },
    });
    await verifier.ready();
    const refused = await verifier.verify(token).catch((e: unknown) => e);
    expect(isVerifyError(refused) && refused.code).toBe('ERR_TOKEN_REVOKED');
  });

  it('single-token mode: renews before expiry with the access token, and the renewed one is spent', async () => {
    vi.useFakeTimers();
    const server = fakeServer(60);
    server.singleToken = true;
    client = createClient({
      baseUrl: 'http://jot.test',
      mode: 'bearer',
      tokenMode: 'single',
      refreshMargin: 10,
      fetch: server.fetch,
      locks: null,
      broadcast: false,
    });
    await client.login('a@b.c', FAKE_PASSWORD);
    await vi.advanceTimersByTimeAsync(51_000);
    expect(server.count('POST /api/token/renew')).toBe(1);
    expect(server.count('POST /api/token/refresh')).toBe(0);
    const [first, second] = server.accessTokens;
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${first}`);
    expect((await client.fetch('/api/data')).status).toBe(200);
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${second}`);
    const spent = await server.fetch('http://jot.test/api/data', {
      headers: { authorization: `Bearer ${first}` },
    });
    expect(spent.status).toBe(401);
  });

  it('refuses a sign-in whose delivery the contract does not name, as the real server does', async () => {
    const server = fakeServer();
    const signIn = (body: Record<string, unknown>): Promise<Response> =>
      server.fetch(`http://jot.test${ENDPOINTS.login}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await signIn({ email: 'a@b.c', password: FAKE_PASSWORD, delivery: 'carrier-pigeon' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_request', code: 'ERR_VALIDATION' });
    expect(server.accessTokens).toEqual([]);
    const body = { email: 'a@b.c', password: FAKE_PASSWORD, delivery: 'memory' } satisfies LoginBody;
    const accepted = await signIn(body);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ csrf_token: expect.any(String) });
  });
});
