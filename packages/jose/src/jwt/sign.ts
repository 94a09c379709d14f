/**
 * JWT signing: claims in, compact JWS out. `createSigner` builds the header once per key and options; `sign` is
 * the one-shot form. Claims are copied into a fresh object member by member, so a `__proto__` claim stays a plain
 * claim and never becomes a prototype.
 */
import { randomUUID } from 'node:crypto';

import { encodeBase64url } from '../lib/base64url.js';
import { epochSeconds } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import type { Key } from '../jwk/key.js';
import {
  encodeHeader,
  signSegments,
  signSegmentsAsync,
  signingSpec,
  type SignJWSOptions,
} from '../jws/sign.js';
import type { JWTPayload } from './types.js';

/** Options for signing a JWT. Options win over claims of the same name. */
export interface SignOptions extends SignJWSOptions {
  /** `typ` header. @default 'JWT' */
  typ?: string;
  /** Lifetime from `iat`: seconds or a duration string (`'15m'`). Sets `exp`. */
  expiresIn?: number | string;
  /** Delay from `iat` before the token is valid: seconds or a duration. Sets `nbf`. */
  notBefore?: number | string;
  /** `iat`: `true` for now (the default), a number for a fixed time, `false` to leave it out. */
  issuedAt?: boolean | number;
  issuer?: string;
  subject?: string;
  audience?: string | readonly string[];
  /** `jti`: a string, or `true` for a random UUID. */
  jwtId?: string | true;
  /** The time the token is issued at. @default the system clock */
  currentDate?: Date;
}

/** A prepared signer: claims (and an optional clock override) in, token out. */
export interface JWTSigner {
  (claims: Readonly<JWTPayload>, at?: { currentDate?: Date }): string;
  /**
   * The same token, with an asymmetric signature (RS/PS/ES/EdDSA) made on libuv's thread pool so the event loop
   * keeps serving requests meanwhile; HMAC is signed inline.
   */
  async(claims: Readonly<JWTPayload>, at?: { currentDate?: Date }): Promise<string>;
}

function setClaim(target: JWTPayload, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function checkNumericDate(payload: JWTPayload, name: 'exp' | 'nbf' | 'iat'): void {
  const value = payload[name];
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw new TypeError(`sign: "${name}" must be a finite number of seconds`);
  }
}

/**
 * Builds a signer for one key and one set of options.
 *
 * @example
 * const signAccessToken = createSigner(privateKey, { typ: 'at+jwt', issuer, audience, expiresIn: '15m' });
 * const token = signAccessToken({ sub: user.id, scope: 'read' });
 */
export function createSigner(key: Key, options: SignOptions = {}): JWTSigner {
  const spec = signingSpec(key, options.alg);
  const headerSegment = encodeHeader(key, spec, { ...options, typ: options.typ ?? 'JWT' });
  const expiresIn = options.expiresIn === undefined ? undefined : parseDuration(options.expiresIn);
  const notBefore = options.notBefore === undefined ? undefined : parseDuration(options.notBefore);
  if (options.currentDate !== undefined) epochSeconds(options.currentDate); // TypeError for an invalid Date
  const issuedAt = options.issuedAt ?? true;
  if (typeof issuedAt === 'number' && !Number.isFinite(issuedAt)) throw new TypeError('sign: bad "issuedAt"');
  const audience =
    typeof options.audience === 'string' ? options.audience : options.audience && [...options.audience];

  function payloadSegment(claims: Readonly<JWTPayload>, at?: { currentDate?: Date }): string {
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw new TypeError('sign: claims must be an object');
    }
    const payload: JWTPayload = {};
    for (const name of Object.keys(claims)) setClaim(payload, name, claims[name]);
    const now = epochSeconds(at?.currentDate ?? options.currentDate);
    const iat = issuedAt === true ? now : issuedAt === false ? undefined : issuedAt;
    if (iat !== undefined) payload.iat = iat;
    const base = iat ?? now;
    if (expiresIn !== undefined) payload.exp = base + expiresIn;
    if (notBefore !== undefined) payload.nbf = base + notBefore;
    if (options.issuer !== undefined) payload.iss = options.issuer;
    if (options.subject !== undefined) payload.sub = options.subject;
    if (audience !== undefined) payload.aud = audience;
    if (options.jwtId !== undefined) payload.jti = options.jwtId === true ? randomUUID() : options.jwtId;
    checkNumericDate(payload, 'exp');
    checkNumericDate(payload, 'nbf');
    checkNumericDate(payload, 'iat');
    return encodeBase64url(JSON.stringify(payload));
  }

  const signJWT = ((claims, at) =>
    signSegments(headerSegment, payloadSegment(claims, at), key, spec)) as JWTSigner;
  // async: a TypeError for bad claims becomes a rejection, never a synchronous throw.
  signJWT.async = async (claims, at) =>
    signSegmentsAsync(headerSegment, payloadSegment(claims, at), key, spec);
  return signJWT;
}

/**
 * Signs a JWT in one call.
 *
 * @example
 * const token = sign({ sub: 'user-1', roles: ['admin'] }, privateKey, { expiresIn: '15m', issuer });
 */
export function sign(claims: Readonly<JWTPayload>, key: Key, options: SignOptions = {}): string {
  return createSigner(key, options)(claims);
}
