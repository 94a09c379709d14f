/**
 * Key pairs for tests, made so that no key handed out shares its key data (and mutex) with Node's generation job.
 * That job's destructor locks the generated key's mutex; exporting a key from `generateKeyPairSync` (which holds the
 * same mutex while it allocates) can start the garbage collection that runs it, and the thread then waits for its
 * own lock forever — a test suite hung on it once. The pair is asked for already encoded (DER) and imported again,
 * as `@jot/jose`'s `generateKeyPair` does.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The key types tests generate, with their options. */
export type KeyPairSpec =
  | { type: 'ec'; namedCurve: string }
  | { type: 'rsa'; modulusLength: number }
  | { type: 'ed25519' }
  | { type: 'x25519' };

const PRIVATE_DER = { type: 'pkcs8', format: 'der' } as const;
const PUBLIC_DER = { type: 'spki', format: 'der' } as const;

function encodedPair(spec: KeyPairSpec): { privateKey: Buffer; publicKey: Buffer } {
  switch (spec.type) {
    case 'ec':
      return generateKeyPairSync('ec', {
        namedCurve: spec.namedCurve,
        privateKeyEncoding: PRIVATE_DER,
        publicKeyEncoding: PUBLIC_DER,
      });
    case 'rsa':
      return generateKeyPairSync('rsa', {
        modulusLength: spec.modulusLength,
        privateKeyEncoding: PRIVATE_DER,
        publicKeyEncoding: PUBLIC_DER,
      });
    case 'ed25519':
      return generateKeyPairSync('ed25519', {
        privateKeyEncoding: PRIVATE_DER,
        publicKeyEncoding: PUBLIC_DER,
      });
    case 'x25519':
      return generateKeyPairSync('x25519', {
        privateKeyEncoding: PRIVATE_DER,
        publicKeyEncoding: PUBLIC_DER,
      });
  }
}

/** A fresh key pair whose keys are independent of the generation job. */
export function keyPair(spec: KeyPairSpec): { privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = encodedPair(spec);
  return {
    privateKey: createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }),
  };
}
