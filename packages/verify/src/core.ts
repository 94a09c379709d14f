/**
 * The framework-free verifier: headers and cookies in, verified claims or a ready-to-send refusal out. Tokens are
 * verified locally against the issuer's JWKS (no call to the auth server on the hot path), then checked against
 * the chosen revocation strategy, then against the route's guards. Adapters for Express, Fastify, Hono and
 * `node:http` are thin wrappers over `authenticate`.
 */
import { createVerifier as createJWTVerifier, isJoseError } from '@jot/jose';

import { createTokenOpener, isCompactJWE } from './decrypt.js';
import { createRequestDPoP } from './dpop.js';
import { VerificationCache, type CacheStats } from './cache.js';
import { asAccessTokenClaims, type ClaimsProfile } from './claims.js';
import { toMillis } from './duration.js';
import { fromJoseError, type ErrorResponse, VerifyError } from './errors.js';
import type { CompiledGuards, Guards } from './guards.js';
import {
  buildStrategy,
  checkCoreOptions,
  consoleLogger,
  lazyMetadata,
  type VerifierOptions,
} from './options.js';
import { createOffloadPolicy } from './offload.js';
import { keyThumbprint, RemoteJWKS, type JWKSState } from './remote-jwks.js';
import type { RevocationStats } from './revocation/strategy.js';
import { createRequestAuth } from './request.js';
import { DEFAULT_COOKIE_NAMES } from './token.js';
import type { AccessTokenClaims, FetchLike, RequestLike, VerifiedAuth } from './types.js';

/** Entries of the verification cache unless `cache.maxEntries` says otherwise (~1.5 KB each with a typical token). */
export const DEFAULT_CACHE_ENTRIES = 10_000;

/**
 * The claims each profile requires (besides `exp`, always required). `jot`: Jot's user tokens (`sid`, `ver`;
 * `auth_time` is checked in claims.ts). `rfc9068`: RFC 9068 §2.2 — `iss`, `exp`, `aud`, `sub`, `client_id`,
 * `iat`, `jti` — and nothing of Jot's, so tokens from Auth0, Keycloak or a Jot client-credentials grant pass.
 */
const REQUIRED_CLAIMS: Readonly<Record<ClaimsProfile, readonly string[]>> = {
  jot: ['sub', 'iat', 'jti', 'sid', 'ver'],
  rfc9068: ['iss', 'sub', 'aud', 'iat', 'jti', 'client_id'],
};

/** The outcome of `authenticate`: the auth context, or the error and the response to send. */
export type AuthResult =
  | { readonly ok: true; readonly auth: VerifiedAuth }
  | { readonly ok: false; readonly error: VerifyError; readonly response: ErrorResponse };

/** Everything `stats()` reports: plain numbers and strings, for any metrics system. */
export interface VerifierStats {
  readonly verified: number;
  readonly rejected: number;
  /** Rejections by code. */
  readonly rejections: Readonly<Record<string, number>>;
  readonly jwks: JWKSState;
  readonly revocation: RevocationStats;
  readonly cache: CacheStats | undefined;
  /** Signature checks run on libuv's thread pool vs inline on the event loop. */
  readonly offload: { readonly offloaded: number; readonly inline: number };
}

/** A resource-server verifier. */
export interface Verifier {
  /** Verifies a raw access token (signature, claims, revocation); throws a `VerifyError`. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Reads the token from a request (bearer or cookie + CSRF), verifies it and applies `guards`. Never throws for bad input. */
  authenticate(request: RequestLike, guards?: Guards | CompiledGuards): Promise<AuthResult>;
  /** Resolves when the keys and the revocation copy are loaded; rejects if the keys cannot be fetched. */
  ready(): Promise<void>;
  stats(): VerifierStats;
  /** Stops the feed connection and timers, and disconnects a Redis client the verifier created from a URL. */
  close(): Promise<void>;
  /** The realm of the challenges. */
  readonly realm: string;
}

