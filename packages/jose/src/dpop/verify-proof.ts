/**
 * DPoP proof verification (RFC 9449 §4.3), shared by the Jot server and `@jot/verify`: everything that can be
 * decided from the proof and the request alone. The caller adds what needs state — the `jti` replay check, the
 * server nonce, and comparing the key thumbprint with the access token's `cnf.jkt` (§7.1).
 */
import { JoseError } from '../errors.js';
import { isAlgorithm, type Algorithm } from '../lib/algorithms.js';
import { importJWK } from '../jwk/import-jwk.js';
import type { Key } from '../jwk/key.js';
import type { JWK } from '../jwk/types.js';
import { parseJSONObject, decodeJSONObject } from '../jws/segments.js';
import { verifyJWS } from '../jws/verify.js';
import { accessTokenHash, normalizeHtu } from './htu.js';

/** Asymmetric algorithms accepted for proofs unless the caller narrows them (`HS*` can never be). */
export const DPOP_ALGORITHMS: readonly Algorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'RS256',
];

/** Proofs longer than this are refused before decoding (a proof is a few hundred bytes; RSA keys make ~1.5 KB). */
export const MAX_DPOP_PROOF_LENGTH = 4096;

/** What the request was, and how strict to be. */
export interface VerifyDPoPProofOptions {
  /** The request method, compared exactly with `htm`. */
  method: string;
  /** The request URL as the client addressed it (behind a proxy: the external URL). */
  url: string;
  /** The access token sent with the proof: `ath` is then required and must match. */
  accessToken?: string;
  /** Allowed proof algorithms. @default DPOP_ALGORITHMS */
  algorithms?: readonly Algorithm[];
  /** Seconds a proof stays acceptable after its `iat`. @default 60 */
  maxAge?: number;
  /** Seconds of clock skew tolerated in either direction. @default 5 */
  clockTolerance?: number;
  /** @default new Date() */
  currentDate?: Date;
}

/** A proof that passed every stateless check. */
export interface VerifiedDPoPProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: compare it with `cnf.jkt`. */
  readonly jkt: string;
  readonly jti: string;
  /** Epoch seconds. */
  readonly iat: number;
  readonly htm: string;
  readonly htu: string;
  /** The `nonce` claim, when present; the caller decides whether it is current. */
  readonly nonce: string | undefined;
  /** The public key, as sent. */
  readonly jwk: Readonly<JWK>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function invalid(message: string, reason: string, claim?: string): JoseError {
  return new JoseError('ERR_DPOP_PROOF_INVALID', message, { reason, claim });
}

function stringClaim(payload: Record<string, unknown>, name: string, max: number): string {
  const value = Object.hasOwn(payload, name) ? payload[name] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`the DPoP proof needs a "${name}" string of at most ${max} characters`, 'claim', name);
  }
  return value;
}

/** The proof's protected header: `typ`, an accepted asymmetric `alg`, and a public `jwk`. */
function proofHeader(
  proof: string,
  options: VerifyDPoPProofOptions,
): { alg: Algorithm; jwk: Record<string, unknown> } {
  const algorithms = (options.algorithms ?? DPOP_ALGORITHMS).filter((alg) => !alg.startsWith('HS'));
  const dot = proof.indexOf('.');
  if (dot <= 0) throw invalid('the DPoP proof is not a compact JWS', 'malformed');
  let header: Record<string, unknown>;
  try {
    header = decodeJSONObject(proof.slice(0, dot), 'DPoP proof header', 'ERR_DPOP_PROOF_INVALID');
  } catch {
    throw invalid('the DPoP proof header is not a JSON object', 'malformed');
  }
  if (header.typ !== 'dpop+jwt') throw invalid('the DPoP proof must have "typ": "dpop+jwt"', 'typ', 'typ');
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAlgorithm(alg) || !algorithms.includes(alg)) {
    throw invalid('the DPoP proof algorithm is not accepted', 'alg', 'alg');
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw invalid('the DPoP proof must carry its public key in "jwk"', 'jwk', 'jwk');
  }
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(jwk, name))) {
    throw invalid('the DPoP proof "jwk" must not contain private key material', 'jwk', 'jwk');
  }
  return { alg, jwk: jwk as Record<string, unknown> };
}

