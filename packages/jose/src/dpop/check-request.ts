/**
 * The one DPoP decision (RFC 9449 §4.3, §7.1, §8, §11.1) that the Jot server and `@jot/verify` both make: exactly
 * one proof, valid for this method and URL, for this access token (`ath`) and from the key the token or session is
 * bound to, with a current server nonce when nonces are on, and never seen before. Each caller turns the
 * `JoseError` into its HTTP answer (400 at token endpoints, a 401 `DPoP` challenge at resources).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { JoseError } from '../errors.js';
import type { Algorithm } from '../lib/algorithms.js';
import type { DPoPNonces } from './nonce.js';
import type { DPoPReplayStore } from './replay.js';
import { DPOP_ALGORITHMS, verifyDPoPProof, type VerifiedDPoPProof } from './verify-proof.js';

/** How proofs are checked. Built once with `createDPoPChecker`. */
export interface DPoPCheckerOptions {
  /** @default DPOP_ALGORITHMS */
  algorithms?: readonly Algorithm[];
  /** Seconds a proof is acceptable after its `iat`. @default 60 */
  maxAge?: number;
  /** Seconds of clock skew tolerated. @default 5 */
  clockTolerance?: number;
  /** Where `jti`s are remembered; replays are refused for `maxAge + 2 × clockTolerance`. */
  replay: DPoPReplayStore;
  /** Server nonces: when set, every proof must carry a current one. */
  nonces?: DPoPNonces;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
}

/** One request to check. */
export interface DPoPRequest {
  method: string;
  /** The URL as the client addressed it (behind a proxy: the external URL). */
  url: string;
  /** The `DPoP` header value(s); an array with more than one is refused (§4.3 check 1). */
  proof: string | readonly string[] | undefined;
  /** The access token sent with the proof (`ath` is then required). */
  accessToken?: string;
  /** The thumbprint the token or refresh-token family is bound to: the proof key must match. */
  boundJkt?: string;
}

/** A configured checker. */
export interface DPoPChecker {
  readonly algorithms: readonly Algorithm[];
  /** Verifies the request's proof; throws `JoseError` (`ERR_DPOP_*`). */
  check(request: DPoPRequest): Promise<VerifiedDPoPProof>;
  /** The nonce to send in `DPoP-Nonce`, when nonces are on. */
  nonce(): string | undefined;
}

function sameThumbprint(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** The one proof a request carries; none or several are refused (§4.3 check 1). */
function singleProof(proof: DPoPRequest['proof']): string {
  const values = typeof proof === 'string' ? [proof] : (proof ?? []);
  if (values.length === 0) {
    throw new JoseError('ERR_DPOP_REQUIRED', 'this request needs a DPoP proof (the DPoP header)', {
      reason: 'missing',
    });
  }
  if (values.length > 1) {
    throw new JoseError('ERR_DPOP_PROOF_INVALID', 'send exactly one DPoP header', { reason: 'multiple' });
  }
  return values[0] as string;
}

/** The proof's key must be the one the token or refresh-token family is bound to. */
function checkBinding(proof: VerifiedDPoPProof, boundJkt: string | undefined): void {
  if (boundJkt !== undefined && !sameThumbprint(proof.jkt, boundJkt)) {
    throw new JoseError(
      'ERR_DPOP_KEY_MISMATCH',
      'the DPoP proof was made with another key than the token is bound to',
      {
        reason: 'jkt',
        claim: 'cnf',
      },
    );
  }
}

/** With server nonces on, the proof must carry a current one. */
function checkNonce(proof: VerifiedDPoPProof, nonces: DPoPNonces | undefined): void {
  if (nonces !== undefined && (proof.nonce === undefined || !nonces.isValid(proof.nonce))) {
    throw new JoseError('ERR_DPOP_NONCE_REQUIRED', 'use the nonce in the DPoP-Nonce header in a new proof', {
      reason: proof.nonce === undefined ? 'missing' : 'stale',
      claim: 'nonce',
    });
  }
}

/** Remembers the proof's `jti` for `ttlMs`; a proof seen before is refused. */
async function claimOnce(replay: DPoPReplayStore, proof: VerifiedDPoPProof, ttlMs: number): Promise<void> {
  if (!(await replay.claim(`${proof.jkt}:${proof.jti}`, ttlMs))) {
    throw new JoseError(
      'ERR_DPOP_PROOF_REPLAYED',
      'this DPoP proof was used before; make a new one per request',
      {
        reason: 'replay',
        claim: 'jti',
      },
    );
  }
}

/**
 * Builds the checker. Wrong options are a `TypeError` here.
 *
 * @example
 * const dpop = createDPoPChecker({ replay: memoryReplayStore() });
 * const proof = await dpop.check({ method: 'GET', url, proof: req.headers.dpop, accessToken, boundJkt: claims.cnf.jkt });
 */
export function createDPoPChecker(options: DPoPCheckerOptions): DPoPChecker {
  const algorithms = [...(options.algorithms ?? DPOP_ALGORITHMS)];
  if (algorithms.length === 0 || algorithms.some((alg) => alg.startsWith('HS'))) {
    throw new TypeError('createDPoPChecker: algorithms must be a non-empty list of asymmetric algorithms');
  }
  const maxAge = options.maxAge ?? 60;
  const tolerance = options.clockTolerance ?? 5;
  if (!(maxAge > 0) || !(tolerance >= 0))
    throw new TypeError('createDPoPChecker: bad maxAge or clockTolerance');
  if (typeof options.replay?.claim !== 'function')
    throw new TypeError('createDPoPChecker: a replay store is required');
  const clock = options.clock ?? Date.now;
  // The jti is remembered for as long as the proof's iat is acceptable: `checkIat` counts whole seconds, so while
  // floor(now / 1000) <= iat + maxAge + tolerance, i.e. until the start of the second after that.
  const ttlMsOf = (proof: VerifiedDPoPProof): number =>
    Math.max(1000, (proof.iat + maxAge + tolerance + 1) * 1000 - clock());

  return {
    algorithms,
    nonce: () => options.nonces?.current(),
    async check(request) {
      const proof = verifyDPoPProof(singleProof(request.proof), {
        method: request.method,
        url: request.url,
        accessToken: request.accessToken,
        algorithms,
        maxAge,
        clockTolerance: tolerance,
        currentDate: new Date(clock()),
      });
      checkBinding(proof, request.boundJkt);
      checkNonce(proof, options.nonces);
      // After every other check: an invalid proof must not burn the jti of a valid one made later.
      await claimOnce(options.replay, proof, ttlMsOf(proof));
      return proof;
    },
  };
}
