/**
 * The framework-free verifier: headers and cookies in, verified claims or a ready-to-send refusal out. Tokens are
 * verified locally against the issuer's JWKS (no call to the auth server on the hot path), then checked against
 * the chosen revocation strategy, then against the route's guards. Adapters for Express, Fastify, Hono and
 * `node:http` are thin wrappers over `authenticate`.
 */
import { redisNamespaceProblem } from '@jot/contract';

import { VerificationCache, type CacheStats } from './cache.js';
import { createTokenOpener } from './decrypt.js';
import { VERIFIER_DEFAULTS } from './defaults.js';
import { createRequestDPoP, refuseWithoutRequest, type RequestDPoP } from './dpop.js';
import { toMillis, type Duration } from './duration.js';
import { fromJoseError, type ErrorResponse, type VerifyError } from './errors.js';
import { FailureLog } from './failure-log.js';
import type { CompiledGuards, Guards } from './guards.js';
import {
  buildStrategy,
  checkCoreOptions,
  consoleLogger,
  lazyMetadata,
  type VerifierOptions,
} from './options.js';
import { createOffloadPolicy, type OffloadPolicy } from './offload.js';
import { RemoteJWKS, type JWKSState } from './remote-jwks.js';
import type { RevocationStats, RevocationStrategy } from './revocation/strategy.js';
import { createRequestAuth, unexpectedFailure, type RequestAuthResult } from './request.js';
import { createTokenCheck, type ClaimsOrPromise, type TokenCheckSettings } from './token-check.js';
import type { AccessTokenClaims, Clock, FetchLike, Logger, RequestLike, VerifiedAuth } from './types.js';

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
  /**
   * Verifies a raw access token (signature, claims, revocation); throws a `VerifyError`. A DPoP-bound token (and with
   * `dpop.required`, any token) is refused with `ERR_DPOP_REQUIRED`: only `authenticate` has the request whose proof
   * it needs.
   */
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

/** The options every part of the verifier shares, resolved once (defaults from `VERIFIER_DEFAULTS`). */
interface Shared {
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
  metadata: ReturnType<typeof lazyMetadata>;
  cache: VerificationCache | undefined;
  /** Aborted by `close()`: discovery and key-set requests still in flight end with it (revocation has its own). */
  closing: AbortController;
}

function sharedParts(options: VerifierOptions): Shared {
  const closing = new AbortController();
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const logger = options.logger ?? consoleLogger;
  const cache =
    options.cache === false
      ? undefined
      : new VerificationCache(
          options.cache?.maxEntries ?? VERIFIER_DEFAULTS.cache.maxEntries,
          options.cache?.maxBytes ?? VERIFIER_DEFAULTS.cache.maxBytes,
        );
  return {
    fetch: fetchImpl,
    clock: options.clock ?? Date.now,
    logger,
    metadata: lazyMetadata(options.issuer, fetchImpl, logger, closing.signal),
    cache,
    closing,
  };
}

/** The issuer's key set, fetched from `jwksUri` or the discovered `jwks_uri`; dropped keys evict cached tokens. */
function remoteJwks(options: VerifierOptions, shared: Shared): RemoteJWKS {
  const given = options.jwks ?? {};
  const defaults = VERIFIER_DEFAULTS.jwks;
  return new RemoteJWKS({
    uri: options.jwksUri ?? (async () => (await shared.metadata()).jwks_uri),
    fetch: shared.fetch,
    clock: shared.clock,
    logger: shared.logger,
    cooldown: toMillis(given.cooldown ?? defaults.cooldown, 'jwks.cooldown'),
    minCacheAge: toMillis(given.minCacheAge ?? defaults.minCacheAge, 'jwks.minCacheAge'),
    maxCacheAge: toMillis(given.maxCacheAge ?? defaults.maxCacheAge, 'jwks.maxCacheAge'),
    defaultCacheAge: toMillis(given.defaultCacheAge ?? defaults.defaultCacheAge, 'jwks.defaultCacheAge'),
    timeoutMs: toMillis(given.timeout ?? defaults.timeout, 'jwks.timeout'),
    maxStale: toMillis(given.maxStale ?? defaults.maxStale, 'jwks.maxStale'),
    onKeysRemoved: (thumbprints) => shared.cache?.removeKeys(thumbprints),
    closed: shared.closing.signal,
  });
}

