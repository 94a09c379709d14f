/**
 * `Key`: one imported key, bound at import time to the algorithm family it was made for. A key never changes
 * family: an RSA public key can only verify RS/PS signatures, never serve as an HMAC secret (the algorithm-confusion
 * class of bugs, jsonwebtoken CVE-2015-9235 and fast-jwt CVE-2023-48223).
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';

import { ALGORITHMS, type Algorithm, type AlgorithmSpec, type KeyFamily } from '../lib/algorithms.js';
import { JoseError } from '../errors.js';
import type { JWK } from './types.js';
import { thumbprintOf } from './thumbprint.js';
import { keyInput, type KeyInput } from '../lib/signature.js';

/** Whether a key holds a shared secret, a public key, or a private key. */
export type KeyType = 'secret' | 'public' | 'private';

/** Options every import function takes. */
export interface KeyOptions {
  /** Bind the key to exactly this algorithm. Must belong to the key's family. */
  alg?: Algorithm;
  /** Key id; defaults to the RFC 7638 SHA-256 thumbprint. */
  kid?: string;
}

const EC_CURVES: ReadonlyMap<string, 'P-256' | 'P-384' | 'P-521'> = new Map([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
]);

/** The smallest RSA modulus accepted (RFC 7518 §3.3 and §3.5). */
export const MIN_RSA_BITS = 2048;

/** A key usable for signing or verifying, bound to an algorithm family. Create one with the import functions. */
export class Key {
  /** Secret, public or private. */
  readonly type: KeyType;
  /** The JWK key type, which is also the algorithm family. */
  readonly family: KeyFamily;
  /** The Node key object, created once and reused for every operation. */
  readonly keyObject: KeyObject;
  /** Every algorithm this key may be used with. */
  readonly algorithms: ReadonlySet<Algorithm>;
  /** The single algorithm this key is bound to, when there is exactly one. */
  readonly alg: Algorithm | undefined;
  /** EC or OKP curve name as in JWK `crv`. */
  readonly curve: string | undefined;
  /** Secret length or RSA modulus length, in bits; curve size for EC/OKP. */
  readonly bits: number;
  #kid: string | undefined;
  #public: Key | undefined;
  readonly #inputs = new Map<string, KeyInput>();

  /** @internal Use `importJWK`, `importPEM`, `importSecret`, `generateKeyPair` or `generateSecret`. */
  constructor(keyObject: KeyObject, options: KeyOptions = {}) {
    this.keyObject = keyObject;
    this.type = keyObject.type;
    const { family, curve, bits, algorithms } = describe(keyObject);
    this.family = family;
    this.curve = curve;
    this.bits = bits;
    if (options.alg !== undefined) {
      if (!algorithms.includes(options.alg)) {
        throw new JoseError(
          'ERR_KEY_INVALID',
          `this ${describeKey(this)} cannot be used with ${options.alg}`,
          {
            claim: 'alg',
            reason: 'family',
          },
        );
      }
      this.algorithms = new Set([options.alg]);
      this.alg = options.alg;
    } else {
      this.algorithms = new Set(algorithms);
      this.alg = algorithms.length === 1 ? algorithms[0] : undefined;
    }
    if (options.kid !== undefined && (typeof options.kid !== 'string' || options.kid.length === 0)) {
      throw new JoseError('ERR_KEY_INVALID', 'kid must be a non-empty string', {
        claim: 'kid',
        reason: 'type',
      });
    }
    this.#kid = options.kid;
  }

  /** Key id: the one given at import, else the RFC 7638 SHA-256 thumbprint (computed once). */
  get kid(): string {
    this.#kid ??= this.thumbprint();
    return this.#kid;
  }

  /** Key-resolver form of a single key: this key if it may be used with `alg`, else `ERR_JOSE_KEY_MISMATCH`. */
  select(alg: Algorithm, _kid?: string): Key {
    if (this.algorithms.has(alg)) return this;
    throw new JoseError('ERR_JOSE_KEY_MISMATCH', `the ${describeKey(this)} cannot verify ${alg} tokens`, {
      claim: 'alg',
      reason: 'family',
    });
  }

  /** True when this key may be used with `alg`. */
  supports(alg: string): boolean {
    return this.algorithms.has(alg as Algorithm);
  }

  /** The algorithm table entry for `alg` if this key may use it. */
  spec(alg: string): AlgorithmSpec | undefined {
    return this.algorithms.has(alg as Algorithm) ? ALGORITHMS.get(alg) : undefined;
  }

  /** @internal The `crypto.sign`/`crypto.verify` key argument for `spec`, built once. */
  operationInput(spec: AlgorithmSpec): KeyInput {
    let input = this.#inputs.get(spec.alg);
    if (input === undefined) {
      input = keyInput(spec, this.keyObject);
      this.#inputs.set(spec.alg, input);
    }
    return input;
  }

