/**
 * `importSecret` refuses key material in every usual form (RFC 8725 §3.1; fast-jwt CVE-2023-48223 and its variants):
 * a public key loaded as an HMAC secret lets anyone who holds it mint tokens. DER in PKCS #1 and SEC 1 as well as
 * SPKI/PKCS #8, X.509 certificates, PEM text that is not clean UTF-8, and JWK JSON behind a BOM. And a header nested
 * thousands deep is checked like any other, never a stack overflow (a `RangeError` is not a `JoseError`).
 */
import { Buffer } from 'node:buffer';
import { createHmac, generateKeyPairSync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { JoseError, createVerifier, importSecret } from '../src/index.js';
import { claims, forge, NOW_DATE, SECRET_KEY } from './support/tokens.js';

function refusal(bytes: Buffer): unknown {
  try {
    importSecret(bytes);
  } catch (error) {
    return error instanceof JoseError ? error.reason : error;
  }
  return 'accepted';
}

describe('importSecret refuses key material', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = String(rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  const forms: Record<string, Buffer> = {
    'RSA public key, PKCS #1 DER': rsa.publicKey.export({ format: 'der', type: 'pkcs1' }),
    'RSA private key, PKCS #1 DER': rsa.privateKey.export({ format: 'der', type: 'pkcs1' }),
    'EC private key, SEC 1 DER': ec.privateKey.export({ format: 'der', type: 'sec1' }),
    'a PEM with a stray non-UTF-8 byte': Buffer.concat([Buffer.from(pem), Buffer.from([0xff])]),
    'a PEM in UTF-16': Buffer.from(pem, 'utf16le'),
    'JWK JSON behind a BOM': Buffer.from(`\uFEFF${JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))}`),
  };
  for (const [name, bytes] of Object.entries(forms)) {
    it(`${name} → ERR_KEY_INVALID not_secret`, () => {
      expect(refusal(bytes)).toBe('not_secret');
    });
  }

  it('random bytes are still a secret', () => {
    expect(
      refusal(Buffer.from('7b0f3c9a1e44d2b8a6c5f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f', 'hex')),
    ).toBe('accepted');
  });

  it('no HS256 token MACed with a PKCS #1 public key is ever accepted through it', () => {
    const publicDer = rsa.publicKey.export({ format: 'der', type: 'pkcs1' });
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const p = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    const forged = `${h}.${p}.${createHmac('sha256', publicDer).update(`${h}.${p}`).digest('base64url')}`;
    expect(() =>
      createVerifier(importSecret(publicDer), { algorithms: ['HS256'], currentDate: NOW_DATE })(forged),
    ).toThrow(JoseError);
  });
});

describe('hostile header nesting', () => {
  it('a header nested 20 000 deep (under a raised maxTokenLength) is checked, never a stack overflow', () => {
    const depth = 20_000;
    const header = `{"alg":"HS256","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const verify = createVerifier(SECRET_KEY, {
      algorithms: ['HS256'],
      maxTokenLength: 65_536,
      currentDate: NOW_DATE,
    });
    // Correctly signed: an unknown header member is no reason to refuse. Signed with another key: refused.
    expect(verify(forge(header, claims())).payload.sub).toBe('user-1');
    expect(() => verify(forge(header, claims(), Buffer.alloc(32, 7)))).toThrow(JoseError);
  });
});