function cookieNamesOf(options: VerifierOptions): string[] {
  const cookies = options.cookies ?? VERIFIER_DEFAULTS.cookies;
  return cookies === false ? [] : [...cookies];
}

function clockToleranceOf(options: VerifierOptions): Duration {
  return options.clockTolerance ?? VERIFIER_DEFAULTS.clockTolerance;
}

/**
 * `revocation.namespace` when it can name the server's Redis keys: the DPoP replay keys then default to the same
 * namespace. A malformed one is left to the revocation options' own `TypeError`.
 */
function redisNamespaceOf(revocation: VerifierOptions['revocation']): { namespace?: string } {
  const namespace =
    typeof revocation === 'object' && revocation !== null
      ? (revocation as { namespace?: unknown }).namespace
      : undefined;
  return typeof namespace === 'string' && redisNamespaceProblem(namespace) === undefined ? { namespace } : {};
}

/** The DPoP step, and the algorithms its challenge names (only when `dpop` is configured). */
function verifierDPoP(
  options: VerifierOptions,
  clock: Clock,
  logger: Logger,
): { dpop: RequestDPoP; dpopAlgs?: string } {
  const clockToleranceMs = toMillis(clockToleranceOf(options), 'clockTolerance');
  const dpop = createRequestDPoP(options.dpop ?? {}, clock, clockToleranceMs, {
    logger,
    configured: options.dpop !== undefined,
    ...redisNamespaceOf(options.revocation),
  });
  return { dpop, dpopAlgs: options.dpop === undefined ? undefined : dpop.algorithms.join(' ') };
}

/** The signature-and-claims check of `createVerifier`'s options. */
function verifierTokenCheck(
  options: VerifierOptions,
  core: ReturnType<typeof checkCoreOptions>,
  parts: Pick<TokenCheckSettings, 'jwks' | 'cache' | 'offload' | 'clock'>,
): (token: string) => ClaimsOrPromise {
  return createTokenCheck({
    ...core,
    ...parts,
    issuer: options.issuer,
    clockTolerance: Math.floor(toMillis(clockToleranceOf(options), 'clockTolerance') / 1000),
    maxTokenLength: options.maxTokenLength ?? VERIFIER_DEFAULTS.maxTokenLength,
    opener: options.decryption === undefined ? undefined : createTokenOpener(options.decryption),
  });
}

/** The steps `authenticate` runs, each reporting to `failures` when it ran and answered while an outage is open. */
interface WatchedSteps {
  verifyToken: (token: string) => ClaimsOrPromise;
  checkRevocation: (claims: AccessTokenClaims, token: string) => void | Promise<void>;
  dpop: Pick<RequestDPoP, 'check'>;
}

/**
 * Wraps the steps so that, while one of them is failing, a run that answers tells `failures` it works again. Only a
 * run that exercised what can fail counts: the DPoP step only when it checked a proof (not for an unbound token it
 * let through). Nothing is added while no step is failing.
 */
function watchedSteps(
  failures: FailureLog,
  verifyClaims: (token: string) => ClaimsOrPromise,
  revocation: RevocationStrategy,
  dpop: RequestDPoP,
): WatchedSteps {
  return {
    verifyToken(token) {
      const claims = verifyClaims(token);
      if (!failures.failing()) return claims;
      if (!(claims instanceof Promise)) {
        failures.succeeded('token');
        return claims;
      }
      return claims.then((verified) => {
        failures.succeeded('token');
        return verified;
      });
    },
    checkRevocation(claims, token) {
      const checked = revocation.check(claims, token);
      if (!failures.failing()) return checked;
      if (checked === undefined) return void failures.succeeded('revocation');
      return checked.then(() => failures.succeeded('revocation'));
    },
    dpop: {
      check(request, token, via, claims) {
        const proven = dpop.check(request, token, via, claims);
        if (proven === undefined || !failures.failing()) return proven;
        return proven.then(() => failures.succeeded('dpop'));
      },
    },
  };
}

/**
 * `createRequestAuth` over the verifier's steps: its `authenticate`, each outcome counted (`count`). A step that
 * throws instead of answering is refused with 503 and logged once per outage, not once per request
 * (failure-log.ts).
 */
