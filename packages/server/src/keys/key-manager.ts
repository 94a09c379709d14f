/**
 * The signing-key service: keys live in the store with their private halves sealed under the KEK; this module
 * loads and decrypts them, derives the active key from the stored times on every call (so instances agree without
 * coordinating), rotates on a schedule with a pre-publication period, and publishes the JWKS.
 */
import { KeySet, generateKeyPair, generateSecret } from '@jot/jose';
import type { Algorithm, JWK, JWKS, Key } from '@jot/jose';

import type { Config } from '../config/index.js';
import type { Clock } from '../context.js';
import type { SigningKeyRecord, Store } from '../store/index.js';
import { KeyError } from './errors.js';
import { createKek } from './kek.js';
import type { Kek } from './kek.js';
import { openSigningKey, publicJwkOf, sealSigningKey } from './sealed-key.js';
import { activeOf, compareAge, isPublished, isRotationDue, missingRetirements, stateOf } from './timeline.js';
import type { KeyManager, SigningKeyInfo } from './types.js';

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

  /** Runs store-mutating work one at a time within this instance. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  }

  async function reload(): Promise<void> {
    const previous = new Map(keys.map((k) => [k.kid, k]));
    const records = await store.listSigningKeys();
    keys = records
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

  async function applyRetirements(): Promise<void> {
    for (const patch of missingRetirements(keys, marginMs)) {
      await store.updateSigningKey(patch.kid, { retiredAt: patch.retiredAt, expiresAt: patch.expiresAt });
      logger.info(
        { kid: patch.kid, retiredAt: patch.retiredAt, expiresAt: patch.expiresAt },
        'signing key retirement scheduled',
      );
    }
  }

  async function createKey(immediate: boolean): Promise<SigningKeyInfo> {
    await reload();
    const now = clock();
    const newest = keys.at(-1);
    // Strictly after the newest key, so the age order is never decided by a random kid.
    const createdAt = newest === undefined ? now : Math.max(now, newest.createdAt + 1);
    const activatesAt = immediate ? now : now + config.keyPrepublishMs;
    const sealed = sealSigningKey(kek, newKey(config.signingAlg));
    await store.insertSigningKey({ ...sealed, activatesAt }, createdAt);
    await reload();
    await applyRetirements();
    await reload();
    logger.info({ kid: sealed.kid, alg: sealed.alg, activatesAt, immediate }, 'signing key created');
    const info = manager.list().find((k) => k.kid === sealed.kid);
    if (info === undefined) throw new Error('the new signing key vanished from the store');
    return info;
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
      return serial(() => createKey(rotateOptions.immediate === true));
    },
    tick() {
      return serial(async () => {
        if (closed) return;
        await reload();
        const now = clock();
        if (activeOf(keys, now) === undefined) await createKey(true);
        else if (isRotationDue(keys, now, config.keyRotationIntervalMs, config.keyPrepublishMs))
          await createKey(false);
        await applyRetirements();
        const deleted = await store.deleteExpiredKeys(now);
        if (deleted.length > 0) logger.info({ kids: deleted }, 'expired signing keys deleted');
        await reload();
      });
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