  /** The public half of a private key (the key itself when it is already public). Secrets have none. */
  publicKey(): Key {
    if (this.type === 'public') return this;
    if (this.type === 'secret') throw new TypeError('a shared secret has no public key');
    this.#public ??= new Key(createPublicKey(this.keyObject), { alg: this.alg, kid: this.kid });
    return this.#public;
  }

  /**
   * The key as a JWK with `kid`, `alg` (when bound to one) and `use: "sig"`. Private and secret members are only
   * included with `{ includePrivate: true }`, so publishing a key set cannot leak them by accident.
   */
  toJWK(options: { includePrivate?: boolean } = {}): JWK {
    if (this.type !== 'public' && !options.includePrivate) {
      if (this.type === 'secret')
        throw new TypeError('refusing to export a secret key without includePrivate: true');
      return this.publicKey().toJWK();
    }
    const exported = this.keyObject.export({ format: 'jwk' }) as JWK;
    const jwk: JWK = { ...exported, kid: this.kid, use: 'sig' };
    if (this.alg !== undefined) jwk.alg = this.alg;
    return jwk;
  }

  /** PEM text: SPKI for public keys, PKCS #8 for private keys. Secrets have no PEM form. */
  toPEM(): string {
    if (this.type === 'secret') throw new TypeError('a shared secret has no PEM form');
    return this.type === 'public'
      ? (this.keyObject.export({ format: 'pem', type: 'spki' }) as string)
      : (this.keyObject.export({ format: 'pem', type: 'pkcs8' }) as string);
  }

  /** RFC 7638 thumbprint, base64url. For private keys it is the thumbprint of the public key. */
  thumbprint(digest: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
    const source = this.type === 'private' ? createPublicKey(this.keyObject) : this.keyObject;
    return thumbprintOf(source.export({ format: 'jwk' }) as JWK, digest);
  }
}

/** What a KeyObject is, for `Key`: its family, curve, size and the algorithms it may serve. */
interface KeyDescription {
  family: KeyFamily;
  curve: string | undefined;
  bits: number;
  algorithms: Algorithm[];
}

function describe(keyObject: KeyObject): KeyDescription {
  if (keyObject.type === 'secret') return describeSecret(keyObject.symmetricKeySize ?? 0);
  const details = keyObject.asymmetricKeyDetails ?? {};
  switch (keyObject.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      // An RSASSA-PSS key (id-RSASSA-PSS) is restricted to PSS by its own parameters.
      return describeRSA(details.modulusLength ?? 0, keyObject.asymmetricKeyType === 'rsa-pss');
    case 'ec':
      return describeEC(details.namedCurve);
    case 'ed25519':
      return { family: 'OKP', curve: 'Ed25519', bits: 256, algorithms: ['EdDSA', 'Ed25519'] };
    default:
      throw new JoseError(
        'ERR_KEY_INVALID',
        `unsupported key type ${keyObject.asymmetricKeyType ?? '(unknown)'}`,
        {
          reason: 'unsupported',
        },
      );
  }
}

/** An HMAC secret of `bytes` bytes serves every HS algorithm whose minimum it meets. */
function describeSecret(bytes: number): KeyDescription {
  const algorithms = (['HS256', 'HS384', 'HS512'] as const).filter(
    (alg) => bytes >= (ALGORITHMS.get(alg)?.minSecretBytes ?? Infinity),
  );
  if (algorithms.length === 0) {
    throw new JoseError(
      'ERR_KEY_INVALID',
      `HMAC secrets must be at least 256 bits of random data; this one has ${bytes * 8}`,
      { reason: 'too_short' },
    );
  }
  return { family: 'oct', curve: undefined, bits: bytes * 8, algorithms };
}

function describeRSA(bits: number, pssOnly: boolean): KeyDescription {
  if (bits < MIN_RSA_BITS) {
    throw new JoseError(
      'ERR_KEY_INVALID',
      `RSA keys must be at least ${MIN_RSA_BITS} bits; this one has ${bits}`,
      {
        reason: 'too_short',
      },
    );
  }
  const pss: Algorithm[] = ['PS256', 'PS384', 'PS512'];
  const algorithms: Algorithm[] = pssOnly ? pss : ['RS256', 'RS384', 'RS512', ...pss];
  return { family: 'RSA', curve: undefined, bits, algorithms };
}

function describeEC(namedCurve: string | undefined): KeyDescription {
  const curve = EC_CURVES.get(namedCurve ?? '');
  if (curve === undefined) {
    throw new JoseError('ERR_KEY_INVALID', `unsupported EC curve ${namedCurve ?? '(unknown)'}`, {
      reason: 'unsupported',
    });
  }
  const alg = curve === 'P-256' ? 'ES256' : curve === 'P-384' ? 'ES384' : 'ES512';
  return {
    family: 'EC',
    curve,
    bits: curve === 'P-521' ? 521 : Number(curve.slice(2)),
    algorithms: [alg],
  };
}

function describeKey(key: Key): string {
  return key.family === 'oct' ? 'HMAC secret' : `${key.family} ${key.type} key`;
}
