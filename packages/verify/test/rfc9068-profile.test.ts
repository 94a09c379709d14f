/**
 * `profile: 'rfc9068'`: plain RFC 9068 access tokens from any issuer (no Jot `sid`, `ver` or `auth_time`), with
 * the claims RFC 9068 §2.2 requires; the `clientIds` and `actors` guards; and, against a real Jot server, the
 * `scopes` guard with Jot's own user tokens end to end, service tokens verified and revoked through the feed when
 * their client is removed.
 */
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from '../../server/test/support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from '../../server/test/support/oauth.js';
import { compileGuards, createVerifier, isVerifyError, type AuthResult, type Guards } from '../src/index.js';

/** Polls an async condition until it holds or the deadline passes. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const FOREIGN = 'https://tenant.auth0.example';
const API = 'https://api.example.com';

async function foreignIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' };
  const fetchImpl = (url: string): Promise<Response> => {
    const json = (body: unknown) =>
      new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    if (url === `${FOREIGN}/.well-known/openid-configuration`)
      return Promise.resolve(json({ issuer: FOREIGN, jwks_uri: `${FOREIGN}/jwks` }));
    if (url === `${FOREIGN}/jwks`) return Promise.resolve(json({ keys: [jwk] }));
    return Promise.resolve(new Response('no', { status: 404 }));
  };
  const sign = (claims: Record<string, unknown>, typ = 'at+jwt') => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: FOREIGN,
      aud: API,
      sub: 'auth0|42',
      client_id: 'spa',
      iat: now,
      exp: now + 300,
      jti: `j${Math.random()}`,
      scope: 'read:orders',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'r1', typ })
      .sign(privateKey);
  };
  return { fetchImpl, sign };
}

function bearer(token: string) {
  return { method: 'GET', headers: { authorization: `Bearer ${token}` } };
}

function code(result: AuthResult): string {
  return result.ok ? 'ok' : result.error.code;
}

describe('profile: rfc9068 with another issuer', () => {
  it('accepts RFC 9068 tokens without sid, ver or auth_time, and requires client_id and typ at+jwt', async () => {
    const issuer = await foreignIssuer();
    const rfc = createVerifier({
      issuer: FOREIGN,
      audience: API,
      profile: 'rfc9068',
      revocation: 'none',
      fetch: issuer.fetchImpl,
    });
    const jotProfile = createVerifier({
      issuer: FOREIGN,
      audience: API,
      revocation: 'none',
      fetch: issuer.fetchImpl,
    });
    const token = await issuer.sign({});
    const result = await rfc.authenticate(bearer(token), { scopes: ['read:orders'], clientIds: ['spa'] });
    expect(result.ok && result.auth.claims).toMatchObject({ sub: 'auth0|42', client_id: 'spa' });
    // Jot's own profile wants a session: the same token is refused there, naming the claim.
    const refused = await jotProfile.authenticate(bearer(token));
    expect(!refused.ok && refused.error).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', claim: 'sid' });
    const noClient = await rfc.authenticate(bearer(await issuer.sign({ client_id: undefined })));
    expect(!noClient.ok && noClient.error).toMatchObject({
      code: 'ERR_JWT_CLAIM_INVALID',
      claim: 'client_id',
    });
    expect(code(await rfc.authenticate(bearer(await issuer.sign({}, 'JWT'))))).toBe('ERR_JWT_CLAIM_INVALID');
    const badSid = await rfc.authenticate(bearer(await issuer.sign({ sid: 7 })));
    expect(!badSid.ok && badSid.error).toMatchObject({ claim: 'sid' });
    // A step-up guard is never met by a token without auth_time.
    expect(code(await rfc.authenticate(bearer(token), { maxAuthAge: '5m' }))).toBe('ERR_STEP_UP_REQUIRED');
    await Promise.all([rfc.close(), jotProfile.close()]);
    expect(() =>
      createVerifier({ issuer: FOREIGN, audience: API, profile: 'oidc' as never, revocation: 'none' }),
    ).toThrow(TypeError);
  });

  it('guards client_id and act', async () => {
    const issuer = await foreignIssuer();
    const v = createVerifier({
      issuer: FOREIGN,
      audience: API,
      profile: 'rfc9068',
      revocation: 'none',
      fetch: issuer.fetchImpl,
    });
    const direct = await issuer.sign({});
    const delegated = await issuer.sign({ act: { sub: 'gateway', act: { sub: 'edge' } } });
    const check = async (token: string, guards: Guards) => code(await v.authenticate(bearer(token), guards));
    expect(await check(direct, { clientIds: ['other'] })).toBe('ERR_FORBIDDEN');
    expect(await check(direct, { actors: ['gateway'] })).toBe('ERR_FORBIDDEN');
    expect(await check(direct, { actors: false })).toBe('ok');
    expect(await check(delegated, { actors: ['gateway'] })).toBe('ok');
    expect(await check(delegated, { actors: ['edge'] })).toBe('ERR_FORBIDDEN'); // only the immediate actor counts
    expect(await check(delegated, { actors: false })).toBe('ERR_FORBIDDEN');
    expect(code(await v.authenticate(bearer(await issuer.sign({ act: 'gateway' }))))).toBe(
      'ERR_JWT_CLAIM_INVALID',
    );
    expect(() => compileGuards({ clientIds: ['a b'] })).toThrow(TypeError);
    expect(() => compileGuards({ actors: [''] })).toThrow(TypeError);
    await v.close();
  });
});

describe('with a Jot server', () => {
  const SECRET = 'feed-secret-0123456789-0123456789-abcdef';
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startIssuer({
      revocationSecret: SECRET,
      roleScopes: '*=profile orders:read,admin=orders:write',
    });
    admin = await adminToken(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("the scopes guard works with Jot's own user tokens", async () => {
    const v = createVerifier({ issuer: server.url, audience: server.url, revocation: 'none' });
    const user = await signUp(server, 'scoped@example.com');
    expect(code(await v.authenticate(bearer(user.access_token), { scopes: ['orders:read'] }))).toBe('ok');
    expect(code(await v.authenticate(bearer(user.access_token), { scopes: ['orders:write'] }))).toBe(
      'ERR_FORBIDDEN',
    );
    expect(code(await v.authenticate(bearer(admin), { scopes: ['orders:read', 'orders:write'] }))).toBe('ok');
    expect(code(await v.authenticate(bearer(user.access_token), { clientIds: ['jot'], actors: false }))).toBe(
      'ok',
    );
    await v.close();
  });

  it("verifies a service's token under rfc9068, and drops it when the client is removed (replicated feed)", async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Worker',
      token_endpoint_auth_method: 'client_secret_post',
      scopes: ['orders:read'],
      audiences: [API],
    });
    const issued = await postForm(server, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client_secret!,
    });
    const token = issued.body.access_token as string;
    const v = createVerifier({
      issuer: server.url,
      audience: API,
      profile: 'rfc9068',
      revocation: { strategy: 'replicated', secret: SECRET, maxStaleness: '10s' },
      logger: { info() {}, warn() {}, error() {} },
    });
    await v.ready();
    const claims = await v.verify(token);
    expect(claims).toMatchObject({
      sub: client.client_id,
      client_id: client.client_id,
      scope: 'orders:read',
    });
    expect(claims.sid).toBeUndefined();
    expect(
      (await server.request('DELETE', `/api/admin/clients/${client.client_id}`, { token: admin })).status,
    ).toBe(204);
    await eventually(async () => {
      const err = await v.verify(token).catch((e: unknown) => e);
      return isVerifyError(err, 'ERR_TOKEN_REVOKED');
    });
    await v.close();
  });
});
