/**
 * A DPoP proof's header names the key that signed it, also after the key store's `clear()`. The signer cached the
 * encoded header (with the public JWK) once, forever: after `clear()` ("forgets the key, after which a new one is
 * made") proofs were signed by the new private key but carried the old public key, so none verified and sign-in with
 * that signer (or client) could never succeed again.
 */
import { describe, expect, it } from 'vitest';

import { createDPoPSigner, memoryKeyStore } from '../src/index.js';

const decoder = new TextDecoder();
const fromB64url = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(Buffer.from(s, 'base64url'));

async function proofVerifies(proof: string): Promise<boolean> {
  const [h, p, s] = proof.split('.') as [string, string, string];
  const header = JSON.parse(decoder.decode(fromB64url(h))) as { jwk: JsonWebKey };
  const key = await crypto.subtle.importKey(
    'jwk',
    header.jwk,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    fromB64url(s),
    new TextEncoder().encode(`${h}.${p}`),
  );
}

describe('DPoP signer after the key store is cleared', () => {
  it('signs proofs whose header jwk matches the key that signed them', async () => {
    const keys = memoryKeyStore();
    const signer = createDPoPSigner(keys);
    expect(await proofVerifies(await signer.proof('POST', 'http://jot.test/api/login'))).toBe(true);
    await signer.keys.clear(); // a new key is made on next use
    expect(await proofVerifies(await signer.proof('POST', 'http://jot.test/api/login'))).toBe(true);
  });
});
