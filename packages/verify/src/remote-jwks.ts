/**
 * The issuer's key set, fetched over HTTP and cached. The cache lives as long as the JWKS response's
 * `Cache-Control: max-age` says (clamped to `[minCacheAge, maxCacheAge]`); a token with an unknown `kid` triggers
 * a refetch (a rotated-in key), but at most one per `cooldown`, so random `kid`s cannot make us fetch per request.
 * When the issuer is unreachable the last good set keeps serving; `state()` says so. A set the issuer answers with
 * replaces the last one even when it holds no key we can use (`{"keys": []}`: every key withdrawn). Keys are told
 * apart by their RFC 7638 thumbprint, not their `kid`: an issuer may republish new key material under an old `kid`.
 */
import { KeySet, type Algorithm, type Key, type KeyResolver } from '@jot/jose';

import { VerifyError } from './errors.js';
import { describeError, fetchOk, readJSONObject, untilClosed } from './http.js';
import type { Clock, FetchLike, Logger } from './types.js';
import { silentLogger } from './types.js';

/** Options of `RemoteJWKS`. Times in milliseconds. */
export interface RemoteJWKSOptions {
  /** The JWKS URL, or a function that finds it (discovery), called on the first fetch. */
  uri: string | (() => Promise<string>);
  fetch?: FetchLike;
  clock?: Clock;
  logger?: Logger;
  /** Least time between two fetches caused by unknown `kid`s, and between retries after a failure. @default 30000 */
  cooldown?: number;
  /** Lower bound on the cache lifetime, whatever `Cache-Control` says. @default 30000 */
  minCacheAge?: number;
  /** Upper bound on the cache lifetime. @default 86400000 */
  maxCacheAge?: number;
  /** Cache lifetime when the response has no `max-age`. @default 600000 */
  defaultCacheAge?: number;
  /** Per-request timeout. @default 5000 */
  timeoutMs?: number;
  /**
   * How long past `expiresAt` a set that could not be refreshed keeps verifying; then it is dropped (its keys
   * reported to `onKeysRemoved`) and a fetch must succeed before any token verifies again. @default 3600000
   */
  maxStale?: number;
  /**
   * Called after a successful fetch with the RFC 7638 thumbprints of the keys that disappeared, including a key
   * replaced under the same `kid` (a verification cache drops the tokens they verified).
   */
  onKeysRemoved?: (thumbprints: readonly string[]) => void;
  /** Aborted when the owner closes: ends a fetch in flight, which is then neither logged nor counted as a failure. */
  closed?: AbortSignal;
}

/** What `state()` reports. */
export interface JWKSState {
  readonly uri: string | undefined;
  /** The `kid`s currently served. */
  readonly kids: readonly string[];
  /** Epoch ms of the last successful fetch (undefined: never). */
  readonly fetchedAt: number | undefined;
  /** Epoch ms when the cached set should be refreshed. */
  readonly expiresAt: number | undefined;
  /** True when the set is past `expiresAt` (typically: the issuer is unreachable and the last good set serves). */
  readonly stale: boolean;
  /** Fetch attempts, successful or not. */
  readonly fetches: number;
  readonly failures: number;
  /** Fetches caused by an unknown `kid`. */
  readonly unknownKidFetches: number;
  /** Unknown-`kid` refetches that caused no fetch: refused by the cooldown, or joined one already in flight. */
  readonly throttled: number;
  readonly lastError: string | undefined;
}

const thumbprints = new WeakMap<Key, string>();

/**
 * The RFC 7638 SHA-256 thumbprint of a key, computed once per `Key` object: what identifies key material.
 *
 * @example
 * const { key } = verifyJWT(token);
 * keyThumbprint(key); // "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
 */
export function keyThumbprint(key: Key): string {
  let thumbprint = thumbprints.get(key);
  if (thumbprint === undefined) {
    thumbprint = key.thumbprint();
    thumbprints.set(key, thumbprint);
  }
  return thumbprint;
}

/** Reads `max-age` (minus `Age`) from a response; `no-store`/`no-cache` give 0. */
export function cacheLifetime(headers: Headers): number | undefined {
  const control = headers.get('cache-control');
  if (control === null) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i.test(control)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(control);
  if (match === null) return undefined;
  const age = Number(headers.get('age') ?? 0);
  return Math.max(0, Number(match[1]) - (Number.isFinite(age) ? age : 0)) * 1000;
}

