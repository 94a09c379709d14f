/**
 * Encrypted access tokens at the resource server: nested JWTs (from Jot's sealer or the `jose` package) are
 * decrypted with the service's private key and their inner JWS verified as usual; tampering, attack headers,
 * a missing inner `typ` and plain tokens under `required` are refused.
 */

import { CompactEncrypt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encryptJWT, importEncryptionKey, signJWS, type JWK } from '@jot/jose';

import { createVerifier, type Verifier } from '../src/index.js';
import { AUDIENCE, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { recordingLogger } from './support/wait.js';
import { keyPair } from '../../../test-support/key-pair.js';

const ec = {
  ...keyPair({ type: 'ec', namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  alg: 'ECDH-ES+A256KW',
  kid: 'svc-ec',
} as JWK;
const rsa = {
  ...keyPair({ type: 'rsa', modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  alg: 'RSA-OAEP-256',
  kid: 'svc-rsa',
} as JWK;

function header(patch: Record<string, unknown>, jwe: string): string {
  const [h, ...rest] = jwe.split('.');
  const parsed = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), ...patch };
  return [Buffer.from(JSON.stringify(parsed)).toString('base64url'), ...rest].join('.');
}

describe('encrypted access tokens in @jot/verify', () => {
  let issuer: FakeIssuer;
  let verifier: Verifier;
  let strict: Verifier;

  beforeAll(async () => {
    issuer = await startFakeIssuer();
    const base = {
      issuer: issuer.url,
      audience: AUDIENCE,
      revocation: 'none' as const,
      logger: recordingLogger(),
    };
    verifier = createVerifier({ ...base, decryption: { keys: [ec, rsa] } });
    strict = createVerifier({ ...base, decryption: { keys: [ec], required: true } });
    await Promise.all([verifier.ready(), strict.ready()]);
  });
  afterAll(async () => {
    await Promise.all([verifier?.close(), strict?.close()]);
    await issuer?.close();
  });

  const bearer = (token: string) => ({
    method: 'GET',
    url: '/me',
    headers: { authorization: `Bearer ${token}` },
  });

  it.each([
    ['ECDH-ES+A256KW', ec],
    ['RSA-OAEP-256', rsa],
  ] as const)('decrypts %s tokens and verifies the inner JWS', async (_alg, jwk) => {
    const inner = issuer.tokens.sign({ sub: 'enc-user' });
    const { d: _d, ...pub } = jwk as Record<string, unknown>;
    const jwe = await encryptJWT(inner, importEncryptionKey(pub), { typ: 'at+jwt' });
    const result = await verifier.authenticate(bearer(jwe));
    expect(result.ok && result.auth.claims.sub).toBe('enc-user');
    expect(result.ok && result.auth.token).toBe(jwe);
  });

  it('decrypts a token the jose package encrypted', async () => {
    const inner = issuer.tokens.sign({ sub: 'jose-user' });
    const jwe = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: 'svc-ec' })
      .encrypt(importEncryptionKey(ec).publicJwk);
    const result = await verifier.authenticate(bearer(jwe));
    expect(result.ok && result.auth.claims.sub).toBe('jose-user');
  });

  it('refuses tampering, RSA1_5, zip, and an inner JWS without typ', async () => {
    const { d: _d, ...pub } = ec as Record<string, unknown>;
    const key = importEncryptionKey(pub);
    const jwe = await encryptJWT(issuer.tokens.sign(), key);
    const parts = jwe.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'AB' : 'AA'}`;
    const codes = await Promise.all(
      [parts.join('.'), header({ alg: 'RSA1_5' }, jwe), header({ zip: 'DEF' }, jwe)].map(async (t) => {
        const r = await verifier.authenticate(bearer(t));
        return r.ok ? 'ok' : `${r.response.status}:${r.error.code}`;
      }),
    );
    expect(codes[0]).toMatch(/^401:ERR_JWE_(DECRYPTION_FAILED|INVALID)$/);
    expect(codes.slice(1)).toEqual(['401:ERR_JWE_INVALID', '401:ERR_JWE_INVALID']);
    const untyped = signJWS(JSON.stringify({ sub: 'x' }), issuer.tokens.keys[0]!);
    const r = await verifier.authenticate(bearer(await encryptJWT(untyped, key)));
    expect(!r.ok && r.error.code).toBe('ERR_JWE_INVALID');
  });

  it('refuses plain signed tokens when encryption is required', async () => {
    const r = await strict.authenticate(bearer(issuer.tokens.sign()));
    expect(!r.ok && r.error.code).toBe('ERR_VERIFY_NOT_ENCRYPTED');
  });

  it('refuses public keys as decryption keys when built', () => {
    const { d: _d, ...pub } = ec as Record<string, unknown>;
    expect(() =>
      createVerifier({
        issuer: issuer.url,
        audience: AUDIENCE,
        revocation: 'none',
        decryption: { keys: [pub as JWK] },
      }),
    ).toThrow(TypeError);
  });
});
