/**
 * Compact JWS verification (RFC 7515 §5.2). The checks, in the order that keeps hostile input cheap, live in
 * `core.ts`; this is the public JWS form, which returns the payload as bytes. For JWTs use `createVerifier`, which
 * also parses and checks the claims.
 */
import { Buffer } from 'node:buffer';

import type { Key } from '../jwk/key.js';
import type { KeyResolver } from '../jwks/key-set.js';
import { createJWSCore, type CheckedJWS, type VerifyJWSOptions } from './core.js';
import type { JWSHeader } from './types.js';

export type { VerifyJWSOptions } from './core.js';

/** A JWS whose signature verified. */
export interface VerifiedJWS {
  readonly header: Readonly<JWSHeader>;
  /** The base64url payload segment, already checked to be canonical. */
  readonly payloadSegment: string;
  /** The decoded payload bytes. */
  readonly payload: Buffer;
  /** The key that verified the signature. */
  readonly key: Key;
}

/**
 * A prepared compact-JWS verifier: call it to verify on this thread, or use `.async` to run an asymmetric
 * signature check on libuv's thread pool (same checks, same errors).
 */
export interface JWSVerifier {
  (token: string): VerifiedJWS;
  async(token: string): Promise<VerifiedJWS>;
}

// The payload bytes are copied out: on the synchronous path they sit in the scratch buffer.
const verified = ({
  parts,
  parsed,
  key,
  payloadBytes,
  payloadStart,
  payloadEnd,
}: CheckedJWS): VerifiedJWS => ({
  header: parsed.header,
  payloadSegment: parts.payload,
  payload: Buffer.copyBytesFrom(payloadBytes, payloadStart, payloadEnd - payloadStart),
  key,
});

/**
 * Builds a compact-JWS verifier for a key or key set. Options are checked once, here (`TypeError` on misuse).
 *
 * @example
 * const verifyJWS = createJWSVerifier(publicKey, { algorithms: ['RS256'] });
 * const { header, payloadSegment } = verifyJWS(token);
 */
export function createJWSVerifier(keys: KeyResolver, options: VerifyJWSOptions): JWSVerifier {
  const core = createJWSCore(keys, options);
  const verifyCompact = ((token: string) => verified(core(token))) as JWSVerifier;
  verifyCompact.async = async (token: string) => verified(await core.async(token));
  return verifyCompact;
}

/**
 * Verifies a compact JWS and returns its payload bytes. For JWTs use `verify`, which also checks the claims.
 *
 * @example
 * const { payload } = verifyJWS(token, key, { algorithms: ['ES256'] });
 */
export function verifyJWS(
  token: string,
  keys: KeyResolver,
  options: VerifyJWSOptions,
): { header: Readonly<JWSHeader>; payload: Buffer; key: Key } {
  const { header, payload, key } = createJWSVerifier(keys, options)(token);
  return { header, payload, key };
}