/**
 * A cached remote JWKS usable as a `KeyResolver`.
 *
 * @example
 * const jwks = new RemoteJWKS({ uri: 'https://auth.example.com/.well-known/jwks.json' });
 * await jwks.load();
 * jwks.state().kids;
 */
export class RemoteJWKS implements KeyResolver {
  readonly #options: RemoteJWKSOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #cooldown: number;
  #uri: string | undefined;
  #keys: KeySet | undefined;
  /** RFC 7638 thumbprints of the keys in `#keys`. */
  #published = new Set<string>();
  #fetchedAt: number | undefined;
  #expiresAt: number | undefined;
  #lastAttemptAt = -Infinity;
  #lastFailed = false;
  #inFlight: Promise<void> | undefined;
  #fetches = 0;
  #failures = 0;
  #unknownKidFetches = 0;
  #throttled = 0;
  #lastError: string | undefined;
  /** Whether the set was dropped for being `maxStale` past its lifetime (and none was fetched since). */
  #expired = false;

  constructor(options: RemoteJWKSOptions) {
    if (typeof options.uri !== 'string' && typeof options.uri !== 'function') {
      throw new TypeError('RemoteJWKS: "uri" must be a URL or a function');
    }
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#cooldown = options.cooldown ?? 30_000;
    if (typeof options.uri === 'string') this.#uri = new URL(options.uri).href;
  }

  /** Picks the key for a token from the cached set (KeyResolver). */
  select(alg: Algorithm, kid: string | undefined): Key {
    if (this.#keys === undefined) throw this.#unavailable();
    return this.#keys.select(alg, kid);
  }

  /**
   * Whether the current set still holds `key` (by RFC 7638 thumbprint). A check that waited on the thread pool asks
   * this before its result counts: a refresh may have withdrawn the key meanwhile.
   */
  publishes(key: Key): boolean {
    return this.#published.has(keyThumbprint(key));
  }

  /** Fetches now (single flight). Rejects with a `VerifyError` when nothing could ever be loaded. */
  async load(): Promise<void> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    await this.#inFlight;
  }

