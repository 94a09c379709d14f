/**
 * A signing key withdrawn on the real Jot server (an emergency rotation: immediately, withdrawing the ring) reaches
 * a verifier at its next JWKS refresh: until its cached key set expires it still knows the old key, and once the
 * cache has expired (the verifier's clock moved past the JWKS `max-age`) the refreshed set refuses the withdrawn key's
 * tokens while the new key's tokens are accepted (docs/keys.md, "Emergency rotation").
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createVerifier, type Verifier } from '../src/index.js';
import { codeOf } from './support/outcome.js';
import { recordingLogger } from './support/wait.js';

const ISSUER = 'http://jot.test'; // TEST_SETTINGS' issuer
const PASSWORD = 'correct horse battery';
/** The verifier's clock runs this far ahead of the server's (moved to expire its JWKS cache). */
let ahead = 0;
let server: TestServer;
let verifier: Verifier;

const kidOf = (token: string): string => String(decodeUnverified(token).header.kid);

beforeAll(async () => {
  server = await startServer();
  verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    jwksUri: `${server.url}/.well-known/jwks.json`,
    revocation: 'none',
    clock: () => Date.now() + ahead,
    logger: recordingLogger(),
  });
});

afterAll(async () => {
  await verifier?.close();
  await server?.close();
});

describe('a withdrawn key at a verifier whose JWKS cache expired', () => {
  it("refuses the withdrawn key's tokens after the next refresh and accepts the new key's", async () => {
    const admin = await signUp(server, 'admin@withdrawn-at-verifier.test');
    const user = await signUp(server, 'user@withdrawn-at-verifier.test');
    const oldToken = user.access_token;
    const oldKid = kidOf(oldToken);
    await verifier.ready();
    expect(await codeOf(verifier.verify(oldToken))).toBe('accepted');
    const maxAge = Number(
      /max-age=(\d+)/.exec(
        (await server.request('GET', '/.well-known/jwks.json')).headers.get('cache-control') ?? '',
      )?.[1],
    );
    expect(maxAge).toBeGreaterThan(0);

    const rotated = await server.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: { immediate: true, withdraw: true },
    });
    expect(rotated.status, rotated.text).toBe(201);
    expect(rotated.body.withdrawn).toContain(oldKid);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'user@withdrawn-at-verifier.test', password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status, login.text).toBe(200);
    const newToken = login.body.access_token as string;
    expect(kidOf(newToken)).toBe(rotated.body.kid);

    // The cached key set is still fresh: the verifier has not heard of the withdrawal yet.
    expect(await codeOf(verifier.verify(oldToken))).toBe('accepted');
    expect(verifier.stats().jwks.kids).toContain(oldKid);

    // Past its max-age the set is refreshed: the withdrawn key is gone from it, its token refused.
    ahead = (maxAge + 1) * 1000;
    await vi.waitFor(
      async () => expect(await codeOf(verifier.verify(oldToken))).toBe('ERR_JWKS_NO_MATCHING_KEY'),
      { timeout: 5_000, interval: 20 },
    );
    expect(verifier.stats().jwks.kids).toEqual([rotated.body.kid]);
    expect(await codeOf(verifier.verify(newToken))).toBe('accepted');
    expect(await codeOf(verifier.verify(oldToken))).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });
});
