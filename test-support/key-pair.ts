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

/** The WebCrypto algorithms tests make pairs for, with the node:crypto spec behind each. */
export type WebCryptoKeyAlgorithm =
  | { name: 'ECDSA'; namedCurve: 'P-256' | 'P-384' | 'P-521' }
  | { name: 'RSASSA-PKCS1-v1_5'; modulusLength: number; hash: 'SHA-256' | 'SHA-384' | 'SHA-512' };

/**
 * `crypto.subtle.generateKey` for tests, without its generation job: WebCrypto's keys share their data (and its
 * mutex) with the job the same way, so the pair is generated encoded by node:crypto and imported (extractable).
 */
export async function webCryptoKeyPair(algorithm: WebCryptoKeyAlgorithm): Promise<CryptoKeyPair> {
  const spec: KeyPairSpec =
    algorithm.name === 'ECDSA'
      ? { type: 'ec', namedCurve: algorithm.namedCurve }
      : { type: 'rsa', modulusLength: algorithm.modulusLength };
  const { privateKey, publicKey } = encodedPair(spec);
  const params: EcKeyImportParams | RsaHashedImportParams =
    algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', namedCurve: algorithm.namedCurve }
      : { name: 'RSASSA-PKCS1-v1_5', hash: algorithm.hash };
  return {
    privateKey: await crypto.subtle.importKey('pkcs8', new Uint8Array(privateKey), params, true, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', new Uint8Array(publicKey), params, true, ['verify']),
  };
}
