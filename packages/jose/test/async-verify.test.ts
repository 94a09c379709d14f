/**
 * `verifier.async` and `signer.async`: the same checks and the same errors as the synchronous verifier, with the asymmetric signature
 * verified on libuv's thread pool (so `@jot/verify` can spread a queue of requests over every core).
 */
import { describe, expect, it } from 'vitest';

import { JoseError, createSigner, createVerifier, sign, type Algorithm } from '../src/index.js';
import { ALL_ALGS, fixture } from './support/keys.js';
import { NOW, NOW_DATE } from './support/tokens.js';

function tokenFor(alg: Algorithm, extra: Record<string, unknown> = {}): string {
  return sign({ sub: 'user-1', ...extra }, fixture(alg).signingKey, {
    alg,
    expiresIn: '1h',
    issuer: 'https://jot',
    currentDate: NOW_DATE,
  });
}

/** The error code of a rejected promise (or 'ok'). */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof JoseError) return error.code;
    throw error;
  }
}

/** Flips one bit in the middle of the signature, keeping its length. */
function tamper(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(s, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}

describe('verifier.async', () => {
  for (const alg of ALL_ALGS) {
    describe(alg, () => {
      const verifier = createVerifier(fixture(alg).verifyingKey, {
        algorithms: [alg],
        issuer: 'https://jot',
        currentDate: NOW_DATE,
      });

      it('accepts a valid token with the same result as the synchronous call', async () => {
        const token = tokenFor(alg);
        const viaPool = await verifier.async(token);
        const inline = verifier(token);
        expect(viaPool.payload).toEqual(inline.payload);
        expect(viaPool.header).toEqual(inline.header);
        expect(viaPool.key).toBe(inline.key);
      });

      it('rejects a tampered signature with ERR_JWS_SIGNATURE_INVALID', async () => {
        expect(await codeOf(verifier.async(tamper(tokenFor(alg))))).toBe('ERR_JWS_SIGNATURE_INVALID');
      });

      it('checks the claims after the signature (expired → ERR_JWT_EXPIRED)', async () => {
        const late = new Date((NOW + 7200) * 1000);
        expect(await codeOf(verifier.async(tokenFor(alg), { currentDate: late }))).toBe('ERR_JWT_EXPIRED');
      });
    });
  }

  it('refuses malformed input before any crypto, synchronously inside the promise', async () => {
    const verifier = createVerifier(fixture('RS256').verifyingKey, { algorithms: ['RS256'] });
    expect(await codeOf(verifier.async('not-a-token'))).toMatch(/^ERR_/);
    expect(await codeOf(verifier.async(tokenFor('ES256')))).toMatch(/^ERR_J/); // alg not allowed
  });

  it('turns an RSA signature OpenSSL refuses (value ≥ modulus) into a bad signature, not a crash', async () => {
    const verifier = createVerifier(fixture('RS256').verifyingKey, { algorithms: ['RS256'] });
    const [h, p, s] = tokenFor('RS256').split('.') as [string, string, string];
    const huge = Buffer.alloc(Buffer.from(s, 'base64url').length, 0xff).toString('base64url');
    expect(await codeOf(verifier.async(`${h}.${p}.${huge}`))).toBe('ERR_JWS_SIGNATURE_INVALID');
  });

  it('returns before the signature is checked, so the event loop stays free meanwhile', async () => {
    const verifier = createVerifier(fixture('RS256').verifyingKey, {
      algorithms: ['RS256'],
      currentDate: NOW_DATE,
    });
    let settled = false;
    const pending = verifier.async(tokenFor('RS256')).then(() => (settled = true));
    expect(settled).toBe(false);
    await pending;
    expect(settled).toBe(true);
  });
});

describe('signer.async', () => {
  for (const alg of ALL_ALGS) {
    it(`${alg}: makes a token the verifier accepts, with the same header and claims as the inline signer`, async () => {
      const signer = createSigner(fixture(alg).signingKey, { alg, issuer: 'https://jot', expiresIn: '1h' });
      const at = { currentDate: NOW_DATE };
      const viaPool = await signer.async({ sub: 'user-1' }, at);
      const inline = signer({ sub: 'user-1' }, at);
      const verifier = createVerifier(fixture(alg).verifyingKey, {
        algorithms: [alg],
        currentDate: NOW_DATE,
      });
      expect(verifier(viaPool).payload).toEqual(verifier(inline).payload);
      expect(viaPool.split('.').slice(0, 2)).toEqual(inline.split('.').slice(0, 2));
    });
  }

  it('rejects (never throws synchronously) on bad claims', async () => {
    const signer = createSigner(fixture('RS256').signingKey, { alg: 'RS256' });
    const pending = signer.async(null as never);
    await expect(pending).rejects.toThrow(TypeError);
  });
});
