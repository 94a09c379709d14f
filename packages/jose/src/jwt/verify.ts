/**
 * JWT verification: a compact JWS whose signature verifies, whose payload is a JSON object, and whose claims pass
 * the rules (RFC 7519 §7.2, RFC 8725). `createVerifier` does the option work once; `verify` is the one-shot form.
 */

import { epochSeconds } from '../lib/clock.js';
import type { Key } from '../jwk/key.js';
import type { KeyResolver } from '../jwks/key-set.js';
import { createJWSCore, type CheckedJWS, type VerifyJWSOptions } from '../jws/core.js';
import { parseJSONBytes } from '../jws/segments.js';
import type { JWSHeader } from '../jws/types.js';
import { compileClaimRules, validateClaims, type ClaimOptions } from './claims.js';
import type { JWTPayload } from './types.js';

/** Everything `verify` checks, besides the signature. */
export interface VerifyOptions extends VerifyJWSOptions, ClaimOptions {
  /** The time to check claims against. @default the system clock */
  currentDate?: Date;
}

/** A verified JWT. */
export interface VerifiedJWT<P extends JWTPayload = JWTPayload> {
  readonly header: Readonly<JWSHeader>;
  readonly payload: P;
  /** The key that verified the signature. */
  readonly key: Key;
}

/**
 * A prepared verifier; the optional second argument overrides the clock for one call. `.async` runs the same checks
 * with an asymmetric signature verified on libuv's thread pool, so a busy process can use every core.
 */
export interface JWTVerifier {
  <P extends JWTPayload = JWTPayload>(token: string, at?: { currentDate?: Date }): VerifiedJWT<P>;
  async<P extends JWTPayload = JWTPayload>(
    token: string,
    at?: { currentDate?: Date },
  ): Promise<VerifiedJWT<P>>;
}

/**
 * Builds a verifier for a key or key set. Options are validated here, once: a missing `algorithms` list is a
 * `TypeError` now, not an "invalid token" later. The verifier throws only `JoseError` for bad tokens.
 *
 * @example
 * const verifyAccessToken = createVerifier(keys, {
 *   algorithms: ['RS256'],
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   typ: 'at+jwt',
 * });
 * const { payload } = verifyAccessToken(token);
 */
export function createVerifier(keys: KeyResolver, options: VerifyOptions): JWTVerifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('verify: options are required');
  const verifyJWS = createJWSCore(keys, options);
  const rules = compileClaimRules(options);
  const fixedDate = options.currentDate;
  if (fixedDate !== undefined) epochSeconds(fixedDate); // TypeError now for an invalid Date, not per token

  // The payload is parsed only now, after its signature verified.
  function claimsOf<P extends JWTPayload>(jws: CheckedJWS, at?: { currentDate?: Date }): VerifiedJWT<P> {
    const { header } = jws.parsed;
    const { payloadBytes, payloadStart, payloadEnd } = jws;
    const payload = parseJSONBytes(
      payloadBytes,
      payloadStart,
      payloadEnd,
      'JWT claims set',
      'ERR_JWT_INVALID',
    ) as P;
    validateClaims(payload, header, rules, epochSeconds(at?.currentDate ?? fixedDate));
    return { header, payload, key: jws.key };
  }

  const verifyJWT = (<P extends JWTPayload = JWTPayload>(token: string, at?: { currentDate?: Date }) =>
    claimsOf<P>(verifyJWS(token), at)) as JWTVerifier;
  verifyJWT.async = <P extends JWTPayload = JWTPayload>(token: string, at?: { currentDate?: Date }) =>
    verifyJWS.async(token, (jws) => claimsOf<P>(jws, at));
  return verifyJWT;
}

/**
 * Verifies a JWT in one call. For many tokens, build a verifier once with `createVerifier`.
 *
 * @example
 * const { payload } = verify(token, publicKey, { algorithms: ['ES256'], issuer: 'https://auth.example.com' });
 */
export function verify<P extends JWTPayload = JWTPayload>(
  token: string,
  keys: KeyResolver,
  options: VerifyOptions,
): VerifiedJWT<P> {
  return createVerifier(keys, options)<P>(token);
}
