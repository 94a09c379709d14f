/**
 * The signing-key service: keys live in the store with their private halves sealed under the KEK; this module
 * loads and decrypts them, derives the active key from the stored times on every call (so instances agree without
 * coordinating), rotates on a schedule with a pre-publication period, and publishes the JWKS.
 */
import { KeySet, generateKeyPair, generateSecret } from '@jot/jose';
import type { Algorithm, JWK, JWKS, Key } from '@jot/jose';

import type { Config } from '../config/index.js';
import type { Clock } from '../clock.js';
import type { SigningKeyRecord, Store } from '../store/index.js';
import { KeyError } from './errors.js';
import { createKek } from './kek.js';
import type { Kek } from './kek.js';
import { openSigningKey, publicJwkOf, sealSigningKey } from './sealed-key.js';
import { activeOf, compareAge, isPublished, isRotationDue, missingRetirements, stateOf } from './timeline.js';
import type { KeyManager } from './types.js';

/** The settings the key manager reads (a `Config` fits). */
export type KeyManagerConfig = Pick<
  Config,
  | 'kek'
  | 'signingAlg'
  | 'accessTokenTtlMs'
  | 'clockToleranceMs'
  | 'keyRotationIntervalMs'
  | 'keyPrepublishMs'
  | 'jwksMaxAgeMs'
>;

/** The logging the key manager does (a pino / Fastify logger fits). Key material is never passed. */
export interface KeyManagerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

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

interface LoadedKey extends SigningKeyRecord {
  key: Key;
  /** Undefined for HMAC secrets, which are never published. */
  jwk: JWK | undefined;
  /** The key that verifies: the public half, or the secret itself. */
  verifier: Key;
}

/** An instance that meets a kid it does not know re-reads the key ring at most this often. */
const UNKNOWN_KID_RELOAD_MS = 1_000;

