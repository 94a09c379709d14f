/**
 * The passkey algorithms Jot offers and accepts are its own list — EdDSA, ES256, RS256 — on every Node release.
 * `@simplewebauthn/server`'s default list adds ML-DSA-44 first where the runtime's Web Crypto has it (Node 24, as an
 * experimental feature, not Node 20 or 22), so on Node 24 Jot offered it and registered such passkeys (with "none"
 * attestation nothing else looks at the key), which then could not sign in on an older Node; and the probe printed an
 * ExperimentalWarning on the server's stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isoCBOR } from '@simplewebauthn/server/helpers';

import { signUpVerified, startServer, type TestServer } from './support/jot-server.js';
import { newCredential, registrationResponse } from './support/soft-authenticator.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('passkey algorithms', () => {
  it('registration options offer EdDSA, ES256 and RS256, in that order, and nothing else', async () => {
    const user = await signUpVerified(server, 'algorithms@example.com');
    const options = await server.request('POST', '/api/passkeys/register/options', {
      token: user.access_token,
    });
    expect(options.status, options.text).toBe(200);
    expect(options.body.pubKeyCredParams).toEqual([
      { alg: -8, type: 'public-key' },
      { alg: -7, type: 'public-key' },
      { alg: -257, type: 'public-key' },
    ]);
  });

  it('an ML-DSA-44 passkey is refused (403 ERR_PASSKEY_INVALID) and not stored, whatever the Node release supports', async () => {
    const user = await signUpVerified(server, 'ml-dsa@example.com');
    const credential = newCredential(user.userId);
    // COSE_Key of type AKP (7), alg ML-DSA-44 (-48), and a public key of ML-DSA-44's length (1312 bytes).
    credential.cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 7],
        [3, -48],
        [-1, new Uint8Array(1312).fill(7)],
      ]),
    );
    const options = await server.request('POST', '/api/passkeys/register/options', {
      token: user.access_token,
    });
    const registered = await server.request('POST', '/api/passkeys/register', {
      token: user.access_token,
      body: { credential: registrationResponse(credential, options.body, server.config.issuer), name: 'pqc' },
    });
    expect(registered.status, registered.text).toBe(403);
    expect(registered.body.code).toBe('ERR_PASSKEY_INVALID');
    const status = await server.request('GET', '/api/mfa', { token: user.access_token });
    expect(status.body.factors).toEqual([]);
  });
});
