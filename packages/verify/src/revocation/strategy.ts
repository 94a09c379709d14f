/** The contract every revocation strategy (`none`, `replicated`, `strict`) implements for the verifier core. */
import type { AccessTokenClaims } from '../types.js';
import type { FeedEntry } from './state.js';

/** What a strategy reports in `stats().revocation`. */
export interface RevocationStats {
  readonly strategy: 'none' | 'replicated' | 'strict';
  /** True when decisions are being made without a current view of the list. */
  readonly stale: boolean;
  /** Milliseconds since the copy was last known current (replicated); 0 for the others. */
  readonly stalenessMs: number;
  /** Requests accepted although the view was stale or the central list unreachable (`failOpen`). */
  readonly failOpen: number;
  /** Requests refused because the view was stale or the central list unreachable. */
  readonly failClosed: number;
  /** Replicated: entries held by kind. */
  readonly entries?: { readonly jti: number; readonly sid: number; readonly user: number };
  /** Replicated: the last cursor seen. */
  readonly cursor?: string;
  /** Replicated: whether the SSE stream is connected. */
  readonly connected?: boolean;
  /** Replicated: stream connections made; strict: introspection calls. */
  readonly requests?: number;
  /** Failed fetches or stream connections. */
  readonly failures?: number;
  /** Replicated: snapshots loaded; revocation events applied. */
  readonly snapshots?: number;
  readonly events?: number;
  readonly lastError?: string;
  /**
   * Strict through Redis: the deployment whose completeness marker is trusted — `revocation.deployment` as given (one
   * id, or the list of ids trusted), or the one pinned from the first marker read (absent until then).
   */
  readonly deployment?: string | readonly string[];
}

/** A revocation strategy. Build one with `createVerifier({ revocation })`, or implement it for another store. */
export interface RevocationStrategy {
  /** Resolves once the strategy can answer (replicated: the first snapshot is loaded). */
  ready(): Promise<void>;
  /** Throws a `VerifyError` when the (already verified) token is revoked or revocation cannot be decided. */
  check(claims: AccessTokenClaims, token: string): void | Promise<void>;
  /** Revocations as they arrive (`'reset'` when the whole list is replaced), so caches can drop entries. */
  subscribe?(listener: (entry: FeedEntry | 'reset') => void): void;
  stats(): RevocationStats;
  close(): Promise<void>;
}

/** Only the token lifetime bounds a logout. */
export function noRevocation(): RevocationStrategy {
  return {
    ready: () => Promise.resolve(),
    check() {},
    stats: () => ({ strategy: 'none', stale: false, stalenessMs: 0, failOpen: 0, failClosed: 0 }),
    close: () => Promise.resolve(),
  };
}
