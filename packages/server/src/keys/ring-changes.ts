/**
 * Changes to the stored key ring — a new key, scheduled retirements, expired or withdrawn keys deleted — made under the
 * database-wide key lock, so however many instances do it at once (a cold start of all of them on an empty
 * database) each decides on the ring as the previous one left it: one first key, one rotation. Other instances are
 * told on commit (LISTEN/NOTIFY) and re-read the ring; this one adopts it only after the commit, so nothing
 * uncommitted is ever signed with.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';
import type { Kek } from './kek.js';
import type { KeyRing, LoadedKey } from './key-ring.js';
import { newSigningKey } from './new-key.js';
import { sealSigningKey } from './sealed-key.js';
import { activeOf, isPublished, isRotationDue, missingRetirements } from './timeline.js';
import type { KeyManagerConfig, KeyManagerLogger } from './types.js';

/** What a withdrawal found: the key taken out, or why none was. */
export type RingWithdrawal =
  { outcome: 'withdrawn'; key: LoadedKey; at: number } | { outcome: 'active' | 'unknown'; kid: string };

/** The changes the key manager makes. */
export interface RingChanges {
  /** Creates a key (activating now when `immediate`) and resolves its kid. */
  rotate(immediate: boolean): Promise<string>;
  /** Withdraws a published key that does not sign now (`active` and `unknown` refuse, changing nothing). */
  withdraw(kid: string): Promise<RingWithdrawal>;
  /** Creates a key that signs at once and withdraws every key published before it, in one transaction. */
  rotateAndWithdraw(): Promise<{ kid: string; withdrawn: LoadedKey[]; at: number }>;
  /** The schedule's work: a first or next key when due, retirements, expired keys deleted. */
  tick(): Promise<void>;
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

/**
 * Deletes the rows of `withdrawn` inside the locked transaction `tx` — the schedule can neither lengthen their stay nor
 * bring them back, and every instance that re-reads the ring drops them — then recomputes the retirements of the keys
 * that still sign: a key due to hand over to a withdrawn pending key keeps signing until the next remaining key
 * activates.
 */
async function removeKeys(
  tx: Store,
  withdrawn: readonly LoadedKey[],
  now: number,
  deps: {
    ring: KeyRing;
    logger: KeyManagerLogger;
    applyRetirements: (tx: Store, keys: LoadedKey[]) => Promise<boolean>;
  },
): Promise<void> {
  const { ring } = deps;
  for (const { kid } of withdrawn) {
    await tx.updateSigningKey(kid, { expiresAt: now });
    deps.logger.warn({ kid }, 'signing key withdrawn');
  }
  await tx.deleteExpiredKeys(now);
  for (const key of await ring.load(tx)) {
    if (key.retiredAt !== null && key.retiredAt > now)
      await tx.updateSigningKey(key.kid, { retiredAt: null, expiresAt: null });
  }
  await deps.applyRetirements(tx, await ring.load(tx));
}

/** Which published key `kid` may be withdrawn at `now`, or why none may: the active key signs, a kid not published. */
function withdrawable(keys: LoadedKey[], kid: string, now: number): LoadedKey | 'active' | 'unknown' {
  const key = keys.find((k) => k.kid === kid && isPublished(k, now));
  if (key === undefined) return 'unknown';
  return activeOf(keys, now)?.kid === kid ? 'active' : key;
}

/** Runs `work` under the key lock, notifies the other instances of a change, then adopts the committed ring. */
function lockedWork(
  store: Store,
  ring: KeyRing,
): <T>(work: (tx: Store, keys: LoadedKey[]) => Promise<{ changed: boolean; result: T }>) => Promise<T> {
  return async (work) => {
    const { result } = await store.withLock('lock:signing_keys', async (tx) => {
      const outcome = await work(tx, await ring.load(tx));
      if (outcome.changed) await tx.notifyChange('keys');
      return outcome;
    });
    await ring.reload();
    return result;
  };
}

/** What {@link ringChanges} works with. */
interface RingChangeDeps {
  store: Store;
  ring: KeyRing;
  kek: Kek;
  config: KeyManagerConfig;
  clock: Clock;
  logger: KeyManagerLogger;
}

/** The changes over `ring`, writing through `store`. */
export function ringChanges(deps: RingChangeDeps): RingChanges {
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
    const sealed = sealSigningKey(kek, newSigningKey(config.signingAlg));
    await tx.insertSigningKey({ ...sealed, activatesAt }, createdAt);
    await applyRetirements(tx, await ring.load(tx));
    logger.info({ kid: sealed.kid, alg: sealed.alg, activatesAt, immediate }, 'signing key created');
    return sealed.kid;
  }

  const locked = lockedWork(store, ring);
  const removal = { ring, logger, applyRetirements };
  return {
    rotate: (immediate) =>
      locked(async (tx, keys) => ({ changed: true, result: await createKey(tx, keys, immediate) })),
    withdraw: (kid) =>
      locked(async (tx, keys): Promise<{ changed: boolean; result: RingWithdrawal }> => {
        const now = clock();
        const key = withdrawable(keys, kid, now);
        if (typeof key === 'string') return { changed: false, result: { outcome: key, kid } };
        await removeKeys(tx, [key], now, removal);
        return { changed: true, result: { outcome: 'withdrawn', key, at: now } };
      }),
    rotateAndWithdraw: () =>
      locked(async (tx, keys) => {
        const now = clock();
        const withdrawn = keys.filter((k) => isPublished(k, now));
        const kid = await createKey(tx, keys, true);
        await removeKeys(tx, withdrawn, now, removal);
        return { changed: true, result: { kid, withdrawn, at: now } };
      }),
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