/** The proof's signature, by the key in its own header; returns that key and the payload object. */
function verifiedPayload(
  proof: string,
  alg: Algorithm,
  jwk: Record<string, unknown>,
): { key: Key; payload: Record<string, unknown> } {
  let verified: ReturnType<typeof verifyJWS>;
  try {
    const key = importJWK(jwk, { alg });
    verified = verifyJWS(proof, key, { algorithms: [alg], maxTokenLength: MAX_DPOP_PROOF_LENGTH });
  } catch (err) {
    if (err instanceof JoseError && err.code === 'ERR_KEY_INVALID')
      throw invalid('the DPoP proof "jwk" is not a valid public key for its algorithm', 'jwk', 'jwk');
    if (err instanceof JoseError && err.code === 'ERR_JWS_SIGNATURE_INVALID')
      throw invalid('the DPoP proof signature does not verify', 'signature');
    throw invalid('the DPoP proof is not a valid JWS', 'malformed');
  }
  try {
    const payload = parseJSONObject(verified.payload, 'DPoP proof payload', 'ERR_DPOP_PROOF_INVALID');
    return { key: verified.key, payload };
  } catch {
    throw invalid('the DPoP proof payload is not a JSON object', 'malformed');
  }
}

/** `iat` within `maxAge` (and not in the future), with the clock tolerance. */
function checkIat(iat: number, options: VerifyDPoPProofOptions): void {
  const now = Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
  const tolerance = options.clockTolerance ?? 5;
  if (iat > now + tolerance) throw invalid('the DPoP proof "iat" is in the future', 'future', 'iat');
  if (iat < now - (options.maxAge ?? 60) - tolerance) {
    throw invalid('the DPoP proof is too old; make a new one for each request', 'stale', 'iat');
  }
}

/** The request the proof was made for: `htm` and `htu`. */
function checkRequest(htm: string, htu: string, options: VerifyDPoPProofOptions): void {
  if (htm !== options.method) throw invalid('the DPoP proof was made for another HTTP method', 'htm', 'htm');
  const expected = normalizeHtu(options.url);
  // The request URL comes from the request (its Host header): one that is no http(s) URL matches no proof.
  if (expected === undefined) {
    throw invalid(
      'the request URL is not an absolute http(s) URL, so no DPoP proof can match it',
      'htu',
      'htu',
    );
  }
  if (normalizeHtu(htu) !== expected) throw invalid('the DPoP proof was made for another URL', 'htu', 'htu');
}

/** With an access token, the proof's `ath` must be its hash. */
function checkAth(payload: Record<string, unknown>, accessToken: string | undefined): void {
  if (accessToken === undefined) return;
  const ath = Object.hasOwn(payload, 'ath') ? payload.ath : undefined;
  if (typeof ath !== 'string' || ath !== accessTokenHash(accessToken)) {
    throw invalid('the DPoP proof "ath" does not match the access token', 'ath', 'ath');
  }
}

/**
 * Verifies a `DPoP` header value for a request; throws `JoseError` `ERR_DPOP_PROOF_INVALID` with a `reason`
 * (`malformed`, `typ`, `alg`, `jwk`, `signature`, `claim`, `htm`, `htu`, `stale`, `future`, `ath`). A request
 * `url` that is no absolute http(s) URL (a request with a malformed Host) is refused with reason `htu`.
 *
 * @example
 * const proof = verifyDPoPProof(req.headers.dpop, { method: 'GET', url: 'https://api.example.com/orders', accessToken });
 * if (proof.jkt !== claims.cnf.jkt) refuse();
 */
export function verifyDPoPProof(proof: unknown, options: VerifyDPoPProofOptions): VerifiedDPoPProof {
  if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_DPOP_PROOF_LENGTH) {
    throw invalid('the DPoP header must be one compact JWS of reasonable size', 'malformed');
  }
  const { alg, jwk } = proofHeader(proof, options);
  const { key, payload } = verifiedPayload(proof, alg, jwk);
  const jti = stringClaim(payload, 'jti', 256);
  const htm = stringClaim(payload, 'htm', 32);
  const htu = stringClaim(payload, 'htu', 2048);
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) {
    throw invalid('the DPoP proof needs an integer "iat"', 'claim', 'iat');
  }
  checkRequest(htm, htu, options);
  checkIat(iat, options);
  checkAth(payload, options.accessToken);
  const nonce = Object.hasOwn(payload, 'nonce') ? payload.nonce : undefined;
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 512)) {
    throw invalid('the DPoP proof "nonce" must be a string', 'claim', 'nonce');
  }
  return {
    jkt: key.thumbprint(),
    jti,
    iat,
    htm,
    htu,
    nonce,
    jwk: Object.freeze({ ...(jwk as JWK) }),
  };
}
