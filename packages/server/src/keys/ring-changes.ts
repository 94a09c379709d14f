/**
 * Changes to the stored key ring — a new key, scheduled retirements, expired keys deleted — made under the
 * database-wide key lock, so however many instances do it at once (a cold start of all of them on an empty
 * database) each decides on the ring as the previous one left it: one first key, one rotation. Other instances are
 * told on commit (LISTEN/NOTIFY) and re-read the ring; this one adopts it only after the commit, so nothing
 * uncommitted is ever signed with.
 */
import { generateKeyPair, generateSecret, type Algorithm, type Key } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import type { Kek } from './kek.js';
import type { KeyRing, LoadedKey } from './key-ring.js';
import { sealSigningKey } from './sealed-key.js';
import { activeOf, isRotationDue, missingRetirements } from './timeline.js';
import type { KeyManagerConfig, KeyManagerLogger } from './types.js';

/** The two changes the key manager makes. */
export interface RingChanges {
  /** Creates a key (activating now when `immediate`) and resolves its kid. */
  rotate(immediate: boolean): Promise<string>;
  /** The schedule's work: a first or next key when due, retirements, expired keys deleted. */
  tick(): Promise<void>;
}

function newKey(alg: Algorithm): Key {
  return alg.startsWith('HS') ? generateSecret(alg as 'HS256' | 'HS384' | 'HS512') : generateKeyPair(alg);
}

/** Writes the retirement times the ring implies but does not record yet (`missingRetirements`); resolves whether any. */
async function scheduleRetirements(
  tx: Store,
  keys: LoadedKey[],
  marginMs: number,
  now: number,
  logger: KeyManagerLogger,
): Promise<boolean> {
  const patches = missingRetirements(keys, marginMs, now);
  for (const patch of patches) {
    await tx.updateSigningKey(patch.kid, { retiredAt: patch.retiredAt, expiresAt: patch.expiresAt });
    logger.info(
      { kid: patch.kid, retiredAt: patch.retiredAt, expiresAt: patch.expiresAt },
      'signing key retirement scheduled',
    );
  }
  return patches.length > 0;
}

/**
 * How long after its retirement a key may still have to verify a token it signed: the longest lifetime of any token
 * the ring signs — user access tokens, MFA tokens, exchanged tokens, and each client's own `access_token_ttl` (up to
 * a day), read inside the key lock — plus the clock tolerance.
 */
async function longestTokenLifetimeMs(tx: Store, config: KeyManagerConfig): Promise<number> {
  const lifetimes = [config.accessTokenTtlMs, config.mfaTokenTtlMs ?? 0, config.exchangedTokenTtlMs ?? 0];
  return Math.max(...lifetimes, await tx.longestClientTokenTtlMs()) + config.clockToleranceMs;
}

/** The changes over `ring`, writing through `store`. */
export function ringChanges(deps: {
  store: Store;
  ring: KeyRing;
  kek: Kek;
  config: KeyManagerConfig;
  clock: Clock;
  logger: KeyManagerLogger;
}): RingChanges {
  const { store, ring, kek, config, clock, logger } = deps;
  const applyRetirements = async (tx: Store, keys: LoadedKey[]): Promise<boolean> =>
    scheduleRetirements(tx, keys, await longestTokenLifetimeMs(tx, config), clock(), logger);

  /** Creates a key inside the locked transaction `tx`; `keys` is the ring as `tx` sees it. */
  async function createKey(tx: Store, keys: LoadedKey[], immediate: boolean): Promise<string> {
    const now = clock();
    const newest = keys.at(-1);
    // Strictly after the newest key, so the age order is never decided by a random kid.
    const createdAt = newest === undefined ? now : Math.max(now, newest.createdAt + 1);
    const activatesAt = immediate ? now : now + config.keyPrepublishMs;
    const sealed = sealSigningKey(kek, newKey(config.signingAlg));
    await tx.insertSigningKey({ ...sealed, activatesAt }, createdAt);
    await applyRetirements(tx, await ring.load(tx));
    logger.info({ kid: sealed.kid, alg: sealed.alg, activatesAt, immediate }, 'signing key created');
    return sealed.kid;
  }

  /** Runs `work` under the key lock, notifies the other instances of a change, then adopts the committed ring. */
  async function locked<T>(
    work: (tx: Store, keys: LoadedKey[]) => Promise<{ changed: boolean; result: T }>,
  ): Promise<T> {
    const { result } = await store.withLock('lock:signing_keys', async (tx) => {
      const outcome = await work(tx, await ring.load(tx));
      if (outcome.changed) await tx.notifyChange('keys');
      return outcome;
    });
    await ring.reload();
    return result;
  }

  return {
    rotate: (immediate) =>
      locked(async (tx, keys) => ({ changed: true, result: await createKey(tx, keys, immediate) })),
    tick: () =>
      locked(async (tx, keys) => {
        const now = clock();
        let changed = false;
        if (activeOf(keys, now) === undefined) {
          await createKey(tx, keys, true);
          changed = true;
        } else if (isRotationDue(keys, now, config.keyRotationIntervalMs, config.keyPrepublishMs)) {
          await createKey(tx, keys, false);
          changed = true;
        }
        if (!changed && (await applyRetirements(tx, keys))) changed = true;
        const deleted = await tx.deleteExpiredKeys(now);
        if (deleted.length > 0) logger.info({ kids: deleted }, 'expired signing keys deleted');
        return { changed: changed || deleted.length > 0, result: undefined };
      }),
  };
}
