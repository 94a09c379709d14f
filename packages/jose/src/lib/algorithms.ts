/**
 * The one table every algorithm decision goes through (RFC 7518 §3). Nothing reads the token header to pick a hash,
 * a padding or a key type: the header's `alg` string is looked up here and must also be in the caller's allow-list.
 */
import { constants } from 'node:crypto';

/** JWS algorithms Jot implements. `Ed25519` is the fully specified name of RFC 9864; `EdDSA` is its older alias. */
export type Algorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519';

/** JWK key types (RFC 7517 §4.1), which are also the algorithm families a key is bound to. */
export type KeyFamily = 'oct' | 'RSA' | 'EC' | 'OKP';

/** What Jot knows about one algorithm. */
export interface AlgorithmSpec {
  readonly alg: Algorithm;
  readonly family: KeyFamily;
  /** Node digest name; `undefined` for EdDSA, whose hash is part of the scheme. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | undefined;
  /** Exact signature length in bytes when it is fixed by the algorithm (HMAC, ECDSA P1363, Ed25519). */
  readonly signatureLength: number | undefined;
  /** EC / OKP curve (JWK `crv`). */
  readonly curve: 'P-256' | 'P-384' | 'P-521' | 'Ed25519' | undefined;
  /** RSA padding. */
  readonly padding: number | undefined;
  /** Minimum HMAC secret length in bytes: the hash size (RFC 7518 §3.2), never under 32. */
  readonly minSecretBytes: number;
}

function spec(
  alg: Algorithm,
  family: KeyFamily,
  hash: AlgorithmSpec['hash'],
  extra: Partial<Pick<AlgorithmSpec, 'signatureLength' | 'curve' | 'padding' | 'minSecretBytes'>> = {},
): AlgorithmSpec {
  return Object.freeze({
    alg,
    family,
    hash,
    signatureLength: extra.signatureLength,
    curve: extra.curve,
    padding: extra.padding,
    minSecretBytes: extra.minSecretBytes ?? 0,
  });
}

const PKCS1 = constants.RSA_PKCS1_PADDING;
const PSS = constants.RSA_PKCS1_PSS_PADDING;

/** Every supported algorithm by its exact, case-sensitive name. */
export const ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map(
  [
    spec('HS256', 'oct', 'sha256', { signatureLength: 32, minSecretBytes: 32 }),
    spec('HS384', 'oct', 'sha384', { signatureLength: 48, minSecretBytes: 48 }),
    spec('HS512', 'oct', 'sha512', { signatureLength: 64, minSecretBytes: 64 }),
    spec('RS256', 'RSA', 'sha256', { padding: PKCS1 }),
    spec('RS384', 'RSA', 'sha384', { padding: PKCS1 }),
    spec('RS512', 'RSA', 'sha512', { padding: PKCS1 }),
    spec('PS256', 'RSA', 'sha256', { padding: PSS }),
    spec('PS384', 'RSA', 'sha384', { padding: PSS }),
    spec('PS512', 'RSA', 'sha512', { padding: PSS }),
    spec('ES256', 'EC', 'sha256', { signatureLength: 64, curve: 'P-256' }),
    spec('ES384', 'EC', 'sha384', { signatureLength: 96, curve: 'P-384' }),
    spec('ES512', 'EC', 'sha512', { signatureLength: 132, curve: 'P-521' }),
    spec('EdDSA', 'OKP', undefined, { signatureLength: 64, curve: 'Ed25519' }),
    spec('Ed25519', 'OKP', undefined, { signatureLength: 64, curve: 'Ed25519' }),
  ].map((s) => [s.alg, s]),
);

/** Every supported algorithm name, in table order. */
export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = [...ALGORITHMS.keys()] as Algorithm[];

/** Type guard for a supported algorithm name (exact match). */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && ALGORITHMS.has(value);
}

/**
 * Validates an allow-list given by a caller and returns it as a set. A missing or empty list, a name we do not
 * implement, or `none` is a programming error: `TypeError`, thrown once when the verifier is built.
 */
export function allowList(algorithms: unknown, where: string): ReadonlySet<Algorithm> {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new TypeError(`${where}: "algorithms" must be a non-empty array of allowed JWS algorithms`);
  }
  for (const alg of algorithms as unknown[]) {
    if (!isAlgorithm(alg)) {
      throw new TypeError(`${where}: unsupported algorithm in "algorithms": ${JSON.stringify(alg)}`);
    }
  }
  return new Set(algorithms as Algorithm[]);
}
