/**
 * The rotation timeline as pure functions of the stored times, so every server instance derives the same answer
 * from the same rows without coordinating: which key signs now, which are published, which rotation is due, and
 * which retirement times are missing after a rotation (also repairing two instances rotating at once).
 *
 *   key A  ──active──────────────┤ retired (published until its last token expires) ├─ gone
 *   key B        ├─ pending (published, not signing) ─┤──active────────────────────────────
 *                created                               activatesAt = A.retiredAt
 */
import type { SigningKeyInfo } from './types.js';

/** The times of a stored key (epoch ms), as in `SigningKeyRecord`. */
export interface KeyTimes {
  kid: string;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  expiresAt: number | null;
}

/** A retirement to write: stop signing at `retiredAt`, leave the JWKS at `expiresAt`. */
export interface RetirementPatch {
  kid: string;
  retiredAt: number;
  expiresAt: number;
}

/** Oldest first: by creation, then activation, then kid — a total order every instance agrees on. */
export function compareAge(a: KeyTimes, b: KeyTimes): number {
  return (
    a.createdAt - b.createdAt || a.activatesAt - b.activatesAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0)
  );
}

/** Still in the JWKS: not past `expiresAt`. */
export function isPublished(key: KeyTimes, now: number): boolean {
  return key.expiresAt === null || key.expiresAt > now;
}

/** The key that signs at `now`: the newest one activated and not retired. */
export function activeOf<T extends KeyTimes>(keys: readonly T[], now: number): T | undefined {
  let active: T | undefined;
  for (const key of keys) {
    if (key.activatesAt > now || (key.retiredAt !== null && key.retiredAt <= now) || !isPublished(key, now))
      continue;
    if (active === undefined || compareAge(key, active) > 0) active = key;
  }
  return active;
}

/** A key's state at `now`, given the active key. An activated key superseded by a newer one counts as retired. */
export function stateOf(key: KeyTimes, active: KeyTimes | undefined, now: number): SigningKeyInfo['state'] {
  if (active !== undefined && key.kid === active.kid) return 'active';
  if (key.retiredAt !== null && key.retiredAt <= now) return 'retired';
  return key.activatesAt > now ? 'pending' : 'retired';
}

/**
 * The retirements the rows imply but do not record yet: every key stops signing when a newer key activates, and
 * stays published `marginMs` longer (the longest lifetime of a token it signed, plus clock tolerance) so its tokens
 * still verify. A margin that grew since a retirement was written (a client registered with a longer
 * `access_token_ttl` while the key still signed) lengthens the stay of a key still published at `now`; it is never
 * shortened, and an expired key is never brought back. Idempotent: once written, the same rows yield no patches.
 */
export function missingRetirements(
  keys: readonly KeyTimes[],
  marginMs: number,
  now: number,
): RetirementPatch[] {
  const sorted = [...keys].sort(compareAge);
  const patches: RetirementPatch[] = [];
  let successorActivation = Infinity;
  for (let i = sorted.length - 1; i >= 0; i -= 1) {
    const key = sorted[i] as KeyTimes;
    if (successorActivation !== Infinity) {
      const retiredAt = Math.min(successorActivation, key.retiredAt ?? Infinity);
      const expiresAt = retiredAt + marginMs;
      const moved = key.retiredAt !== retiredAt || key.expiresAt === null;
      const lengthened = key.expiresAt !== null && key.expiresAt > now && key.expiresAt < expiresAt;
      if (moved || lengthened) patches.push({ kid: key.kid, retiredAt, expiresAt });
    }
    successorActivation = Math.min(successorActivation, key.activatesAt);
  }
  return patches.reverse();
}

/**
 * Whether the schedule should create a key now: none exists, or the newest one activated long enough ago that its
 * successor, published `prepublishMs` ahead, activates exactly one rotation interval after it.
 */
export function isRotationDue(
  keys: readonly KeyTimes[],
  now: number,
  intervalMs: number,
  prepublishMs: number,
): boolean {
  let newest: KeyTimes | undefined;
  for (const key of keys) if (newest === undefined || compareAge(key, newest) > 0) newest = key;
  return newest === undefined || newest.activatesAt + intervalMs - prepublishMs <= now;
}
