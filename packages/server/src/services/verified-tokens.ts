/**
 * The bounded cache of access tokens `TokenService.verify` has verified, least recently used dropped first
 * (`RecencyMap`: a token presented over and over is not moved on every hit), keyed on the whole token text. A hit is served only while the token is unexpired by the verifier's own rule (`exp` against
 * now minus the clock tolerance) and while the key ring still selects, for its `alg` and `kid`, the very key object
 * that verified it: a key retired, removed or replaced under the same `kid` turns every token it verified into a
 * miss. The claims it hands out are frozen.
 */
import type { UserAccessTokenClaims } from '@jot/contract';
import type { Key } from '@jot/jose';
import { RecencyMap } from '@jot/verify';

import type { KeyManager } from '../keys/types.js';

/** A verified token as the cache keeps it. */
export interface VerifiedToken {
  readonly claims: UserAccessTokenClaims;
  readonly alg: string;
  readonly kid: string | undefined;
  /** The key object that verified the signature; a hit needs the key ring to select this same object. */
  readonly key: Key;
}

/** The cache of verified tokens. */
export interface VerifiedTokens {
  /** The claims of `token` if it was verified before and may still be served at `now` (epoch ms). */
  get(token: string, now: number): UserAccessTokenClaims | undefined;
  /** Remembers a token just verified (freezing its claims); a no-op when the cache size is 0. */
  put(token: string, verified: VerifiedToken): void;
  /** Forgets every token (the key ring's algorithms changed). */
  clear(): void;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A cache of at most `size` tokens over the key ring that verified them. */
export function createVerifiedTokens(
  keys: KeyManager,
  size: number,
  toleranceSeconds: number,
): VerifiedTokens {
  const verified = size > 0 ? new RecencyMap<string, VerifiedToken>(size) : undefined;

  /** Whether the key ring still selects, for the token's `alg` and `kid`, the key object that verified it. */
  function stillSelects(entry: VerifiedToken): boolean {
    try {
      return keys.select(entry.alg as Parameters<KeyManager['select']>[0], entry.kid) === entry.key;
    } catch {
      return false;
    }
  }

  return {
    get(token, now) {
      const hit = verified?.get(token);
      if (hit === undefined) return undefined;
      if (hit.claims.exp > Math.floor(now / 1000) - toleranceSeconds && stillSelects(hit)) return hit.claims;
      verified?.delete(token);
      return undefined;
    },
    put(token, entry) {
      verified?.set(token, { ...entry, claims: deepFreeze(entry.claims) });
    },
    clear: () => verified?.clear(),
  };
}