function verifierAuthenticate(
  options: VerifierOptions,
  shared: Shared,
  parts: {
    verifyClaims: (token: string) => ClaimsOrPromise;
    revocation: RevocationStrategy;
    dpop: RequestDPoP;
    dpopAlgs: string | undefined;
    count: (result: AuthResult) => AuthResult;
  },
): Verifier['authenticate'] {
  const { count } = parts;
  const failures = new FailureLog(shared.logger, shared.clock);
  const requestAuth = createRequestAuth({
    ...watchedSteps(failures, parts.verifyClaims, parts.revocation, parts.dpop),
    cookieNames: cookieNamesOf(options),
    clock: shared.clock,
    realm: options.realm ?? VERIFIER_DEFAULTS.realm,
    dpopAlgs: parts.dpopAlgs,
    onFailure: (err, step) => {
      failures.failed(step, err);
      return unexpectedFailure(err, step);
    },
  });
  // Made once: the one reaction of every request's promise (no wrapper promise, no closure per request).
  const settle = (result: RequestAuthResult): AuthResult => {
    if (!result.ok) return count({ ok: false, error: result.error, response: result.response });
    if (failures.failing()) {
      // Every step ran and answered; the token, DPoP and revocation steps report themselves.
      failures.succeeded('csrf');
      failures.succeeded('guards');
    }
    return count(result);
  };
  return (request, guards) => requestAuth.authenticate(request, guards).then(settle);
}

/** The parts `stats()` reads. */
interface StatsSources {
  jwks: RemoteJWKS;
  revocation: RevocationStrategy;
  cache: VerificationCache | undefined;
  offload: OffloadPolicy;
}

/** Counts outcomes of `authenticate` and reports them with every part's own counters. */
function verifierCounters(sources: StatsSources): {
  count(result: AuthResult): AuthResult;
  stats(): VerifierStats;
} {
  let verified = 0;
  const rejections = new Map<string, number>();
  return {
    count(result) {
      if (result.ok) verified += 1;
      else rejections.set(result.error.code, (rejections.get(result.error.code) ?? 0) + 1);
      return result;
    },
    stats() {
      let rejected = 0;
      for (const count of rejections.values()) rejected += count;
      return {
        verified,
        rejected,
        rejections: Object.fromEntries(rejections),
        jwks: sources.jwks.state(),
        revocation: sources.revocation.stats(),
        cache: sources.cache?.stats(),
        offload: sources.offload.stats(),
      };
    },
  };
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
  const core = checkCoreOptions(options);
  const shared = sharedParts(options);
  const { cache, clock } = shared;
  const realm = options.realm ?? VERIFIER_DEFAULTS.realm;
  const offload = createOffloadPolicy(options.offload ?? VERIFIER_DEFAULTS.offload);
  const jwks = remoteJwks(options, shared);
  const { dpop, dpopAlgs } = verifierDPoP(options, clock, shared.logger);
  const verifyClaims = verifierTokenCheck(options, core, { jwks, cache, offload, clock });
  // Built last: a strategy may open connections, so every option is validated before it exists.
  const revocation = buildStrategy(options, shared.metadata, shared);
  revocation.subscribe?.((entry) => cache?.revoke(entry));
  void jwks.load().catch(() => undefined);
  const counters = verifierCounters({ jwks, revocation, cache, offload });
  const authenticate = verifierAuthenticate(options, shared, {
    verifyClaims,
    revocation,
    dpop,
    dpopAlgs,
    count: (result) => counters.count(result),
  });
  const dpopRequired = options.dpop?.required === true;
  return {
    realm,
    verify: async (token) => {
      try {
        const claims = await verifyClaims(token);
        refuseWithoutRequest(claims, dpopRequired);
        await revocation.check(claims, token);
        return claims;
      } catch (err) {
        throw fromJoseError(err);
      }
    },
    authenticate,
    async ready() {
      await Promise.all([jwks.load(), revocation.ready()]);
    },
    stats: () => counters.stats(),
    close: async () => {
      offload.close();
      try {
        await revocation.close();
      } finally {
        // A discovery or key-set fetch still in flight would otherwise hold its socket until its timeout.
        shared.closing.abort();
      }
    },
  };
}
