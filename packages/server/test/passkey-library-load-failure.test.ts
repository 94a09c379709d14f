/**
 * `@simplewebauthn/server` is loaded at the first passkey request, not with the server (services/lazy-webauthn.ts).
 * When it fails to load, the server still starts and everything else works, and every passkey request fails as an
 * internal error (500 `ERR_INTERNAL`, the cause in the log) — never as a refused or malformed passkey, which would
 * tell the user their passkey is at fault — on each request, not only the first.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { signUpVerified, startServer, type TestServer } from './support/jot-server.js';
import { TEST_ORIGIN } from './support/passkey-registration.js';
import { assertionResponse, newCredential } from './support/soft-authenticator.js';

vi.mock('@simplewebauthn/server', () => {
  throw new Error('simulated: @simplewebauthn/server did not load');
});

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startServer();
  token = (await signUpVerified(server, 'ada@example.com')).access_token;
});
afterAll(async () => {
  await server.close();
});

describe('a WebAuthn library that fails to load', () => {
  it('answers passkey options 500 ERR_INTERNAL, every time', async () => {
    for (const attempt of [1, 2]) {
      const signIn = await server.request('POST', '/api/passkeys/login/options');
      expect(signIn.status, `attempt ${attempt}: ${signIn.text}`).toBe(500);
      expect(signIn.body.code).toBe('ERR_INTERNAL');
      const register = await server.request('POST', '/api/passkeys/register/options', { token });
      expect(register.status, `attempt ${attempt}: ${register.text}`).toBe(500);
      expect(register.body.code).toBe('ERR_INTERNAL');
    }
  });

  it('answers a passkey sign-in 500 ERR_INTERNAL, not ERR_PASSKEY_INVALID', async () => {
    const credential = assertionResponse(
      newCredential('someone'),
      { challenge: Buffer.from('not issued').toString('base64url'), rpId: 'jot.test' },
      TEST_ORIGIN,
    );
    const res = await server.request('POST', '/api/passkeys/login', { body: { credential } });
    expect(res.status, res.text).toBe(500);
    expect(res.body.code).toBe('ERR_INTERNAL');
  });

  it('leaves everything else working: a password sign-in succeeds', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'ada@example.com', password: 'correct horse battery' },
    });
    expect(login.status, login.text).toBe(200);
  });
});
