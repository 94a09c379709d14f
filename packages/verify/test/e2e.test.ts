/**
 * End to end against the real Jot server: login, verify locally, logout, and the verifier rejects the token
 * (replicated within the staleness bound; strict on the next request); key rotation without restart; step-up
 * through `POST /api/reauth`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { codeOf } from './support/outcome.js';
import { realFeed } from './support/real-feed.js';
import { recordingLogger, waitFor } from './support/wait.js';

const SECRET = 'e2e-revocation-secret-0123456789abcdef';
const ISSUER = 'http://jot.test'; // TEST_SETTINGS' issuer; endpoints are given explicitly below
let offset = 0;
let server: TestServer;
const verifiers: Verifier[] = [];

beforeAll(async () => {
  server = await startServer({ revocationSecret: SECRET }, { clock: () => Date.now() + offset });
});

afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await server?.close();
});

function build(revocation: VerifierOptions['revocation'], extra: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    jwksUri: `${server.url}/.well-known/jwks.json`,
    revocation,
    logger: recordingLogger(),
    ...extra,
  });
  verifiers.push(verifier);
  return verifier;
}

function replicated(): Verifier {
  return build(realFeed(server.url, SECRET, { maxStaleness: '2s' }).revocation);
}

describe('against the real server', () => {
  it('replicated: a logout reaches the connected verifier through the stream', async () => {
    const v = replicated();
    await v.ready();
    await waitFor(() => v.stats().revocation.connected === true);
    const { access_token: token } = await signUp(server, 'logout@example.com');
    expect((await v.verify(token)).roles).toEqual(expect.any(Array));
    expect((await server.request('POST', '/api/logout', { token })).status).toBe(204);
    // How soon is the benchmark's (propagation); here: it arrives, as a revocation, while the stream stays up.
    await expect
      .poll(() => codeOf(v.verify(token)), { timeout: 15_000, interval: 5 })
      .toBe('ERR_TOKEN_REVOKED');
    expect(v.stats().revocation).toMatchObject({ connected: true, stale: false });
  });

  it('replicated: logout-everywhere rejects every earlier token of the user', async () => {
    const v = replicated();
    await v.ready();
    await waitFor(() => v.stats().revocation.connected === true);
    const first = await signUp(server, 'everywhere@example.com');
    const second = await server.request('POST', '/api/login', {
      body: { email: 'everywhere@example.com', password: 'correct horse battery' },
    });
    expect(await codeOf(v.verify(second.body.access_token))).toBe('accepted');
    const before = v.stats().revocation.events ?? 0;
    expect((await server.request('POST', '/api/logout-all', { token: first.access_token })).status).toBe(204);
    await waitFor(() => (v.stats().revocation.events ?? 0) > before, 2000, 'logout-all propagated');
    expect(await codeOf(v.verify(second.body.access_token))).not.toBe('accepted');
  });

  it('sees a key rotated in immediately without a restart', async () => {
    const v = build('none', { jwks: { cooldown: 0 } });
    await v.ready();
    const kidsBefore = v.stats().jwks.kids;
    await server.app.jot.keys.rotate({ immediate: true });
    const { access_token: token } = await signUp(server, 'rotation@example.com');
    expect((await v.verify(token)).sub).toEqual(expect.any(String));
    expect(v.stats().jwks.unknownKidFetches).toBe(1);
    expect(v.stats().jwks.kids.length).toBeGreaterThan(kidsBefore.length);
  });

  it('strict: introspection rejects a logged-out token on the next request', async () => {
    const v = build({ strategy: 'strict', secret: SECRET, introspectionUrl: `${server.url}/api/introspect` });
    const { access_token: token } = await signUp(server, 'strict@example.com');
    expect(await codeOf(v.verify(token))).toBe('accepted');
    await server.request('POST', '/api/logout', { token });
    expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED');
    const down = build({
      strategy: 'strict',
      secret: SECRET,
      introspectionUrl: 'http://127.0.0.1:9/api/introspect',
    });
    const { access_token: other } = await signUp(server, 'strict2@example.com');
    expect(await codeOf(down.verify(other))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
    expect(down.stats().revocation).toMatchObject({ strategy: 'strict', failClosed: 1 });
  });

  it('step-up: an old auth_time gets the RFC 9470 challenge; a token from /api/reauth passes', async () => {
    let verifierOffset = 120_000; // the verifier's "now" is two minutes after the login
    const v = build('none', { clock: () => Date.now() + verifierOffset });
    const { access_token: token } = await signUp(server, 'stepup@example.com');
    const request = (t: string) => ({ method: 'DELETE', headers: { authorization: `Bearer ${t}` } });
    const refused = await v.authenticate(request(token), { maxAuthAge: '60s' });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.response.status).toBe(401);
      expect(refused.response.headers['www-authenticate']).toMatch(
        /^Bearer realm="jot", error="insufficient_user_authentication", error_description="[^"]+", max_age="60"$/,
      );
    }
    offset = 120_000; // two minutes later, the user confirms the password
    verifierOffset = 120_000;
    const reauth = await server.request('POST', '/api/reauth', {
      token,
      body: { password: 'correct horse battery' },
    });
    offset = 0;
    expect(reauth.status).toBe(200);
    const passed = await v.authenticate(request(reauth.body.access_token), { maxAuthAge: '60s' });
    expect(passed.ok).toBe(true);
  });
});

describe('strict: refusals and outages', () => {
  it('strict: a refusal by the issuer (429, wrong secret) fails closed even with failOpen; an outage fails open', async () => {
    const { access_token: token } = await signUp(server, 'strict-refused@example.com');
    await server.request('POST', '/api/logout', { token });
    const strict = {
      strategy: 'strict',
      failOpen: true,
      introspectionUrl: `${server.url}/api/introspect`,
    } as const;
    const wrongSecret = build({ ...strict, secret: 'not-the-revocation-secret-0123456789' });
    expect(await codeOf(wrongSecret.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
    // The issuer's answer is a 429 (its budget spent): still refused, never accepted.
    const throttled = build(
      { ...strict, secret: SECRET },
      {
        fetch: async (url, init) =>
          String(url).endsWith('/api/introspect')
            ? new Response('{"error":"rate_limited","code":"ERR_RATE_LIMITED"}', { status: 429 })
            : fetch(url, init),
      },
    );
    expect(await codeOf(throttled.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
    expect(throttled.stats().revocation).toMatchObject({ failClosed: 1, failOpen: 0, stale: true });
    // An unreachable endpoint is an outage: failOpen accepts the verified token, as documented.
    const down = build({ ...strict, secret: SECRET, introspectionUrl: 'http://127.0.0.1:9/api/introspect' });
    expect(await codeOf(down.verify(token))).toBe('accepted');
  });
});
