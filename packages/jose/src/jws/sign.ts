/** Compact JWS signing (RFC 7515 §5.1). The header is built by us; nothing can set `alg: none`, `crit` or `b64`. */
import { Buffer } from 'node:buffer';
import { ALGORITHMS, type Algorithm, type AlgorithmSpec } from '../lib/algorithms.js';
import { encodeBase64url, isCanonicalBase64url } from '../lib/base64url.js';
import { createSignature, createSignatureAsync } from '../lib/signature.js';
import type { Key } from '../jwk/key.js';

/** Options for JWS signing. */
export interface SignJWSOptions {
  /** Algorithm; defaults to the key's own when it is bound to one. */
  alg?: Algorithm;
  /** `kid` header; defaults to the key's `kid`; `false` leaves it out. */
  kid?: string | false;
  /** `typ` header. */
  typ?: string;
  /** Further header parameters. `alg`, `kid`, `typ`, `crit` and `b64` cannot be set here. */
  header?: Readonly<Record<string, unknown>>;
}

const RESERVED = new Set(['alg', 'kid', 'typ', 'crit', 'b64']);

/** Resolves the algorithm for a signing key, or throws `TypeError` (signing with the wrong key is a bug). */
export function signingSpec(key: Key, alg: Algorithm | undefined): AlgorithmSpec {
  if (key.type === 'public') throw new TypeError('sign: a public key cannot sign; pass the private key');
  const chosen = alg ?? key.alg;
  if (chosen === undefined) {
    throw new TypeError(
      `sign: this key supports ${[...key.algorithms].join(', ')}; pass "alg" to choose one`,
    );
  }
  const spec = key.spec(chosen);
  if (spec === undefined || ALGORITHMS.get(chosen) === undefined) {
    throw new TypeError(`sign: this key cannot sign ${String(chosen)}`);
  }
  return spec;
}

/** Builds the encoded protected header once; `createSigner` reuses it for every token. */
export function encodeHeader(key: Key, spec: AlgorithmSpec, options: SignJWSOptions): string {
  const header: Record<string, unknown> = { alg: spec.alg };
  if (options.typ !== undefined) header.typ = options.typ;
  if (options.kid !== false) header.kid = options.kid ?? key.kid;
  for (const [name, value] of Object.entries(options.header ?? {})) {
    if (RESERVED.has(name)) throw new TypeError(`sign: the "${name}" header cannot be set through "header"`);
    Object.defineProperty(header, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return encodeBase64url(JSON.stringify(header));
}

/** Signs already-encoded segments and returns the compact JWS. */
export function signSegments(
  headerSegment: string,
  payloadSegment: string,
  key: Key,
  spec: AlgorithmSpec,
): string {
  const signingInput = `${headerSegment}.${payloadSegment}`;
  const signature = createSignature(spec, key.keyObject, key.operationInput(spec), signingInput);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** `signSegments` with an asymmetric signature made on libuv's thread pool. */
export async function signSegmentsAsync(
  headerSegment: string,
  payloadSegment: string,
  key: Key,
  spec: AlgorithmSpec,
): Promise<string> {
  const signingInput = `${headerSegment}.${payloadSegment}`;
  const signature = await createSignatureAsync(spec, key.keyObject, key.operationInput(spec), signingInput);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Signs a payload (bytes or text) as a compact JWS.
 *
 * @example
 * const jws = signJWS('hello', key, { alg: 'HS256' });
 */
export function signJWS(payload: Uint8Array | string, key: Key, options: SignJWSOptions = {}): string {
  const spec = signingSpec(key, options.alg);
  return signSegments(encodeHeader(key, spec, options), encodeBase64url(payload), key, spec);
}

/**
 * Signs a protected header and payload given exactly as encoded, without re-serialising them — for reproducing
 * published vectors, whose headers contain whitespace. The header's `alg` must be one the key can use.
 *
 * @example
 * const token = signEncoded(vector.headerSegment, vector.payloadSegment, key);
 */
export function signEncoded(headerSegment: string, payloadSegment: string, key: Key): string {
  if (!isCanonicalBase64url(headerSegment) || !isCanonicalBase64url(payloadSegment)) {
    throw new TypeError('signEncoded: segments must be canonical base64url');
  }
  const header: unknown = JSON.parse(Buffer.from(headerSegment, 'base64url').toString('utf8'));
  const alg = (header as { alg?: unknown } | null)?.alg;
  // Without this, a header lacking "alg" would be signed with the key's algorithm and never verify anywhere.
  if (typeof alg !== 'string') throw new TypeError('signEncoded: the header must carry an "alg" string');
  return signSegments(headerSegment, payloadSegment, key, signingSpec(key, alg as Algorithm));
}
