/**
 * Key fixtures, generated once per test file: one RSA 2048 pair shared by the RS and PS algorithms, one pair per curve, one Ed25519
 * pair, one secret per HMAC size. Each is offered as Jot `Key`s, PEM text and Node `KeyObject`s for interop.
 */
import type { Buffer } from 'node:buffer';
import { randomBytes, type KeyObject } from 'node:crypto';

import { importPEM, importSecret, type Algorithm, type Key } from '../../src/index.js';
import { keyPair } from '../../../../test-support/key-pair.js';

/** Every algorithm name Jot implements except the `Ed25519` alias. */
export const ALL_ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const satisfies readonly Algorithm[];

export const ASYMMETRIC_ALGS = ALL_ALGS.filter((alg) => !alg.startsWith('HS'));

/** Everything a test may need about the key material for one algorithm. */
export interface Fixture {
  readonly alg: Algorithm;
  /** The signing key (private key or secret). */
  readonly signingKey: Key;
  /** The verifying key (public key or the same secret). */
  readonly verifyingKey: Key;
  /** PEM (SPKI / PKCS #8) text; undefined for secrets. */
  readonly publicPem: string | undefined;
  readonly privatePem: string | undefined;
  readonly publicKeyObject: KeyObject | undefined;
  readonly privateKeyObject: KeyObject | undefined;
  /** Raw secret bytes for HMAC. */
  readonly secret: Buffer | undefined;
}

const pairs = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();

function pair(kind: 'rsa' | 'P-256' | 'P-384' | 'P-521' | 'ed25519') {
  let found = pairs.get(kind);
  if (found === undefined) {
    if (kind === 'rsa') found = keyPair({ type: 'rsa', modulusLength: 2048 });
    else if (kind === 'ed25519') found = keyPair({ type: 'ed25519' });
    else found = keyPair({ type: 'ec', namedCurve: kind });
    pairs.set(kind, found);
  }
  return found;
}

const fixtures = new Map<Algorithm, Fixture>();

/** The (cached) fixture for `alg`. */
export function fixture(alg: Algorithm): Fixture {
  const cached = fixtures.get(alg);
  if (cached !== undefined) return cached;
  let made: Fixture;
  if (alg.startsWith('HS')) {
    const secret = randomBytes(Number(alg.slice(2)) / 8);
    const key = importSecret(secret, { alg });
    made = {
      alg,
      signingKey: key,
      verifyingKey: key,
      publicPem: undefined,
      privatePem: undefined,
      publicKeyObject: undefined,
      privateKeyObject: undefined,
      secret,
    };
  } else {
    const kind =
      alg.startsWith('RS') || alg.startsWith('PS')
        ? 'rsa'
        : alg === 'ES256'
          ? 'P-256'
          : alg === 'ES384'
            ? 'P-384'
            : alg === 'ES512'
              ? 'P-521'
              : 'ed25519';
    const { publicKey, privateKey } = pair(kind);
    const publicPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    made = {
      alg,
      signingKey: importPEM(privatePem, { alg }),
      verifyingKey: importPEM(publicPem, { alg }),
      publicPem,
      privatePem,
      publicKeyObject: publicKey,
      privateKeyObject: privateKey,
      secret: undefined,
    };
  }
  fixtures.set(alg, made);
  return made;
}
