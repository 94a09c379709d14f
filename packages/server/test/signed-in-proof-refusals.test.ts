/**
 * A second-factor proof that does not verify on a route that requires a valid access token — the first code of an
 * authenticator app, a step-up's code, recovery code or passkey assertion, a new passkey's registration response —
 * is a 403 with the proof's own code (`ERR_MFA_CODE_INVALID`, `ERR_PASSKEY_INVALID`) and no `invalid_token`
 * challenge: the access token is fine, so a client must not treat the refusal as a signed-out session (refresh and
 * send it again, spending a second attempt). The sign-in's second step (`/api/login/mfa`), which has no access
 * token, keeps its 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../src/services/totp.js';
import { startServer, type TestResponse, type TestServer, signUpVerified } from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import { assertionResponse, newCredential, type SoftCredential } from './support/soft-authenticator.js';
import { enrolTotp, wrongTotpCode } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** A refusal of an authenticated caller: 403, the code, and no challenge that would call the token invalid. */
function expectRefusedProof(res: TestResponse, code: string): void {
  expect(res.status, res.text).toBe(403);
  expect(res.body.code).toBe(code);
  expect(res.headers.get('www-authenticate') ?? '').not.toMatch(/invalid_token/);
}

describe('wrong second-factor proofs of a signed-in user', () => {
  it('POST /api/mfa/totp/confirm with a wrong code: 403 ERR_MFA_CODE_INVALID; the right code still confirms', async () => {
    const user = await signUpVerified(server, 'confirm@example.com', PASSWORD);
    const start = await server.request('POST', '/api/mfa/totp', { token: user.access_token });
    expect(start.status, start.text).toBe(200);
    const secret = base32Decode(start.body.secret as string);
    const wrong = await server.request('POST', '/api/mfa/totp/confirm', {
      token: user.access_token,
      body: { factor_id: start.body.factor_id, code: wrongTotpCode(secret) },
    });
    expectRefusedProof(wrong, 'ERR_MFA_CODE_INVALID');
    // The same access token still works: it was never the problem.
    const ok = await server.request('POST', '/api/mfa/totp/confirm', {
      token: user.access_token,
      body: { factor_id: start.body.factor_id, code: totpCode(secret, Date.now()) },
    });
    expect(ok.status, ok.text).toBe(200);
  });

  describe('POST /api/mfa/step-up', () => {
    let token: string;
    let secret: Buffer;
    let recoveryCodes: string[];
    let credential: SoftCredential;

    beforeAll(async () => {
      const user = await signUpVerified(server, 'step-up@example.com', PASSWORD);
      const enrolment = await enrolTotp(server, user.access_token);
      secret = enrolment.secret;
      token = enrolment.confirmed.body.access_token as string;
      recoveryCodes = enrolment.confirmed.body.recovery_codes as string[];
      credential = newCredential(user.userId);
      const registered = await registerPasskey(server, token, credential);
      expect(registered.status, registered.text).toBe(201);
    });

    it('a wrong authenticator-app code: 403 ERR_MFA_CODE_INVALID', async () => {
      const res = await server.request('POST', '/api/mfa/step-up', {
        token,
        body: { code: wrongTotpCode(secret) },
      });
      expectRefusedProof(res, 'ERR_MFA_CODE_INVALID');
    });

    it('a used recovery code: 403 ERR_MFA_CODE_INVALID', async () => {
      const first = await server.request('POST', '/api/mfa/step-up', {
        token,
        body: { recovery_code: recoveryCodes[0] },
      });
      expect(first.status, first.text).toBe(200);
      token = first.body.access_token as string;
      const again = await server.request('POST', '/api/mfa/step-up', {
        token,
        body: { recovery_code: recoveryCodes[0] },
      });
      expectRefusedProof(again, 'ERR_MFA_CODE_INVALID');
    });

    it('a passkey assertion that does not verify: 403 ERR_PASSKEY_INVALID', async () => {
      const options = await server.request('POST', '/api/mfa/step-up/passkey-options', { token });
      expect(options.status, options.text).toBe(200);
      const res = await server.request('POST', '/api/mfa/step-up', {
        token,
        body: { webauthn: assertionResponse(credential, options.body, TEST_ORIGIN, true) },
      });
      expectRefusedProof(res, 'ERR_PASSKEY_INVALID');
    });
  });

  it('POST /api/passkeys/register with a response that does not verify: 403 ERR_PASSKEY_INVALID', async () => {
    const user = await signUpVerified(server, 'passkey@example.com', PASSWORD);
    // Answered for another origin: the client data does not verify.
    const res = await registerPasskey(server, user.access_token, newCredential(user.userId), {
      origin: 'http://evil.test',
    });
    expectRefusedProof(res, 'ERR_PASSKEY_INVALID');
  });

  it('the OpenAPI document lists the 403 of each of these routes', async () => {
    const api = await server.request('GET', '/openapi.json');
    for (const path of ['/api/mfa/totp/confirm', '/api/mfa/step-up', '/api/passkeys/register'])
      expect(Object.keys(api.body.paths[path].post.responses), path).toEqual(
        expect.arrayContaining(['401', '403']),
      );
  });

  it('an access token that is not valid is still a 401 with an invalid_token challenge', async () => {
    const res = await server.request('POST', '/api/mfa/step-up', {
      token: 'not.a.token',
      body: { code: '123456' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('the sign-in second step (no access token) keeps its 401 ERR_MFA_CODE_INVALID', async () => {
    const user = await signUpVerified(server, 'signin@example.com', PASSWORD);
    const { secret } = await enrolTotp(server, user.access_token);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'signin@example.com', password: PASSWORD },
    });
    expect(login.status, login.text).toBe(403);
    const res = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: login.body.mfa_token, code: wrongTotpCode(secret) },
    });
    expect(res.status, res.text).toBe(401);
    expect(res.body.code).toBe('ERR_MFA_CODE_INVALID');
  });
});
