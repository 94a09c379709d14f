/**
 * The signing-key service: keys live in the store with their private halves sealed under the KEK; this module
 * loads and decrypts them, derives the active key from the stored times on every call (so instances agree without
 * coordinating), rotates on a schedule with a pre-publication period, and publishes the JWKS. The opened ring is
 * `key-ring.ts`; the locked changes to the stored ring are `ring-changes.ts`.
 */
import { KeySet } from '@jot/jose';
import type { Algorithm, JWK, JWKS } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import { KeyError } from './errors.js';
import { createKek } from './kek.js';
import type { Kek } from './kek.js';
import { createKeyRing, type KeyRing, type LoadedKey } from './key-ring.js';
import { ringChanges } from './ring-changes.js';
import { activeOf, isPublished, stateOf } from './timeline.js';
import type { KeyManager, KeyManagerConfig, KeyManagerLogger, WithdrawnKeyInfo } from './types.js';

export type { KeyManagerConfig, KeyManagerLogger } from './types.js';

/** Options of {@link createKeyManager}. */
export interface KeyManagerOptions {
  store: Store;
  config: KeyManagerConfig;
  /** Epoch-ms clock. @default Date.now */
  clock?: Clock;
  logger?: KeyManagerLogger;
  /** How often `tick()` runs on an unref'd timer; 0 disables the timer (tests call `tick()`). @default 60_000 */
  tickIntervalMs?: number;
}

/** An instance that meets a kid it does not know re-reads the key ring at most this often. */
const UNKNOWN_KID_RELOAD_MS = 1_000;

const silent: KeyManagerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function checkConfig(config: KeyManagerConfig): void {
  const { keyRotationIntervalMs: interval, keyPrepublishMs: prepublish } = config;
  for (const [name, value] of Object.entries({
    keyRotationIntervalMs: interval,
    keyPrepublishMs: prepublish,
    jwksMaxAgeMs: config.jwksMaxAgeMs,
    accessTokenTtlMs: config.accessTokenTtlMs,
    clockToleranceMs: config.clockToleranceMs,
  })) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new TypeError(`createKeyManager: ${name} must be a non-negative integer`);
  }
  if (interval <= prepublish)
    throw new TypeError('createKeyManager: keyRotationIntervalMs must exceed keyPrepublishMs');
}

/**
 * Loads (and decrypts) the stored signing keys, creates the first one when there is none, and starts the rotation
 * schedule.
 *
 * @throws {TypeError} for an invalid KEK or schedule (configuration bugs).
 * @throws {KeyError} `ERR_KEK_MISMATCH` when the stored keys were sealed under another `JOT_KEK`;
 *   `ERR_KEY_SEALED_INVALID` when a stored key is damaged.
 * @example
 * const keys = await createKeyManager({ store, config, logger: app.log });
 * const token = createSigner(keys.activeKey(), { issuer })({ sub });
 */
export async function createKeyManager(options: KeyManagerOptions): Promise<KeyManager> {
  const { store, config } = options;
  checkConfig(config);
  const kek: Kek = createKek(config.kek);
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silent;
  const tickIntervalMs = options.tickIntervalMs ?? 60_000;
  const ring = createKeyRing(store, kek);
  const changes = ringChanges({ store, ring, kek, config, clock, logger });
  const serial = serialQueue();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const manager: KeyManager = {
    ...ringView(ring, clock, config, tickIntervalMs),
    rotate(rotateOptions = {}) {
      return serial(async () => {
        const kid = await changes.rotate(rotateOptions.immediate === true);
        const info = manager.list().find((k) => k.kid === kid);
        if (info === undefined) throw new Error('the new signing key vanished from the store');
        return info;
      });
    },
    withdraw(kid) {
      return serial(async () => {
        const found = await changes.withdraw(kid);
        if (found.outcome !== 'withdrawn') return found;
        return { outcome: 'withdrawn', ...withdrawnInfo(found.key, found.at) };
      });
    },
    rotateAndWithdraw() {
      return serial(async () => {
        const { kid, withdrawn, at } = await changes.rotateAndWithdraw();
        const key = manager.list().find((k) => k.kid === kid);
        if (key === undefined) throw new Error('the new signing key vanished from the store');
        return { key, withdrawn: withdrawn.map((k) => withdrawnInfo(k, at)) };
      });
    },
    tick() {
      return serial(async () => {
        if (closed) return;
        await changes.tick();
      });
    },
    // Not queued behind `tick`/`rotate`: those may wait on the key lock, and a read of the committed ring needs none.
    refresh: () => ring.reload(),
    refreshForUnknownKid: unknownKidRefresher(ring, () => manager.refresh()),
    close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };

  await manager.tick();
  warnOfPendingAlgorithm(ring, config, logger);
  if (tickIntervalMs > 0) {
    timer = setInterval(() => {
      manager.tick().catch((err: unknown) => logger.error({ err }, 'signing key schedule failed'));
    }, tickIntervalMs);
    timer.unref();
  }
  return manager;
}