  /**
   * Makes sure a set is loaded and starts a background refresh when it has expired. Fails only when no set was
   * ever loaded and the issuer cannot be reached.
   */
  async ensure(): Promise<void> {
    if (this.usable()) return;
    const now = this.#clock();
    if (this.#inFlight === undefined && this.#lastFailed && now - this.#lastAttemptAt < this.#cooldown) {
      throw this.#unavailable();
    }
    await this.load().catch(() => undefined);
    if (this.#keys === undefined) throw this.#unavailable();
  }

  /**
   * Whether a set is loaded, starting a background refresh when it has expired: the synchronous half of `ensure`,
   * so a verification with keys at hand never waits for a promise. A set more than `maxStale` past its lifetime is
   * dropped here (false: the caller waits for a fetch). Never throws.
   */
  usable(): boolean {
    if (this.#keys === undefined) return false;
    const expiresAt = this.#expiresAt;
    if (expiresAt !== undefined) {
      const now = this.#clock();
      if (now >= expiresAt) {
        if (now - expiresAt >= (this.#options.maxStale ?? 3_600_000)) {
          this.#expire();
          return false;
        }
        if (
          this.#inFlight === undefined &&
          !(this.#lastFailed && now - this.#lastAttemptAt < this.#cooldown)
        ) {
          void this.load().catch(() => undefined);
        }
      }
    }
    return true;
  }

  /**
   * Drops a set that could not be confirmed for `maxStale` past its lifetime: its keys stop verifying (their cached
   * verifications are evicted) until a fetch succeeds, so a key the issuer withdrew meanwhile is trusted for a
   * bounded time only.
   */
  #expire(): void {
    const dropped = [...this.#published];
    this.#keys = undefined;
    this.#published = new Set();
    this.#expired = true;
    this.#logger.warn(
      'the issuer key set is more than jwks.maxStale past its lifetime and could not be refreshed; it no longer ' +
        'verifies tokens until the JWKS answers',
      { uri: this.#uri, expiredAt: this.#expiresAt, lastError: this.#lastError },
    );
    if (dropped.length > 0) this.#options.onKeysRemoved?.(dropped);
  }

  /** 503: no set is loaded — none could be fetched yet (`jwks`), or the last one went `maxStale` (`stale`). */
  #unavailable(): VerifyError {
    return new VerifyError(
      'ERR_VERIFY_KEYS_UNAVAILABLE',
      this.#expired
        ? 'the issuer keys could not be refreshed for too long; retry shortly'
        : 'the issuer keys are not available',
      { reason: this.#expired ? 'stale' : 'jwks' },
    );
  }

  /**
   * A token named a `kid` (or `alg`) the set cannot serve: refetch, unless a fetch happened within the cooldown.
   * Returns true when a new set was fetched and the caller should retry once.
   */
  async refreshForUnknownKid(): Promise<boolean> {
    if (this.#inFlight !== undefined) {
      this.#throttled += 1;
      await this.#inFlight.catch(() => undefined);
      return true;
    }
    if (this.#clock() - this.#lastAttemptAt < this.#cooldown) {
      this.#throttled += 1;
      return false;
    }
    this.#unknownKidFetches += 1;
    await this.load().catch(() => undefined);
    return !this.#lastFailed;
  }

  /** The cache's current state, for `stats()` and health checks. */
  state(): JWKSState {
    const now = this.#clock();
    return {
      uri: this.#uri,
      kids: this.#keys === undefined ? [] : this.#keys.keys.map((key) => key.kid),
      fetchedAt: this.#fetchedAt,
      expiresAt: this.#expiresAt,
      stale: this.#expiresAt === undefined || now >= this.#expiresAt,
      fetches: this.#fetches,
      failures: this.#failures,
      unknownKidFetches: this.#unknownKidFetches,
      throttled: this.#throttled,
      lastError: this.#lastError,
    };
  }

  async #fetch(): Promise<void> {
    this.#lastAttemptAt = this.#clock();
    this.#fetches += 1;
    try {
      if (this.#uri === undefined) {
        const find = this.#options.uri as () => Promise<string>;
        this.#uri = new URL(await find()).href;
      }
      const uri = this.#uri;
      const doc = await untilClosed(this.#options.closed, async (signal) => {
        const response = await fetchOk(this.#options.fetch ?? fetch, uri, {
          headers: { accept: 'application/jwk-set+json, application/json' },
          timeoutMs: this.#options.timeoutMs ?? 5000,
          ...(signal === undefined ? {} : { signal }),
        });
        return { response, body: await readJSONObject(response, uri, { requireJSONType: true }) };
      });
      const response = doc.response;
      const keys = KeySet.fromJWKS(doc.body);
      const previous = this.#keys;
      // An empty set (or one of keys we cannot use) is the issuer's answer, not a failure: it publishes no key we
      // can verify with — every key withdrawn, a compromised one say — so the keys it no longer publishes stop now,
      // as when a set lacks a kid, instead of the last set serving on with no time limit.
      if (keys.keys.length === 0 && (previous === undefined || previous.keys.length > 0)) {
        this.#logger.warn(
          'the issuer publishes no usable signing key; every token is refused until it does',
          { uri, skipped: keys.skipped },
        );
      }
      const current = new Set(keys.keys.map(keyThumbprint));
      this.#keys = keys;
      this.#published = current;
      const now = this.#clock();
      const lifetime = cacheLifetime(response.headers) ?? this.#options.defaultCacheAge ?? 600_000;
      const bounded = Math.min(
        Math.max(lifetime, this.#options.minCacheAge ?? 30_000),
        this.#options.maxCacheAge ?? 86_400_000,
      );
      this.#fetchedAt = now;
      this.#expiresAt = now + bounded;
      this.#expired = false;
      this.#lastFailed = false;
      this.#lastError = undefined;
      if (previous !== undefined) {
        const removed = previous.keys.map(keyThumbprint).filter((thumbprint) => !current.has(thumbprint));
        if (removed.length > 0) this.#options.onKeysRemoved?.(removed);
      }
    } catch (err) {
      // Ended by the owner's close(): not a failure of the issuer.
      if (this.#options.closed?.aborted === true) throw err;
      this.#failures += 1;
      this.#lastFailed = true;
      this.#lastError = describeError(err);
      this.#logger.warn(
        this.#keys === undefined
          ? 'jwks fetch failed; no keys loaded yet'
          : 'jwks fetch failed; serving the last good key set',
        { uri: this.#uri, error: this.#lastError },
      );
      throw err;
    }
  }
}
