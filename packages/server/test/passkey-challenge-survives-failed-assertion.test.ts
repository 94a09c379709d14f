/**
 * A WebAuthn challenge is spent only by a response that verifies ([mfa.md](../../../docs/mfa.md)). Before, it was
 * consumed as @simplewebauthn read it out of the client data — before the origin, RP id and signature checks — so
 * anyone who learned a challenge (an on-path party, a script on a sibling origin) could burn the victim's ceremony
 * with a garbage response naming it (review "opaque values" L2). Now:
 *
 * - a response that fails (wrong origin, bad signature) leaves its challenge usable for the genuine one;
 * - the failures one challenge may take are still bounded (`PASSKEY_CHALLENGE_ATTEMPTS`, counted by a conditional
 *   UPDATE before the response is checked), after which it is dead;
 * - one challenge still verifies once, across instances: several valid responses at once, on two instances over one
 *   SQLite file, sign in (or register) once. (The same over PostgreSQL: mfa-single-use-across-instances.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSKEY_CHALLENGE_ATTEMPTS } from '../src/services/passkeys.js';
import { expectOneWinner, fireAtAll } from './support/cluster.js';
import { startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import {
  assertionResponse,
  newCredential,
  registrationResponse,
  type SoftCredential,
} from './support/soft-authenticator.js';

const EVIL = 'https://evil.example';

let a: TestServer;
/** A second instance over the same SQLite file, keys and KEK. */
let b: TestServer;
let credential: SoftCredential;

beforeAll(async () => {
  a = await startServer();
  b = await startServer({}, { dataDir: a.dataDir });
  const user = await signUpVerified(a, 'victim@example.com');
  credential = newCredential(user.userId);
  const registered = await registerPasskey(a, user.access_token, credential);
  expect(registered.status, registered.text).toBe(201);
});
afterAll(async () => {
  await b?.close({ keepData: true });
  await a?.close();
});

async function loginOptions(server: TestServer = a): Promise<{ challenge: string; rpId?: string }> {
  const res = await server.request('POST', '/api/passkeys/login/options');
  expect(res.status, res.text).toBe(200);
  return res.body;
}

const signIn = (assertion: Record<string, unknown>, server: TestServer = a) =>
  server.request('POST', '/api/passkeys/login', { body: { credential: assertion } });

describe('a sign-in challenge', () => {
  it('survives a forged response naming it (another origin, no valid signature): the genuine one still signs in', async () => {
    const options = await loginOptions();
    const forged = assertionResponse(credential, options, EVIL);
    (forged.response as { signature: string }).signature = Buffer.alloc(64).toString('base64url');
    const refused = await signIn(forged);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('ERR_PASSKEY_INVALID');

    const genuine = await signIn(assertionResponse(credential, options, TEST_ORIGIN));
    expect(genuine.status, genuine.text).toBe(200);
    expect(genuine.body.access_token).toEqual(expect.any(String));
  });

  it('survives a response whose signature does not verify', async () => {
    const options = await loginOptions();
    const tampered = await signIn(assertionResponse(credential, options, TEST_ORIGIN, true));
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe('ERR_PASSKEY_INVALID');
    expect((await signIn(assertionResponse(credential, options, TEST_ORIGIN))).status).toBe(200);
  });

  it('is still single-use: the same genuine response again, or another one, is refused', async () => {
    const options = await loginOptions();
    const assertion = assertionResponse(credential, options, TEST_ORIGIN);
    expect((await signIn(assertion)).status).toBe(200);
    const again = await signIn(assertion);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('ERR_PASSKEY_INVALID');
    const another = await signIn(assertionResponse(credential, options, TEST_ORIGIN));
    expect(another.status).toBe(401);
    expect(another.body.code).toBe('ERR_PASSKEY_INVALID');
  });

  it(`takes ${PASSKEY_CHALLENGE_ATTEMPTS} failed responses, then is dead (a fresh challenge works)`, async () => {
    expect(PASSKEY_CHALLENGE_ATTEMPTS).toBeGreaterThanOrEqual(3);
    expect(PASSKEY_CHALLENGE_ATTEMPTS).toBeLessThanOrEqual(10);
    const options = await loginOptions();
    for (let i = 0; i < PASSKEY_CHALLENGE_ATTEMPTS; i++) {
      const res = await signIn(
        assertionResponse(credential, options, i % 2 === 0 ? EVIL : TEST_ORIGIN, true),
      );
      expect(res.status).toBe(401);
    }
    const late = await signIn(assertionResponse(credential, options, TEST_ORIGIN));
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('ERR_PASSKEY_INVALID');
    expect((await signIn(assertionResponse(credential, await loginOptions(), TEST_ORIGIN))).status).toBe(200);
  });

  it('answered by several different valid responses at once on two instances signs in once', async () => {
    const options = await loginOptions(b);
    const assertions = Array.from({ length: 4 }, () => assertionResponse(credential, options, TEST_ORIGIN));
    const results = await fireAtAll([a, b], assertions.length, (server, i) => signIn(assertions[i]!, server));
    expectOneWinner(results, 200, { status: 401, codes: ['ERR_PASSKEY_INVALID'] });
  });
});

describe('a registration challenge', () => {
  it('survives a response from another origin: the genuine one still registers', async () => {
    const user = await signUpVerified(a, 'registers@example.com');
    const options = await a.request('POST', '/api/passkeys/register/options', { token: user.access_token });
    expect(options.status, options.text).toBe(200);
    const register = (origin: string) =>
      a.request('POST', '/api/passkeys/register', {
        token: user.access_token,
        body: {
          credential: registrationResponse(newCredential(user.userId), options.body, origin),
          name: 'k',
        },
      });
    const forged = await register(EVIL);
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('ERR_PASSKEY_INVALID');
    const genuine = await register(TEST_ORIGIN);
    expect(genuine.status, genuine.text).toBe(201);
  });

  it('answered by several new passkeys at once on two instances registers one', async () => {
    const user = await signUpVerified(a, 'registers-once@example.com');
    const options = await b.request('POST', '/api/passkeys/register/options', { token: user.access_token });
    const results = await fireAtAll([a, b], 4, (server, i) =>
      server.request('POST', '/api/passkeys/register', {
        token: user.access_token,
        body: {
          credential: registrationResponse(newCredential(user.userId), options.body, TEST_ORIGIN),
          name: `key ${i}`,
        },
      }),
    );
    // A loser checked after the winner committed meets the step-up the account's new factor asks for.
    expectOneWinner(results, 201, {
      outcomes: [
        { status: 403, code: 'ERR_PASSKEY_INVALID' },
        { status: 401, code: 'ERR_STEP_UP_REQUIRED' },
      ],
    });
    expect(await a.app.jot.store.mfa.listFactors(user.userId)).toHaveLength(1);
  });
});