const silent: KeyManagerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function newKey(alg: Algorithm): Key {
  return alg.startsWith('HS') ? generateSecret(alg as 'HS256' | 'HS384' | 'HS512') : generateKeyPair(alg);
}

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
  const marginMs = config.accessTokenTtlMs + config.clockToleranceMs;
  let keys: LoadedKey[] = [];
  let keySet: { id: string; set: KeySet } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  let unknownKidReload: Promise<boolean> | undefined;
  let lastUnknownKidReload = -Infinity;

  /** Runs store-mutating work one at a time within this instance. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  }

  /** Reads the key ring through `source` (the store, or the locked transaction changing it), reusing opened keys. */
  async function load(source: Store): Promise<LoadedKey[]> {
    const previous = new Map(keys.map((k) => [k.kid, k]));
    const records = await source.listSigningKeys();
    return records
      .map((record): LoadedKey => {
        const known = previous.get(record.kid);
        if (
          known !== undefined &&
          known.alg === record.alg &&
          known.privateKeyCiphertext === record.privateKeyCiphertext
        ) {
          return { ...record, key: known.key, jwk: known.jwk, verifier: known.verifier };
        }
        const key = openSigningKey(kek, record);
        return {
          ...record,
          key,
          jwk: key.type === 'secret' ? undefined : publicJwkOf(key),
          verifier: key.type === 'secret' ? key : key.publicKey(),
        };
      })
      .sort(compareAge);
  }

  /** Makes the committed ring the one this instance signs and verifies with. */
  async function reload(): Promise<void> {
    keys = await load(store);
  }

  async function applyRetirements(tx: Store, ring: LoadedKey[]): Promise<boolean> {
    const patches = missingRetirements(ring, marginMs);
    for (const patch of patches) {
      await tx.updateSigningKey(patch.kid, { retiredAt: patch.retiredAt, expiresAt: patch.expiresAt });
      logger.info(
        { kid: patch.kid, retiredAt: patch.retiredAt, expiresAt: patch.expiresAt },
        'signing key retirement scheduled',
      );
    }
    return patches.length > 0;
  }

  /** Creates a key inside the locked transaction `tx`; `ring` is the ring as `tx` sees it. */
  async function createKey(tx: Store, ring: LoadedKey[], immediate: boolean): Promise<string> {
    const now = clock();
    const newest = ring.at(-1);
    // Strictly after the newest key, so the age order is never decided by a random kid.
    const createdAt = newest === undefined ? now : Math.max(now, newest.createdAt + 1);
    const activatesAt = immediate ? now : now + config.keyPrepublishMs;
    const sealed = sealSigningKey(kek, newKey(config.signingAlg));
    await tx.insertSigningKey({ ...sealed, activatesAt }, createdAt);
    await applyRetirements(tx, await load(tx));
    logger.info({ kid: sealed.kid, alg: sealed.alg, activatesAt, immediate }, 'signing key created');
    return sealed.kid;
  }

  /**
   * Runs a change of the key ring under the database-wide key lock, so however many instances do it at once (a
   * cold start of all of them on an empty database) each decides on the ring as the previous one left it: one
   * first key, one rotation. Other instances are told on commit (LISTEN/NOTIFY) and re-read the ring.
   */
  async function locked<T>(
    work: (tx: Store, ring: LoadedKey[]) => Promise<{ changed: boolean; result: T }>,
  ): Promise<T> {
    // Nothing uncommitted is ever signed with: this instance adopts the ring only after the commit.
    const { result } = await store.withLock('lock:signing_keys', async (tx) => {
      const outcome = await work(tx, await load(tx));
      if (outcome.changed) await tx.notifyChange('keys');
      return outcome;
    });
    await reload();
    return result;
  }

  function published(now: number): LoadedKey[] {
    return keys.filter((k) => isPublished(k, now));
  }

  const manager: KeyManager = {
    activeKey() {
      const active = activeOf(keys, clock());
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
      const active = activeOf(keys, now);
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
    rotate(rotateOptions = {}) {
      return serial(async () => {
        const kid = await locked(async (tx, ring) => ({
          changed: true,
          result: await createKey(tx, ring, rotateOptions.immediate === true),
        }));
        const info = manager.list().find((k) => k.kid === kid);
        if (info === undefined) throw new Error('the new signing key vanished from the store');
        return info;
      });
    },
    tick() {
      return serial(async () => {
        if (closed) return;
        await locked(async (tx, ring) => {
          const now = clock();
          let changed = false;
          if (activeOf(ring, now) === undefined) {
            await createKey(tx, ring, true);
            changed = true;
          } else if (isRotationDue(ring, now, config.keyRotationIntervalMs, config.keyPrepublishMs)) {
            await createKey(tx, ring, false);
            changed = true;
          }
          if (!changed && (await applyRetirements(tx, ring))) changed = true;
          const deleted = await tx.deleteExpiredKeys(now);
          if (deleted.length > 0) logger.info({ kids: deleted }, 'expired signing keys deleted');
          return { changed: changed || deleted.length > 0, result: undefined };
        });
      });
    },
    refresh() {
      return serial(() => reload());
    },
    refreshForUnknownKid() {
      // Shared by every request that meets an unknown kid meanwhile, and at most once per UNKNOWN_KID_RELOAD_MS.
      const now = Date.now();
      if (unknownKidReload !== undefined) return unknownKidReload;
      if (now - lastUnknownKidReload < UNKNOWN_KID_RELOAD_MS) return Promise.resolve(false);
      lastUnknownKidReload = now;
      const before = keys.map((k) => `${k.kid}:${k.activatesAt}:${k.expiresAt}`).join(',');
      unknownKidReload = manager
        .refresh()
        .then(() => keys.map((k) => `${k.kid}:${k.activatesAt}:${k.expiresAt}`).join(',') !== before)
        .finally(() => {
          unknownKidReload = undefined;
        });
      return unknownKidReload;
    },
    close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };

  await manager.tick();
  const newest = keys.at(-1);
  if (newest !== undefined && newest.alg !== config.signingAlg) {
    logger.warn(
      { kid: newest.kid, alg: newest.alg, configured: config.signingAlg },
      'JOT_SIGNING_ALG takes effect at the next rotation (POST /api/admin/keys/rotate to rotate now)',
    );
  }
  const timer =
    tickIntervalMs > 0
      ? setInterval(() => {
          manager.tick().catch((err: unknown) => logger.error({ err }, 'signing key schedule failed'));
        }, tickIntervalMs)
      : undefined;
  timer?.unref();
  return manager;
}