/**
 * Builds a verifier. Option errors are `TypeError`s thrown here.
 *
 * @example
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://auth.example.com',
 *   revocation: { strategy: 'replicated', secret: process.env.JOT_REVOCATION_SECRET!, maxStaleness: '30s' },
 * });
 * const result = await verifier.authenticate(request);
 * if (result.ok) console.log(result.auth.claims.sub);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const { algorithms, audience, profile } = checkCoreOptions(options);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? consoleLogger;
  const realm = options.realm ?? 'jot';
  const cookieNames = options.cookies === false ? [] : [...(options.cookies ?? DEFAULT_COOKIE_NAMES)];
  const metadata = lazyMetadata(options.issuer, fetchImpl, logger);
  const cache =
    options.cache === false
      ? undefined
      : new VerificationCache(options.cache?.maxEntries ?? DEFAULT_CACHE_ENTRIES);
  const offload = createOffloadPolicy(options.offload);
  const jwksOptions = options.jwks ?? {};
  const jwks = new RemoteJWKS({
    uri: options.jwksUri ?? (async () => (await metadata()).jwks_uri),
    fetch: fetchImpl,
    clock,
    logger,
    cooldown: toMillis(jwksOptions.cooldown ?? '30s', 'jwks.cooldown'),
    minCacheAge: toMillis(jwksOptions.minCacheAge ?? '30s', 'jwks.minCacheAge'),
    maxCacheAge: toMillis(jwksOptions.maxCacheAge ?? '24h', 'jwks.maxCacheAge'),
    defaultCacheAge: toMillis(jwksOptions.defaultCacheAge ?? '10m', 'jwks.defaultCacheAge'),
    timeoutMs: toMillis(jwksOptions.timeout ?? '5s', 'jwks.timeout'),
    onKeysRemoved: (thumbprints) => cache?.removeKeys(thumbprints),
  });
  const verifyJWT = createJWTVerifier(jwks, {
    algorithms,
    issuer: options.issuer,
    audience,
    typ: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS[profile],
    clockTolerance: Math.floor(toMillis(options.clockTolerance ?? '5s', 'clockTolerance') / 1000),
    maxTokenLength: options.maxTokenLength,
  });
  const clockToleranceMs = toMillis(options.clockTolerance ?? '5s', 'clockTolerance');
  const dpop = createRequestDPoP(options.dpop ?? {}, clock, clockToleranceMs);
  const dpopAlgs = options.dpop === undefined ? undefined : dpop.algorithms.join(' ');
  const opener = options.decryption === undefined ? undefined : createTokenOpener(options.decryption);
  const revocation = buildStrategy(options, metadata, { fetch: fetchImpl, clock, logger });
  revocation.subscribe?.((entry) => cache?.revoke(entry));
  void jwks.load().catch(() => undefined);
  let verified = 0;
  const rejections = new Map<string, number>();

  /** One signature + claims check, inline or on the thread pool as the offload policy says. */
  /** `token` as presented (the cache key); `jws` the signed token inside it (the same unless it was encrypted). */
  async function checkToken(token: string, jws: string, currentDate: Date): Promise<AccessTokenClaims> {
    const { payload, key } = offload.shouldOffload()
      ? await offload.track(verifyJWT.async(jws, { currentDate }))
      : verifyJWT(jws, { currentDate });
    const claims = asAccessTokenClaims(payload, profile);
    cache?.set(token, claims, keyThumbprint(key));
    return claims;
  }

  async function verifySignature(token: string, now: number): Promise<AccessTokenClaims> {
    await jwks.ensure();
    const currentDate = new Date(now);
    if (opener?.required && !isCompactJWE(token)) {
      throw new VerifyError('ERR_VERIFY_NOT_ENCRYPTED', 'this service accepts encrypted access tokens only');
    }
    const jws = opener === undefined ? token : await opener.open(token);
    try {
      return await checkToken(token, jws, currentDate);
    } catch (err) {
      // A kid we do not know may be a key rotated in since the last fetch: refetch (rate-limited), retry once.
      if (isJoseError(err, 'ERR_JWKS_NO_MATCHING_KEY') && (await jwks.refreshForUnknownKid())) {
        return checkToken(token, jws, currentDate);
      }
      throw err;
    }
  }

  /** Signature and claims, through the cache (a hit skips the signature check). */
  async function verifyClaims(token: string): Promise<AccessTokenClaims> {
    const now = clock();
    const claims = cache?.get(token, Math.floor(now / 1000));
    if (claims !== undefined) {
      // A hit skips the key set, so refresh an expired set here too: a key removed or replaced at the issuer
      // must evict the cached tokens it verified even when every request hits the cache. Never waits.
      void jwks.ensure().catch(() => undefined);
      return claims;
    }
    return verifySignature(token, now);
  }

  async function verify(token: string): Promise<AccessTokenClaims> {
    try {
      const claims = await verifyClaims(token);
      await revocation.check(claims, token);
      return claims;
    } catch (err) {
      throw fromJoseError(err);
    }
  }

  const requestAuth = createRequestAuth({
    verifyToken: verifyClaims,
    checkRevocation: async (claims, token) => {
      await revocation.check(claims, token);
    },
    dpop,
    cookieNames,
    clock,
    realm,
    dpopAlgs,
  });

  return {
    realm,
    verify,
    async authenticate(request, guards) {
      const result = await requestAuth.authenticate(request, guards);
      if (result.ok) {
        verified += 1;
        return result;
      }
      const { code } = result.error;
      rejections.set(code, (rejections.get(code) ?? 0) + 1);
      return { ok: false, error: result.error, response: result.response };
    },
    async ready() {
      await Promise.all([jwks.load(), revocation.ready()]);
    },
    stats() {
      let rejected = 0;
      for (const count of rejections.values()) rejected += count;
      return {
        verified,
        rejected,
        rejections: Object.fromEntries(rejections),
        jwks: jwks.state(),
        revocation: revocation.stats(),
        cache: cache?.stats(),
        offload: offload.stats(),
      };
    },
    close: async () => {
      offload.close();
      await revocation.close();
    },
  };
}