/** What may be said of a withdrawn key (never key material). */
function withdrawnInfo(key: LoadedKey, at: number): WithdrawnKeyInfo {
  return { kid: key.kid, alg: key.alg as Algorithm, withdrawnAt: at };
}

/** Runs store-mutating work one at a time within this instance. */
function serialQueue(): <T>(work: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };
}

/** What the manager shows of the ring: the active key, the verification keys, the JWKS and the key list. */
function ringView(
  ring: KeyRing,
  clock: Clock,
  config: KeyManagerConfig,
  tickIntervalMs: number,
): Pick<KeyManager, 'activeKey' | 'select' | 'jwks' | 'jwksMaxAgeSeconds' | 'list'> {
  let keySet: { id: string; set: KeySet } | undefined;
  const published = (now: number): LoadedKey[] => ring.current().filter((k) => isPublished(k, now));
  return {
    activeKey() {
      const active = activeOf(ring.current(), clock());
      if (active === undefined) throw new KeyError('ERR_KEY_NO_ACTIVE', 'no signing key is active');
      return active.key;
    },
    select(alg, kid) {
      const live = published(clock());
      const id = live.map((k) => k.kid).join(',');
      if (keySet?.id !== id) keySet = { id, set: new KeySet(live.map((k) => k.verifier)) };
      return keySet.set.select(alg, kid);
    },
    jwks(): JWKS {
      const jwks: JWK[] = [];
      for (const k of published(clock()).reverse()) if (k.jwk !== undefined) jwks.push({ ...k.jwk });
      return { keys: jwks };
    },
    jwksMaxAgeSeconds() {
      // A cache filled just before another instance's new key reached it must expire before that key signs.
      const bound = Math.min(config.jwksMaxAgeMs, config.keyPrepublishMs - tickIntervalMs);
      return Math.max(0, Math.floor(bound / 1000));
    },
    list() {
      const now = clock();
      const active = activeOf(ring.current(), now);
      return published(now)
        .reverse()
        .map((k) => ({
          kid: k.kid,
          alg: k.alg as Algorithm,
          state: stateOf(k, active, now),
          createdAt: k.createdAt,
          activatesAt: k.activatesAt,
          retiredAt: k.retiredAt,
          expiresAt: k.expiresAt,
        }));
    },
  };
}

/**
 * `refreshForUnknownKid`: shared by every request that meets an unknown kid meanwhile, and at most once per
 * UNKNOWN_KID_RELOAD_MS; resolves whether the ring changed.
 */
function unknownKidRefresher(ring: KeyRing, refresh: () => Promise<void>): () => Promise<boolean> {
  let pending: Promise<boolean> | undefined;
  let last = -Infinity;
  const fingerprint = (): string =>
    ring
      .current()
      .map((k) => `${k.kid}:${k.activatesAt}:${k.expiresAt}`)
      .join(',');
  return () => {
    const now = Date.now();
    if (pending !== undefined) return pending;
    if (now - last < UNKNOWN_KID_RELOAD_MS) return Promise.resolve(false);
    last = now;
    const before = fingerprint();
    pending = refresh()
      .then(() => fingerprint() !== before)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** Says so when the newest key's algorithm is not the configured one (it changes at the next rotation). */
function warnOfPendingAlgorithm(ring: KeyRing, config: KeyManagerConfig, logger: KeyManagerLogger): void {
  const newest = ring.current().at(-1);
  if (newest !== undefined && newest.alg !== config.signingAlg) {
    logger.warn(
      { kid: newest.kid, alg: newest.alg, configured: config.signingAlg },
      'JOT_SIGNING_ALG takes effect at the next rotation (POST /api/admin/keys/rotate to rotate now)',
    );
  }
}
