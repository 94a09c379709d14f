/**
 * The refusals of second-factor enrolment and passkey sign-in, over HTTP with a software authenticator: a second
 * authenticator app while one is set up (409 `ERR_MFA_ALREADY_ENROLLED`), recovery codes without a second factor
 * (409 `ERR_MFA_NOT_ENROLLED`), a passkey that another account already registered (409 `ERR_PASSKEY_EXISTS`), and
 * passkey assertions that do not verify (401 `ERR_PASSKEY_INVALID`: a spoiled signature, an unknown credential, a
 * replayed challenge) — each next to the request that succeeds, so the refusal is for the stated reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer, signUpVerified } from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import { assertionResponse, newCredential, type SoftCredential } from './support/soft-authenticator.js';
import { enrolTotp } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

async function passkeyLogin(credential: SoftCredential, tamper = false) {
  const options = await server.request('POST', '/api/passkeys/login/options');
  expect(options.status).toBe(200);
  const credentialJson = assertionResponse(credential, options.body, TEST_ORIGIN, tamper);
  const res = await server.request('POST', '/api/passkeys/login', { body: { credential: credentialJson } });
  return { res, credentialJson };
}

describe('second-factor enrolment refusals', () => {
  it('recovery codes before any second factor: 409 ERR_MFA_NOT_ENROLLED', async () => {
    const user = await signUpVerified(server, 'no-factor@example.com', PASSWORD);
    const res = await server.request('POST', '/api/mfa/recovery-codes', { token: user.access_token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ERR_MFA_NOT_ENROLLED');
    expect(res.body.error_description).toMatch(/set up a second factor/);
  });

  it('a second authenticator app while one is set up: 409 ERR_MFA_ALREADY_ENROLLED', async () => {
    const user = await signUpVerified(server, 'totp-twice@example.com', PASSWORD);
    const start = await server.request('POST', '/api/mfa/totp', { token: user.access_token });
    expect(start.status).toBe(200);
    // Until confirmed, starting over is allowed (the pending enrolment is replaced): the restart is confirmed.
    const { confirmed } = await enrolTotp(server, user.access_token);
    const again = await server.request('POST', '/api/mfa/totp', { token: confirmed.body.access_token });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ERR_MFA_ALREADY_ENROLLED');
    expect(again.body.error_description).toMatch(/remove it before adding another/);
    // With a factor, recovery codes can now be replaced.
    const codes = await server.request('POST', '/api/mfa/recovery-codes', {
      token: confirmed.body.access_token,
    });
    expect(codes.status).toBe(200);
    expect(codes.body.recovery_codes).toHaveLength(10);
  });
});

describe('passkeys', () => {
  let credential: SoftCredential;
  let ownerId: string;

  it('a passkey registers and signs in without a password', async () => {
    const owner = await signUpVerified(server, 'passkey-owner@example.com', PASSWORD);
    ownerId = owner.userId;
    credential = newCredential(owner.userId);
    const registered = await registerPasskey(server, owner.access_token, credential);
    expect(registered.status, registered.text).toBe(201);
    expect(registered.body.recovery_codes).toHaveLength(10);
    const { res } = await passkeyLogin(credential);
    expect(res.status, res.text).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });

  it('the same passkey registered by another account: 409 ERR_PASSKEY_EXISTS', async () => {
    const other = await signUpVerified(server, 'passkey-copier@example.com', PASSWORD);
    const res = await registerPasskey(server, other.access_token, credential);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ERR_PASSKEY_EXISTS');
    // Nothing was stored for the other account, and the owner's passkey still signs in as the owner.
    const factors = await server.request('GET', '/api/mfa', { token: other.access_token });
    expect(JSON.stringify(factors.body)).not.toContain('Soft key');
    const { res: login } = await passkeyLogin(credential);
    expect(login.status).toBe(200);
    const me = await server.request('GET', '/api/whoami', { token: login.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body.claims.sub).toBe(ownerId);
  });

  it('assertions that do not verify: 401 ERR_PASSKEY_INVALID', async () => {
    const spoiled = await passkeyLogin(credential, true);
    expect(spoiled.res.status).toBe(401);
    expect(spoiled.res.body.code).toBe('ERR_PASSKEY_INVALID');

    const unknown = await passkeyLogin(newCredential('nobody'));
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.body.code).toBe('ERR_PASSKEY_INVALID');
    expect(unknown.res.body.error_description).toMatch(/not registered/);

    // A valid assertion replayed: its challenge was consumed by the first use.
    const first = await passkeyLogin(credential);
    expect(first.res.status).toBe(200);
    const replay = await server.request('POST', '/api/passkeys/login', {
      body: { credential: first.credentialJson },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('ERR_PASSKEY_INVALID');
  });
});
